// SPDX-License-Identifier: MIT
// ScheduleCache: users whose schedule has the same source and no calendar share one compiled
// schedule object; anything that differs gets its own.
#include <component/app/schedule_cache.hpp>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

constexpr ical::UtcSeconds kNow = 1'790'000'000;

ical::CompileRequest hours_only(std::string zone, std::string hours = "Mon-Fri 09:00-17:00") {
  ical::CompileRequest r;
  r.zone = std::move(zone);
  r.hours = std::move(hours);
  return r;
}

std::shared_ptr<const ical::Schedule> compiled(ScheduleCache& cache, ical::CompileRequest r,
                                               ical::UtcSeconds now = kNow) {
  cache.set_window(r, now, 60);
  if (auto shared = cache.find(r)) return shared;
  auto result = ical::compile(r);
  EXPECT_TRUE(result.ok()) << result.error();
  return cache.add(r, std::move(result).value());
}

TEST(ScheduleCache, UsersWithTheSameZoneHoursAndKindGetTheSameScheduleObject) {
  ScheduleCache cache;
  auto alice = compiled(cache, hours_only("Europe/Berlin"));
  auto bob = compiled(cache, hours_only("Europe/Berlin"), kNow + 5);  // a moment later
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice.get(), bob.get());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ScheduleCache, ADifferentZoneHoursKindOrUnknownFillGetsItsOwnSchedule) {
  ScheduleCache cache;
  auto berlin = compiled(cache, hours_only("Europe/Berlin"));
  auto tokyo = compiled(cache, hours_only("Asia/Tokyo"));
  auto mornings = compiled(cache, hours_only("Europe/Berlin", "Mon-Fri 08:00-12:00"));
  auto personal_request = hours_only("Europe/Berlin");
  personal_request.kind = ical::CalendarKind::personal;
  auto personal = compiled(cache, personal_request);
  auto filled_request = hours_only("Europe/Berlin");
  filled_request.unknown_fill = ical::Status::working;
  auto filled = compiled(cache, filled_request);
  EXPECT_NE(berlin.get(), tokyo.get());
  EXPECT_EQ(tokyo->zone(), "Asia/Tokyo");
  EXPECT_NE(berlin.get(), mornings.get());
  EXPECT_NE(berlin.get(), personal.get());
  EXPECT_NE(berlin.get(), filled.get());
  EXPECT_EQ(cache.size(), 5u);
}

TEST(ScheduleCache, ACalendarIsNeverShared) {
  ScheduleCache cache;
  auto r = hours_only("Europe/Berlin");
  r.calendar = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nEND:VCALENDAR\r\n";
  auto first = compiled(cache, r);
  auto second = compiled(cache, r);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first.get(), second.get());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(compiled(cache, hours_only("Europe/Berlin")));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ScheduleCache, AnOldWindowIsReplacedAndCompiledAfresh) {
  ScheduleCache cache(std::chrono::hours(1));
  auto first = compiled(cache, hours_only("Europe/Berlin"));
  auto within = compiled(cache, hours_only("Europe/Berlin"), kNow + 3599);
  EXPECT_EQ(first.get(), within.get());
  EXPECT_EQ(within->window_from(), kNow - ical::kSecondsPerDay) << "the base's window";
  auto next = compiled(cache, hours_only("Europe/Berlin"), kNow + 3600);
  EXPECT_NE(first.get(), next.get());
  EXPECT_EQ(next->window_from(), kNow + 3600 - ical::kSecondsPerDay);
  EXPECT_EQ(cache.size(), 1u) << "the old window's entries are dropped";
}

}  // namespace
}  // namespace concierge::app
