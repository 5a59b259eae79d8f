// SPDX-License-Identifier: MIT
// A calendar with one malformed component is read like calendar apps read it: the broken entry is
// skipped with a warning naming it, the rest counts. Truncated or non-iCalendar text stays refused.
#include <ical/compile.hpp>

#include <gtest/gtest.h>

namespace concierge::ical {
namespace {

UtcSeconds at(const char* iso) {
  UtcSeconds t = 0;
  EXPECT_TRUE(parse_iso_instant(iso, t)) << iso;
  return t;
}

std::string calendar(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n";
}

// Monday 2026-04-06 09:00-10:00 and Tuesday 2026-04-07 09:00-10:00 UTC, working time.
const std::string kMonday =
    "BEGIN:VEVENT\r\nUID:mon\r\nDTSTART:20260406T090000Z\r\nDTEND:20260406T100000Z\r\nEND:"
    "VEVENT\r\n";
const std::string kTuesday =
    "BEGIN:VEVENT\r\nUID:tue\r\nDTSTART:20260407T090000Z\r\nDTEND:20260407T100000Z\r\nEND:"
    "VEVENT\r\n";

// Compiled with both readers (text reader on and off); they must agree on every change and on
// the warnings.
Result<Schedule> compile_both(const std::string& text) {
  CompileRequest r;
  r.calendar = text;
  r.zone = "UTC";
  r.window_from = at("2026-04-01T00:00:00Z");
  r.window_to = at("2026-05-01T00:00:00Z");
  auto fast = compile(r);
  r.limits.text_reader = false;
  auto slow = compile(r);
  EXPECT_EQ(fast.ok(), slow.ok());
  if (fast.ok() && slow.ok()) {
    const auto a = fast->changes_between(fast->window_from(), fast->window_to());
    const auto b = slow->changes_between(slow->window_from(), slow->window_to());
    EXPECT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      EXPECT_EQ(a[i].at, b[i].at);
      EXPECT_EQ(a[i].status, b[i].status);
    }
    EXPECT_EQ(fast->warnings(), slow->warnings());
  }
  return fast;
}

std::string warnings(const Schedule& s) {
  std::string all;
  for (const auto& w : s.warnings()) all += w + "\n";
  return all;
}

void expect_both_events(const Schedule& s) {
  EXPECT_EQ(s.status_at(at("2026-04-06T09:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-07T09:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-07T10:30:00Z")), Status::off_hours);
}

TEST(BrokenComponents, TodoEndingWithATypoIsSkippedAndTheEventsCount) {
  auto s = compile_both(calendar(kMonday +
                                 "BEGIN:VTODO\r\nUID:todo-7\r\nSUMMARY:Call back\r\n"
                                 "DTSTART:20260408T090000Z\r\nEND:VTOOD\r\n" +
                                 kTuesday));
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  const std::string w = warnings(*s);
  EXPECT_NE(w.find("VTODO"), std::string::npos) << w;
  EXPECT_NE(w.find("todo-7"), std::string::npos) << w;
  EXPECT_NE(w.find("END:VTOOD"), std::string::npos) << w;
}

TEST(BrokenComponents, EventEndingWithATypoIsSkippedAlone) {
  auto s = compile_both(calendar(kMonday +
                                 "BEGIN:VEVENT\r\nUID:typo\r\nDTSTART:20260408T090000Z\r\n"
                                 "DTEND:20260408T100000Z\r\nEND:VEVNT\r\n" +
                                 kTuesday));
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  EXPECT_EQ(s->status_at(at("2026-04-08T09:30:00Z")), Status::off_hours) << "the broken event";
  EXPECT_NE(warnings(*s).find("VEVENT (UID typo"), std::string::npos) << warnings(*s);
}

// An entry whose END line is missing altogether: the next entry's BEGIN (or the calendar's END)
// closes it, and only that entry is lost.
TEST(BrokenComponents, EntryWithoutEndIsSkippedAndTheNextOneCounts) {
  auto s = compile_both(calendar(kMonday + "BEGIN:VTODO\r\nDTSTART:20260408T090000Z\r\n" +
                                 kTuesday + "BEGIN:VEVENT\r\nUID:last\r\n"));
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  const std::string w = warnings(*s);
  EXPECT_NE(w.find("VTODO (line 9)"), std::string::npos) << w;  // no UID: its line
  EXPECT_NE(w.find("VEVENT (UID last"), std::string::npos) << w;
}

// A broken alarm inside an event costs only the alarm (Concierge never reads alarms).
TEST(BrokenComponents, BrokenAlarmKeepsItsEvent) {
  auto s = compile_both(
      calendar("BEGIN:VEVENT\r\nUID:mon\r\nDTSTART:20260406T090000Z\r\nDTEND:20260406T100000Z\r\n"
               "BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\nEND:VALRAM\r\nEND:VEVENT\r\n" +
               kTuesday));
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  EXPECT_NE(warnings(*s).find("VALARM"), std::string::npos) << warnings(*s);
}

TEST(BrokenComponents, CalendarEndingWithATypoIsReadWithAWarning) {
  auto s = compile_both("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + kMonday + kTuesday +
                        "END:VCALENDARD\r\n");
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  EXPECT_NE(warnings(*s).find("END:VCALENDARD"), std::string::npos) << warnings(*s);
}

TEST(BrokenComponents, StrayEndIsIgnoredWithAWarning) {
  auto s = compile_both(calendar(kMonday + "END:VEVENT\r\n" + kTuesday));
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  EXPECT_NE(warnings(*s).find("END:VEVENT"), std::string::npos) << warnings(*s);
}

// Many broken entries: warnings stay few and bounded.
TEST(BrokenComponents, ManyBrokenEntriesGiveBoundedWarnings) {
  std::string body = kMonday;
  for (int i = 0; i < 500; ++i)
    body += "BEGIN:VTODO\r\nUID:t" + std::to_string(i) + "\r\nEND:X\r\n";
  auto s = compile_both(calendar(body + kTuesday));
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  EXPECT_LE(s->warnings().size(), 22u);
  EXPECT_NE(warnings(*s).find("more"), std::string::npos) << warnings(*s);
}

// Names in warnings come from the file: a long one is cut, the warning stays short.
TEST(BrokenComponents, LongNamesAreCutInWarnings) {
  const std::string name = "X-" + std::string(5000, 'A');
  auto s = compile_both(calendar(kMonday + "BEGIN:" + name + "\r\nUID:" + std::string(5000, 'u') +
                                 "\r\nEND:X-B\r\n" + kTuesday));
  ASSERT_TRUE(s.ok()) << s.error();
  expect_both_events(*s);
  ASSERT_FALSE(s->warnings().empty());
  for (const auto& w : s->warnings()) EXPECT_LT(w.size(), 200u) << w;
}

// What is really unusable is still refused, with its reason.
TEST(BrokenComponents, TruncatedAndNonCalendarTextsAreStillRefused) {
  auto truncated = compile_both("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + kMonday +
                                "BEGIN:VEVENT\r\nUID:cut\r\nDTSTART:2026");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().find("truncated"), std::string::npos) << truncated.error();
  // A broken entry does not hide a truncation after it.
  auto both =
      compile_both("BEGIN:VCALENDAR\r\n" + kMonday + "BEGIN:VTODO\r\nEND:VTOOD\r\n" + kTuesday);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().find("truncated"), std::string::npos) << both.error();
  auto vcard = compile_both("BEGIN:VCARD\r\nFN:Bob\r\nEND:VCRAD\r\n");
  ASSERT_FALSE(vcard.ok());
  EXPECT_NE(vcard.error().find("not an iCalendar"), std::string::npos) << vcard.error();
  std::string deep = "BEGIN:VCALENDAR\r\n";
  for (int i = 0; i < 20; ++i) deep += "BEGIN:X\r\n";
  for (int i = 0; i < 20; ++i) deep += "END:X\r\n";
  auto nested = compile_both(deep + "END:VCALENDAR\r\n");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().find("too deeply"), std::string::npos) << nested.error();
}

}  // namespace
}  // namespace concierge::ical
