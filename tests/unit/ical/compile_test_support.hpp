// SPDX-License-Identifier: MIT
#pragma once
// What the calendar compiler's tests share: instants from ISO text, calendars wrapped in a
// VCALENDAR, compiling with chosen options, and reading errors and warnings. Test-only, no state.
#include <ical/compile.hpp>

#include <gtest/gtest.h>

// Designated initializers of Options leave the other fields at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace concierge::ical::compile_test {

inline UtcSeconds at(const char* iso) {
  UtcSeconds t = 0;
  EXPECT_TRUE(parse_iso_instant(iso, t)) << iso;
  return t;
}

inline std::string calendar(const std::string& body, const std::string& header = "") {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + header + body +
         "END:VCALENDAR\r\n";
}

struct Options {
  std::string zone = "Europe/Berlin";
  CalendarKind kind = CalendarKind::work;
  std::string hours;
  const char* from = "2026-03-01T00:00:00Z";
  const char* to = "2026-06-01T00:00:00Z";
  std::optional<Status> unknown_fill;
};

inline Schedule build(const std::string& text, const Options& o = {}) {
  CompileRequest r;
  r.calendar = text;
  r.zone = o.zone;
  r.kind = o.kind;
  r.hours = o.hours;
  r.window_from = at(o.from);
  r.window_to = at(o.to);
  r.unknown_fill = o.unknown_fill;
  auto result = compile(r);
  EXPECT_TRUE(result.ok()) << result.error();
  if (!result.ok()) return Schedule();
  // Every fixture also goes through libical's parser alone: both readers must agree.
  r.limits.text_reader = false;
  auto slow = compile(r);
  EXPECT_TRUE(slow.ok());
  if (slow.ok()) {
    EXPECT_EQ(encode(Schedule(slow->zone(), slow->window_from(), slow->window_to(),
                              slow->changes_between(slow->window_from(), slow->window_to()),
                              slow->has_working(), {})),
              encode(Schedule(result->zone(), result->window_from(), result->window_to(),
                              result->changes_between(result->window_from(), result->window_to()),
                              result->has_working(), {})));
  }
  return result.value();
}

inline std::string compile_error(const std::string& text) {
  CompileRequest r;
  r.calendar = text;
  r.zone = "UTC";
  r.window_from = at("2026-03-01T00:00:00Z");
  r.window_to = at("2026-04-01T00:00:00Z");
  auto result = compile(r);
  return result.ok() ? std::string() : result.error();
}

inline bool has_warning(const Schedule& s, const std::string& part) {
  for (const auto& w : s.warnings()) {
    if (w.find(part) != std::string::npos) return true;
  }
  return false;
}

inline const std::string kEvent = "BEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n";

}  // namespace concierge::ical::compile_test
