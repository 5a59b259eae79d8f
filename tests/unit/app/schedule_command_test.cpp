// SPDX-License-Identifier: MIT
// `concierge schedule` as scripts and admins see it: stdout, stderr and the exit code.
#include <component/app/schedule_command.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome run(std::vector<std::string> args) {
  args.insert(args.begin(), "schedule");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  const int code = run_schedule_command(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::string kShifts =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"
    "BEGIN:VEVENT\r\nUID:n\r\nSUMMARY:Night shift\r\nDTSTART;TZID=Europe/Berlin:20260307T220000\r\n"
    "DTEND;TZID=Europe/Berlin:20260308T060000\r\nRRULE:FREQ=WEEKLY;BYDAY=SA\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:v\r\nDTSTART;VALUE=DATE:20260401\r\nDTEND;VALUE=DATE:20260403\r\n"
    "CATEGORIES:Vacation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

TEST(ScheduleCommand, AtPrintsOneLineForScripts) {
  const std::string file = write_file("shifts.ics", kShifts);
  // 02:30 does not exist that night; the shift runs until 06:00 CEST = 04:00Z.
  Outcome r = run({file, "--at", "2026-03-29T01:30:00Z"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "working until 2026-03-29T04:00:00Z\n");
  r = run({file, "--at", "2026-04-01T12:00:00Z"});
  EXPECT_EQ(r.out, "away until 2026-04-02T22:00:00Z\n");
  // All-day dates are read in the calendar's X-WR-TIMEZONE even when the user's zone differs.
  r = run({file, "--at=2026-04-01T12:00:00Z", "--zone", "UTC"});
  EXPECT_EQ(r.out, "away until 2026-04-02T22:00:00Z\n");
}

TEST(ScheduleCommand, AtWorksFarFromTodayAndSaysNeverOnlyAfterLooking) {
  const std::string file = write_file(
      "once.ics",
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20300301T090000Z\r\n"
      "DTEND:20300301T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  Outcome r = run({file, "--at", "2029-06-01T00:00:00Z"});  // ~9 months ahead: beyond 60 days
  EXPECT_EQ(r.out, "off_hours until 2030-03-01T09:00:00Z\n");
  r = run({file, "--at", "2031-01-01T00:00:00Z"});
  EXPECT_EQ(r.out, "off_hours until never\n");
  r = run({file, "--at", "1999-01-01T00:00:00Z", "--hours", "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(r.out, "off_hours until 1999-01-01T09:00:00Z\n");  // a Friday, UTC
}

TEST(ScheduleCommand, GridAndChangeListInLocalAndUtcTime) {
  const std::string file = write_file("shifts.ics", kShifts);
  Outcome r = run({file, "--from", "2026-03-26", "--days", "7", "--hours", "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Europe/Berlin"), std::string::npos);
  EXPECT_NE(r.out.find("Thu 2026-03-26 ..................################.............."),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Wed 2026-04-01 AAAAAAAA"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Sun 2026-03-29 06:00 +02:00  2026-03-29T04:00:00Z  off_hours"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("\033["), std::string::npos);  // no colours into a non-terminal
}

TEST(ScheduleCommand, UnusableCalendarExitsTwoWithTheReason) {
  const std::string file = write_file("cut.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\n");
  Outcome r = run({file, "--at", "2026-03-29T01:30:00Z"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("incomplete"), std::string::npos) << r.err;
  EXPECT_EQ(run({"/nonexistent.ics"}).code, 2);
}

TEST(ScheduleCommand, BadArgumentsExitTwo) {
  const std::string file = write_file("shifts.ics", kShifts);
  EXPECT_EQ(run({}).code, 2);
  EXPECT_EQ(run({file, "--zone", "Mars/Base"}).code, 2);
  EXPECT_EQ(run({file, "--kind", "hobby"}).code, 2);
  EXPECT_EQ(run({file, "--hours", "Mox 09:00-10:00"}).code, 2);
  EXPECT_EQ(run({file, "--at", "yesterday"}).code, 2);
  EXPECT_EQ(run({file, "--from", "2026-02-30"}).code, 2);
  EXPECT_EQ(run({file, "--days", "0"}).code, 2);
  EXPECT_EQ(run({file, "--bogus"}).code, 2);
}

TEST(ScheduleCommand, WarningsGoToStderr) {
  const std::string file = write_file(
      "bad-rule.ics",
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Standup\r\n"
      "DTSTART:20260401T090000Z\r\nDTEND:20260401T100000Z\r\nRRULE:FREQ=DAILY;BYFOO=1\r\n"
      "END:VEVENT\r\nEND:VCALENDAR\r\n");
  Outcome r = run({file, "--at", "2026-04-01T09:30:00Z"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "working until 2026-04-01T10:00:00Z\n");
  EXPECT_NE(r.err.find("'Standup' was invalid"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace concierge::app
