// SPDX-License-Identifier: MIT
// What compile refuses and why, how long a result holds, how large it is, and the calendar's
// own refresh hint.
#include <tests/unit/ical/compile_test_support.hpp>

namespace concierge::ical {
namespace {

using namespace compile_test;

TEST(Errors, UnusableCalendarsGetAReason) {
  EXPECT_NE(compile_error("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\n").find("incomplete"),
            std::string::npos);
  EXPECT_NE(compile_error("hello world\r\n").find("not an iCalendar"), std::string::npos);
  EXPECT_NE(compile_error("BEGIN:VCARD\r\nEND:VCARD\r\n").find("not an iCalendar"),
            std::string::npos);
  std::string deep = "BEGIN:VCALENDAR\r\n";
  for (int i = 0; i < 20; ++i) deep += "BEGIN:X\r\n";
  EXPECT_NE(compile_error(deep).find("too deeply"), std::string::npos);
  CompileRequest big;
  big.calendar = calendar(std::string(100, 'X') + "\r\n");
  big.limits.max_bytes = 50;
  big.window_to = 10;
  auto r = compile(big);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("too large"), std::string::npos);
  CompileRequest bad_zone;
  bad_zone.zone = "Mars/Base";
  bad_zone.window_to = 10;
  EXPECT_FALSE(compile(bad_zone).ok());
}

TEST(Window, RecompileIsDueDailyAndOutsideTheWindow) {
  CompileRequest r;
  r.zone = "UTC";
  r.hours = "Mon-Fri 09:00-17:00";
  const UtcSeconds now = at("2026-04-01T12:00:00Z");
  set_window_around(r, now);
  auto s = compile(r);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->window_from(), now - kSecondsPerDay);
  EXPECT_EQ(s->window_to(), now + 60 * kSecondsPerDay);
}

TEST(Size, SixtyDaysOfATypicalScheduleIsSmall) {
  const Schedule s = build("", {.hours = "Mon-Fri 09:00-12:00, 13:00-17:00",
                                .from = "2026-04-01T00:00:00Z",
                                .to = "2026-05-31T00:00:00Z"});
  EXPECT_LT(s.memory_bytes(), 16u * 1024u);
}

TEST(CalendarRefreshHint, ReadsTheCalendarsOwnRefreshIntervalOrPublishedTtl) {
  const auto hint = [](const std::string& props, const std::string& body = "") {
    return calendar_refresh_hint("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + props + body +
                                 "END:VCALENDAR\r\n");
  };
  EXPECT_EQ(hint("REFRESH-INTERVAL;VALUE=DURATION:P1W\r\n"), 604'800);
  EXPECT_EQ(hint("X-PUBLISHED-TTL:PT6H\r\n"), 21'600);
  EXPECT_EQ(hint("x-published-ttl:P1DT30M\r\n"), 88'200) << "names in any case";
  EXPECT_EQ(hint("X-PUBLISHED-TTL:-PT1H\r\n"), std::nullopt) << "not positive";
  EXPECT_EQ(hint("X-PUBLISHED-TTL:soon\r\n"), std::nullopt);
  EXPECT_EQ(hint(""), std::nullopt);
  EXPECT_EQ(hint("", "BEGIN:VEVENT\r\nX-PUBLISHED-TTL:PT1H\r\nEND:VEVENT\r\n"), std::nullopt)
      << "only the calendar's own properties, not an event's";
}

}  // namespace
}  // namespace concierge::ical
