// SPDX-License-Identifier: MIT
// What users are told about their schedule: the "in force" answer carries the calendar's
// warnings and says when it gave no working time; the week view shows busy time as busy and why
// a whole day counts as working.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

#include <ical/compile.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using testing::xml;

// Mon 2026-11-30, 09:00 UTC = 10:00 Berlin.
const Instant kMonday0900Utc =
    Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 9h;

std::string calendar(const std::string& body) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n";
}

// Monday 14:00-15:00 Berlin: a meeting.
const std::string kMeeting =
    "BEGIN:VEVENT\r\nUID:meet\r\nDTSTART;TZID=Europe/Berlin:20261130T140000\r\n"
    "DTEND;TZID=Europe/Berlin:20261130T150000\r\nEND:VEVENT\r\n";

// The FREQ=SECONDLY rule and the unknown TZID of the report, twice each (one warning each).
const std::string kWarned = calendar(
    "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Nowhere/Special:20261201T090000\r\n"
    "DTEND;TZID=Nowhere/Special:20261201T100000\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261202T090000Z\r\nDTEND:20261202T100000Z\r\n"
    "RRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:c\r\nDTSTART;TZID=Nowhere/Special:20261203T090000\r\n"
    "DTEND;TZID=Nowhere/Special:20261203T100000\r\nEND:VEVENT\r\n");

