// SPDX-License-Identifier: MIT
// What libical 3.0.16 gets wrong, silently — pinned here so an upgrade that changes it is noticed,
// each next to the compiler's answer that compensates it. If one of the "libical still…" checks
// fails after an upgrade, the workaround in ical/ may now be unnecessary (or wrong): look again.
#include <ical/compile.hpp>
#include <ical/recurrence.hpp>
#include <ical/zone.hpp>

#include <libical/ical.h>

#include <gtest/gtest.h>

namespace concierge::ical {
namespace {

UtcSeconds at(const char* iso) {
  UtcSeconds t = 0;
  EXPECT_TRUE(parse_iso_instant(iso, t)) << iso;
  return t;
}

struct Freer {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, Freer>;

Component parse(const std::string& text) {
  icalerror_set_errors_are_fatal(0);
  return Component(icalparser_parse_string(text.c_str()));
}

const std::string kHead = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n";
const std::string kTail = "END:VCALENDAR\r\n";

// What Concierge makes of `body` through libical — the reader whose quirks these tests pin (the
// fast text reader would otherwise take plain calendars and libical would never be asked) —
// and the same through the text reader, which must agree.
Schedule ours(const std::string& body, const std::string& zone = "Europe/Berlin") {
  CompileRequest r;
  r.calendar = kHead + body + kTail;
  r.zone = zone;
  r.window_from = at("2026-03-01T00:00:00Z");
  r.window_to = at("2026-11-30T00:00:00Z");
  r.limits.text_reader = false;
  auto through_libical = compile(r);
  EXPECT_TRUE(through_libical.ok()) << through_libical.error();
  r.limits.text_reader = true;
  auto through_text = compile(r);
  if (through_libical.ok() && through_text.ok()) {
    EXPECT_EQ(through_libical.value(), through_text.value()) << "the two readers disagree";
  }
  return through_libical.ok() ? through_libical.value() : Schedule();
}

std::vector<time_t> libical_occurrences(icalcomponent* event) {
  std::vector<time_t> out;
  icalcomponent_foreach_recurrence(
      event, icaltime_from_timet_with_zone(0, 0, icaltimezone_get_utc_timezone()),
      icaltime_from_timet_with_zone(4102444800, 0, icaltimezone_get_utc_timezone()),
      [](icalcomponent*, icaltime_span* s, void* data) {
        static_cast<std::vector<time_t>*>(data)->push_back(s->start);
      },
      &out);
  return out;
}

TEST(LibicalQuirks, AllDayDatesBecomeUtcMidnight) {
  EXPECT_EQ(icaltime_as_timet(icaltime_from_string("20260401")), at("2026-04-01T00:00:00Z"));
  const Schedule s = ours(
      "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20260401\r\n"
      "CATEGORIES:VACATION\r\nEND:VEVENT\r\n",
      "America/New_York");
  EXPECT_EQ(s.status_at(at("2026-04-01T02:00:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-04-01T04:00:00Z")), Status::away);  // New York midnight
}

TEST(LibicalQuirks, RdatePeriodIsIgnoredByItsRecurrenceWalk) {
  const std::string event =
      "BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260401T080000Z\r\nDTEND:20260401T090000Z\r\n"
      "RDATE;VALUE=PERIOD:20260402T080000Z/20260402T120000Z\r\nEND:VEVENT\r\n";
  Component c = parse(kHead + event + kTail);
  ASSERT_TRUE(c);
  const auto occ =
      libical_occurrences(icalcomponent_get_first_component(c.get(), ICAL_VEVENT_COMPONENT));
  EXPECT_EQ(occ.size(), 1u);  // libical still skips the PERIOD
  const Schedule s = ours(event);
  EXPECT_EQ(s.status_at(at("2026-04-02T11:00:00Z")), Status::working);
}

TEST(LibicalQuirks, RecurrenceIdOverridesAreNotApplied) {
  const std::string events =
      "BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260401T080000Z\r\nDTEND:20260401T090000Z\r\n"
      "RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:1\r\nRECURRENCE-ID:20260402T080000Z\r\nDTSTART:20260402T140000Z\r\n"
      "DTEND:20260402T150000Z\r\nEND:VEVENT\r\n";
  Component c = parse(kHead + events + kTail);
  ASSERT_TRUE(c);
  const auto occ =
      libical_occurrences(icalcomponent_get_first_component(c.get(), ICAL_VEVENT_COMPONENT));
  ASSERT_EQ(occ.size(), 3u);
  EXPECT_EQ(occ[1], at("2026-04-02T08:00:00Z"));  // libical still yields the replaced slot
  const Schedule s = ours(events);
  EXPECT_EQ(s.status_at(at("2026-04-02T08:30:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-04-02T14:30:00Z")), Status::working);
}

TEST(LibicalQuirks, UnknownTzidsSilentlyBecomeFloating) {
  Component c =
      parse(kHead +
            "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=W. Europe Standard Time:20260401T090000\r\n"
            "END:VEVENT\r\n" +
            kTail);
  ASSERT_TRUE(c);
  const icaltimetype t =
      icalcomponent_get_dtstart(icalcomponent_get_first_component(c.get(), ICAL_VEVENT_COMPONENT));
  EXPECT_EQ(t.zone, nullptr);  // libical still drops the zone
  const Schedule s = ours(
      "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=W. Europe Standard Time:20260401T090000\r\n"
      "DURATION:PT1H\r\nEND:VEVENT\r\n",
      "UTC");
  EXPECT_EQ(s.status_at(at("2026-04-01T07:30:00Z")), Status::working);  // via ICU's Windows map
}

TEST(LibicalQuirks, TruncatedInputIsNullWithoutAnError) {
  icalerrno = ICAL_NO_ERROR;
  Component c = parse(kHead + "BEGIN:VEVENT\r\nUID:1\r\n");
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(icalerrno, ICAL_NO_ERROR);
  CompileRequest r;
  r.calendar = kHead + "BEGIN:VEVENT\r\nUID:1\r\n";
  r.window_to = 100;
  auto s = compile(r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("truncated"), std::string::npos);
}

TEST(LibicalQuirks, InvalidRruleIsDroppedSilently) {
  const std::string event =
      "BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Standup\r\nDTSTART:20260401T080000Z\r\n"
      "DURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=x\r\nEND:VEVENT\r\n";
  Component c = parse(kHead + event + kTail);
  ASSERT_TRUE(c);
  icalcomponent* e = icalcomponent_get_first_component(c.get(), ICAL_VEVENT_COMPONENT);
  EXPECT_EQ(icalcomponent_get_first_property(e, ICAL_RRULE_PROPERTY), nullptr);
  const Schedule s = ours(event);
  ASSERT_FALSE(s.warnings().empty());
  EXPECT_NE(s.warnings()[0].find("'Standup'"), std::string::npos);
}

TEST(LibicalQuirks, DstGapAndOverlapDifferFromRfc5545) {
  icaltimezone* berlin = icaltimezone_get_builtin_timezone("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  // libical: 02:30 in the spring gap → 00:30Z; RFC 5545 §3.3.5: the offset before the gap → 01:30Z.
  EXPECT_EQ(icaltime_as_timet_with_zone(icaltime_from_string("20260329T023000"), berlin),
            at("2026-03-29T00:30:00Z"));
  // libical: the repeated 02:30 in autumn → the second one; RFC: the first (00:30Z).
  EXPECT_EQ(icaltime_as_timet_with_zone(icaltime_from_string("20261025T023000"), berlin),
            at("2026-10-25T01:30:00Z"));
  const Schedule s = ours(
      "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=Europe/Berlin:20260329T023000\r\nDURATION:PT10M\r\n"
      "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:2\r\nDTSTART;TZID=Europe/Berlin:20261025T023000\r\n"
      "DURATION:PT10M\r\nEND:VEVENT\r\n");
  EXPECT_EQ(s.status_at(at("2026-03-29T01:35:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-10-25T00:35:00Z")), Status::working);
}

TEST(LibicalQuirks, ImpossibleRulesAreScreenedBeforeLibicalIterates) {
  // With FREQ=YEARLY libical notices (no iterator); with HOURLY or SECONDLY it searches forever,
  // so that case is only checked by the screen, never run here.
  icalrecurrencetype yearly = icalrecurrencetype_from_string("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30");
  EXPECT_EQ(icalrecur_iterator_new(yearly, icaltime_from_string("20260101T090000")), nullptr);
  for (const char* rule :
       {"FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SECONDLY", "FREQ=MINUTELY;INTERVAL=5",
        "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "FREQ=HOURLY;BYYEARDAY=366", "FREQ=HOURLY;BYDAY=1MO",
        "FREQ=WEEKLY;BYDAY=-1FR", "FREQ=HOURLY;BYMONTH=4,6;BYMONTHDAY=31"}) {
    icalrecurrencetype r = icalrecurrencetype_from_string(rule);
    EXPECT_TRUE(screen_rule(r).has_value()) << rule;
  }
  for (const char* rule : {"FREQ=WEEKLY;BYDAY=MO,TU", "FREQ=HOURLY;INTERVAL=8;BYDAY=MO",
                           "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=MONTHLY;BYDAY=-1FR"}) {
    icalrecurrencetype r = icalrecurrencetype_from_string(rule);
    EXPECT_FALSE(screen_rule(r).has_value()) << rule;
  }
}

TEST(LibicalQuirks, CountRulesCannotSkipAhead) {
  icalrecurrencetype r = icalrecurrencetype_from_string("FREQ=DAILY;COUNT=5");
  icalrecur_iterator* it = icalrecur_iterator_new(r, icaltime_from_string("20260101T090000"));
  ASSERT_NE(it, nullptr);
  EXPECT_EQ(icalrecur_iterator_set_start(it, icaltime_from_string("20260103T090000")), 0);
  icalrecur_iterator_free(it);
}

// The arithmetic fast path for plain DAILY/WEEKLY rules must agree with libical's iterator.
TEST(LibicalQuirks, FastPathAgreesWithLibicalIterator) {
  auto berlin = find_zone("Europe/Berlin");
  ASSERT_TRUE(berlin);
  const char* rules[] = {"FREQ=DAILY",
                         "FREQ=DAILY;INTERVAL=3",
                         "FREQ=DAILY;BYDAY=MO,WE,FR",
                         "FREQ=DAILY;COUNT=400",
                         "FREQ=WEEKLY",
                         "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
                         "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU,MO;WKST=SU",
                         "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=MO",
                         "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=300",
                         "FREQ=WEEKLY;INTERVAL=2;UNTIL=20260415T000000Z",
                         "FREQ=DAILY;UNTIL=20260410"};
  for (const char* text : rules) {
    for (const LocalSeconds start : {seconds_from_civil(2025, 1, 1, 9, 30, 0),      // Wednesday
                                     seconds_from_civil(2025, 6, 15, 22, 0, 0),     // Sunday
                                     seconds_from_civil(2026, 3, 29, 2, 30, 0)}) {  // DST gap
      icalrecurrencetype rule = icalrecurrencetype_from_string(text);
      EventShape shape;
      shape.start_local = start;
      shape.zone = berlin.get();
      shape.nominal_seconds = 3600;
      CompileLimits limits;
      std::size_t steps_fast = 1'000'000, steps_slow = 1'000'000;
      RecurrenceInput in;
      in.rules = {&rule};
      in.window_from = at("2026-03-01T00:00:00Z");
      in.window_to = at("2026-06-01T00:00:00Z");
      in.limits = &limits;
      in.steps_left = &steps_fast;
      const RecurrenceOutput fast = expand_recurrence(shape, in);
      in.fast_path = false;
      in.steps_left = &steps_slow;
      const RecurrenceOutput slow = expand_recurrence(shape, in);
      ASSERT_EQ(fast.spans.size(), slow.spans.size()) << text << " from " << format_local(start);
      for (std::size_t i = 0; i < fast.spans.size(); ++i) {
        EXPECT_EQ(fast.spans[i].from, slow.spans[i].from) << text << " #" << i;
        EXPECT_EQ(fast.spans[i].to, slow.spans[i].to) << text << " #" << i;
      }
    }
  }
}

}  // namespace
}  // namespace concierge::ical
