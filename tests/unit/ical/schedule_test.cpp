// SPDX-License-Identifier: MIT
// The Schedule value, the weekly-hours grammar and the zone tables.
#include <ical/schedule.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

#include <gtest/gtest.h>

namespace concierge::ical {
namespace {

UtcSeconds at(const char* iso) {
  UtcSeconds t = 0;
  EXPECT_TRUE(parse_iso_instant(iso, t)) << iso;
  return t;
}

Schedule sample() {
  // off until 09:00, working until 12:00, busy 12–13, working 13–17, off
  return Schedule("UTC", at("2026-04-01T00:00:00Z"), at("2026-04-03T00:00:00Z"),
                  {{at("2026-04-01T09:00:00Z"), Status::working},
                   {at("2026-04-01T12:00:00Z"), Status::busy},
                   {at("2026-04-01T13:00:00Z"), Status::working},
                   {at("2026-04-01T17:00:00Z"), Status::off_hours},
                   {at("2026-04-01T22:00:00Z"), Status::away},
                   {at("2026-04-01T23:00:00Z"), Status::off_hours},
                   {at("2026-04-02T09:00:00Z"), Status::working}},
                  true, {});
}

TEST(Schedule, AnswersStatusAndNextChange) {
  const Schedule s = sample();
  EXPECT_EQ(s.status_at(at("2026-04-01T08:59:59Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-04-01T09:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-01T12:30:00Z")), Status::busy);
  EXPECT_EQ(s.next_change_after(at("2026-04-01T10:00:00Z")), at("2026-04-01T12:00:00Z"));
  EXPECT_EQ(s.next_change_after(at("2026-04-02T10:00:00Z")), std::nullopt);
  EXPECT_EQ(s.status_at(at("2026-05-01T10:00:00Z")), Status::off_hours);  // outside the window
  EXPECT_FALSE(s.covers(at("2026-05-01T10:00:00Z")));
}

TEST(Schedule, NextWorkingSkipsShortNonWorkingGaps) {
  const Schedule s = sample();
  // Off at 20:00, away 22–23 ("dinner"), then off: back at 09:00 next day, not at 23:00.
  EXPECT_EQ(s.next_working_after(at("2026-04-01T20:00:00Z")), at("2026-04-02T09:00:00Z"));
  EXPECT_EQ(s.next_working_after(at("2026-04-01T12:30:00Z")), at("2026-04-01T13:00:00Z"));
  EXPECT_EQ(s.next_working_after(at("2026-04-01T10:00:00Z")), at("2026-04-01T10:00:00Z"));
}

TEST(Schedule, MergesAdjacentEqualStatusesAndStaysSmall) {
  const Schedule s("UTC", 0, 100,
                   {{0, Status::working}, {10, Status::working}, {20, Status::off_hours}}, true,
                   {});
  EXPECT_EQ(s.interval_count(), 2u);
  EXPECT_EQ(s.next_change_after(5), 20);
  EXPECT_LT(s.memory_bytes(), 256u);
}

TEST(Schedule, EncodeDecodeRoundTrips) {
  const Schedule s = sample();
  auto back = decode(encode(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  std::string bytes = encode(s);
  bytes.pop_back();
  EXPECT_FALSE(decode(bytes).has_value());
  EXPECT_FALSE(decode("garbage").has_value());
}

TEST(WeeklyHours, ParsesTheDesignExample) {
  auto h = parse_hours("Mon-Fri 09:00-17:00; Sat 10:00-12:00, 14:00-16:00; Sun 22:00-06:00");
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_EQ(h->ranges.size(), 8u);
  EXPECT_EQ(h->ranges[0], (WeeklyHours::Range{0, 540, 1020}));
  EXPECT_EQ(h->ranges[5], (WeeklyHours::Range{5, 600, 720}));
  EXPECT_EQ(h->ranges[6], (WeeklyHours::Range{5, 840, 960}));
  EXPECT_EQ(h->ranges[7], (WeeklyHours::Range{6, 1320, 1800}));  // crosses midnight
}

TEST(WeeklyHours, AcceptsVariants) {
  EXPECT_TRUE(parse_hours("").ok());
  EXPECT_TRUE(parse_hours("  ").ok());
  EXPECT_TRUE(parse_hours("mon 00:00-24:00").ok());
  EXPECT_TRUE(parse_hours("Monday, Wed, Fri 9:00-12:30;").ok());
  auto wrap = parse_hours("Fri-Mon 10:00-11:00");
  ASSERT_TRUE(wrap.ok());
  EXPECT_EQ(wrap->ranges.size(), 4u);
}

TEST(WeeklyHours, RejectsWithAClearReason) {
  auto bad = parse_hours("Mox-Fri 09:00-17:00");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("expected a day name"), std::string::npos) << bad.error();
  EXPECT_FALSE(parse_hours("Mon 09:00").ok());
  EXPECT_FALSE(parse_hours("Mon 25:00-26:00").ok());
  EXPECT_FALSE(parse_hours("Mon 09:00-09:00").ok());
  EXPECT_FALSE(parse_hours("Mon 24:00-10:00").ok());
  EXPECT_FALSE(parse_hours("Mon 09:00-17:00 Tue").ok());
  EXPECT_FALSE(parse_hours("09:00-17:00").ok());
}

TEST(Zone, ResolvesIanaWindowsAndPrefixedNames) {
  EXPECT_TRUE(is_valid_zone("Europe/Berlin"));
  EXPECT_TRUE(is_valid_zone("UTC"));
  EXPECT_FALSE(is_valid_zone("Mars/Olympus"));
  EXPECT_FALSE(is_valid_zone(""));
  EXPECT_EQ(canonical_zone_name("W. Europe Standard Time"), "Europe/Berlin");
  EXPECT_EQ(canonical_zone_name("Eastern Standard Time"), "America/New_York");
  EXPECT_EQ(canonical_zone_name("/freeassociation.sourceforge.net/Tzfile/Europe/Berlin"),
            "Europe/Berlin");
}

TEST(Zone, FollowsRfc5545InGapsAndOverlaps) {
  auto berlin = find_zone("Europe/Berlin");
  ASSERT_TRUE(berlin);
  const auto local = [](int y, int mo, int d, int h, int mi) {
    return seconds_from_civil(y, mo, d, h, mi, 0);
  };
  EXPECT_EQ(berlin->to_utc(local(2026, 1, 15, 9, 0)), at("2026-01-15T08:00:00Z"));
  EXPECT_EQ(berlin->to_utc(local(2026, 7, 15, 9, 0)), at("2026-07-15T07:00:00Z"));
  // 02:30 does not exist on 2026-03-29: read with the offset before the gap → 03:30 CEST.
  EXPECT_EQ(berlin->to_utc(local(2026, 3, 29, 2, 30)), at("2026-03-29T01:30:00Z"));
  // 02:30 happens twice on 2026-10-25: the first one (CEST).
  EXPECT_EQ(berlin->to_utc(local(2026, 10, 25, 2, 30)), at("2026-10-25T00:30:00Z"));
  auto ny = find_zone("America/New_York");
  ASSERT_TRUE(ny);
  EXPECT_EQ(ny->to_utc(local(2026, 3, 8, 2, 30)), at("2026-03-08T07:30:00Z"));
  EXPECT_EQ(ny->to_utc(local(2026, 11, 1, 1, 30)), at("2026-11-01T05:30:00Z"));
  EXPECT_EQ(ny->offset_at(at("2026-11-01T06:00:00Z")), -5 * 3600);
}

TEST(Time, ParsesAndFormatsIsoInstants) {
  UtcSeconds t = 0;
  EXPECT_TRUE(parse_iso_instant("2026-03-29T01:30:00Z", t));
  EXPECT_EQ(format_utc_iso(t), "2026-03-29T01:30:00Z");
  EXPECT_TRUE(parse_iso_instant("2026-03-29T03:30:00+02:00", t));
  EXPECT_EQ(format_utc_iso(t), "2026-03-29T01:30:00Z");
  EXPECT_FALSE(parse_iso_instant("2026-02-30T01:30:00Z", t));
  EXPECT_FALSE(parse_iso_instant("2026-03-29T01:30:00", t));
  std::int64_t days = 0;
  EXPECT_TRUE(parse_iso_date("1969-12-31", days));
  EXPECT_EQ(days, -1);
  EXPECT_EQ(format_utc_iso(-1), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace concierge::ical