Settings settings(bool unknown_is_working) {
  Settings s = testing::base_settings();
  s.unknown_is_working = unknown_is_working;
  return s;
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class ScheduleAnswersTest : public ::testing::Test {
 protected:
  MemoryStore store;
  bool unknown_is_working = true;
  std::unique_ptr<Router> router;
  Outbox out;
  Instant now = kMonday0900Utc;

  void start() {
    router = std::make_unique<Router>(settings(unknown_is_working), store);
    router->connected(now, out);
    say("alice@example.org", "enrol Europe/Berlin");
  }
  std::string say(const std::string& who, const std::string& text) {
    out.clear();
    router->handle(
        xml("<message from=\"" + who + "/r\" to=\"sched.example.org\" type=\"chat\"><body>" + text +
            "</body></message>"),
        now, out);
    for (const auto& s : out.stanzas) {
      if (s.attr("from") == "sched.example.org" && s.name == "message") {
        return s.child_text("body").value_or("");
      }
    }
    return "<no answer>";
  }
  // Compiles alice's current source as the app does (schedule.unknown as the fill) and hands it
  // to the core; the message alice gets.
  std::string compile_and_tell() {
    const auto source = *router->directory().schedule_source("alice@example.org");
    ical::CompileRequest r;
    r.zone = source.zone;
    r.hours = source.hours;
    r.calendar = source.upload;
    r.kind = source.personal ? ical::CalendarKind::personal : ical::CalendarKind::work;
    if (unknown_is_working) r.unknown_fill = ical::Status::working;
    ical::set_window_around(r, to_utc_seconds(now), 20);
    auto s = ical::compile(r);
    EXPECT_TRUE(s.ok()) << s.error();
    out.clear();
    router->schedule_compiled("alice@example.org", source,
                              std::make_shared<const ical::Schedule>(s.value()), now, out);
    if (out.stanzas.size() != 1) return "<" + std::to_string(out.stanzas.size()) + " messages>";
    return out.stanzas[0].child_text("body").value_or("");
  }
};

TEST_F(ScheduleAnswersTest, InForceAnswerCarriesEachWarningOnceOnItsOwnLine) {
  start();
  say("alice@example.org", "hours Mon-Fri 09:00-17:00");
  say("alice@example.org", "upload " + kWarned);
  const std::string told = compile_and_tell();
  EXPECT_EQ(told.rfind("Concierge: your schedule is in force. You are working", 0), 0u) << told;
  EXPECT_EQ(count(told, "\nWarning: unknown time zone 'Nowhere/Special'"), 1u) << told;
  EXPECT_EQ(count(told, "\nWarning: the repeat rule of an event repeats every second"), 1u) << told;
  EXPECT_EQ(count(told, "\n"), 2u) << told;
  EXPECT_EQ(told.find("no working time"), std::string::npos) << "the hours give working time";
}

// The same through the ad-hoc upload form (XEP-0050): its answer is the same "in force" message.
TEST_F(ScheduleAnswersTest, AdHocUploadIsToldTheWarningsToo) {
  start();
  say("alice@example.org", "hours Mon-Fri 09:00-17:00");
  std::string form = "<x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"ics\">";
  for (std::size_t at = 0; at < kWarned.size();) {
    const auto end = kWarned.find("\r\n", at);
    form += "<value>" + kWarned.substr(at, end - at) + "</value>";
    at = end + 2;
  }
  out.clear();
  router->handle(
      xml("<iq type=\"set\" id=\"c\" from=\"alice@example.org/r\" to=\"sched.example.org\">"
          "<command xmlns=\"http://jabber.org/protocol/commands\" node=\"upload\" "
          "sessionid=\"s1\">" +
          form + "</field></x></command></iq>"),
      now, out);
  ASSERT_TRUE(router->directory().schedule_source("alice@example.org")->pending);
  const std::string told = compile_and_tell();
  EXPECT_EQ(count(told, "\nWarning: unknown time zone 'Nowhere/Special'"), 1u) << told;
  EXPECT_EQ(count(told, "\nWarning: the repeat rule of an event repeats every second"), 1u) << told;
}

// One answer per change (issue 15 point 14): a schedule in force as the command's answer
// promised adds no second message; the same compile with a warning does (the test above).
TEST_F(ScheduleAnswersTest, InForceWithoutWarningsAddsNoSecondAnswer) {
  start();
  EXPECT_EQ(say("alice@example.org", "hours Mon-Fri 09:00-17:00"),
            "Your weekly hours are Mon-Fri 09:00-17:00.");
  EXPECT_EQ(compile_and_tell(), "<0 messages>");
  EXPECT_EQ(router->availability().status_of("alice@example.org", now), ical::Status::working);
}

TEST_F(ScheduleAnswersTest, ACalendarWithoutWorkingTimeIsSaidAndWhatApplies) {
  start();
  say("alice@example.org", "kind personal");
  say("alice@example.org", "upload " + calendar(kMeeting));
  const std::string told = compile_and_tell();
  EXPECT_NE(told.find("\nYour calendar gives no working time, so schedule.unknown applies: you "
                      "count as working except when your calendar says busy, away or off."),
            std::string::npos)
      << told;
}

TEST_F(ScheduleAnswersTest, ACalendarWithoutWorkingTimeUnderUnknownOffSaysMessagesWait) {
  unknown_is_working = false;
  start();
  say("alice@example.org",
      "upload " + calendar(kMeeting + "BEGIN:VEVENT\r\nUID:x\r\n"
                                      "DTSTART:20261201T090000Z\r\nDURATION:PT1H\r\n"
                                      "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"));
  // A work calendar's opaque meeting is working time: only a transparent event gives none.
  say("alice@example.org", "kind personal");
  const std::string told = compile_and_tell();
  EXPECT_NE(told.find("\nYour calendar gives no working time, so schedule.unknown applies: you "
                      "count as off and messages wait for you."),
            std::string::npos)
      << told;
  // The week says the same, and shows the meeting as busy, not as working time.
  const std::string status = say("alice@example.org", "status");
  EXPECT_NE(status.find("Working time this week (Europe/Berlin):\n  No working time in your "
                        "calendar: treated as off (schedule.unknown).\n  Mon 30 Nov: busy "
                        "14:00-15:00\n  Tue  1 Dec: off\n"),
            std::string::npos)
      << status;
}

TEST_F(ScheduleAnswersTest, WeekViewShowsMeetingsAsBusyNotAsGaps) {
  start();
  say("alice@example.org", "hours Mon-Fri 09:00-17:00");
  say("alice@example.org", "kind personal");
  say("alice@example.org", "upload " + calendar(kMeeting));
  compile_and_tell();
  const std::string status = say("alice@example.org", "status");
  EXPECT_NE(
      status.find("\n  Mon 30 Nov: 09:00-17:00 (busy 14:00-15:00)\n  Tue  1 Dec: 09:00-17:00\n"),
      std::string::npos)
      << status;
}

TEST_F(ScheduleAnswersTest, WeekViewSaysWhyAWholeDayCountsAsWorking) {
  start();
  say("alice@example.org", "kind personal");
  say("alice@example.org", "upload " + calendar(kMeeting));
  compile_and_tell();
  const std::string status = say("alice@example.org", "status");
  EXPECT_NE(status.find("Working time this week (Europe/Berlin):\n  No working time in your "
                        "calendar: treated as working all day (schedule.unknown).\n  Mon 30 Nov: "
                        "00:00-24:00 (busy 14:00-15:00)\n  Tue  1 Dec: 00:00-24:00\n"),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace concierge::core
