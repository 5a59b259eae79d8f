// SPDX-License-Identifier: MIT
// PendingCalendars with a MemoryStore, no Router and no stanzas: a calendar on its way survives
// a restart, and its user hears of a failure as often as they should — always for a calendar
// they just gave, once per distinct problem for the one in force.
#include <component/core/pending_calendars.hpp>

#include <gtest/gtest.h>

namespace concierge::core {
namespace {

const std::string kAlice = "alice@x";

class PendingCalendarsTest : public ::testing::Test {
 protected:
  // What the Directory hands over at a start: every stored setting row.
  PendingCalendars reloaded() {
    PendingCalendars again(store);
    for (const auto& row : store.settings()) again.load(row);
    return again;
  }
  // The source a compile of `bare`'s pending calendar (or, none, the one in force) was given.
  static ScheduleSource source(const std::string& url, bool pending) {
    ScheduleSource s;
    s.zone = "Europe/Berlin";
    s.url = url;
    s.pending = pending;
    return s;
  }

  MemoryStore store;
  PendingCalendars calendars{store};
};

TEST_F(PendingCalendarsTest, APendingCalendarSurvivesAReloadAndItsOutcomeIsAwaited) {
  calendars.give(kAlice, PendingCalendar{"", "BEGIN:VCALENDAR"});
  calendars.expect_compile(kAlice);

  PendingCalendars after = reloaded();
  ASSERT_TRUE(after.contains(kAlice));
  EXPECT_EQ(after.find(kAlice)->upload, "BEGIN:VCALENDAR");
  EXPECT_TRUE(after.find(kAlice)->url.empty());
  ScheduleSource used;
  used.upload = "BEGIN:VCALENDAR";
  used.pending = true;
  EXPECT_TRUE(after.compiled(kAlice, used)) << "the user was told they would hear";
  EXPECT_FALSE(after.contains(kAlice));
  EXPECT_TRUE(store.settings().empty()) << "compiled: no pending row left";
}

TEST_F(PendingCalendarsTest, ANewCalendarReplacesTheOneGivenBeforeIt) {
  calendars.give(kAlice, PendingCalendar{"https://a/1.ics", ""});
  calendars.give(kAlice, PendingCalendar{"", "BEGIN:VCALENDAR"});
  ASSERT_EQ(store.settings().size(), 1u);
  EXPECT_EQ(store.settings()[0].key, "pending_upload");
  // The first one's compile ends late: it is not the pending one.
  EXPECT_FALSE(calendars.is_pending(kAlice, source("https://a/1.ics", true)));
  calendars.compiled(kAlice, source("https://a/1.ics", true));
  EXPECT_TRUE(calendars.contains(kAlice)) << "the upload still waits for its compile";
}

TEST_F(PendingCalendarsTest, ANewCalendarsFailureIsAlwaysTold) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    calendars.give(kAlice, PendingCalendar{"https://a/cal.ics", ""});
    calendars.expect_compile(kAlice);
    const auto f = calendars.failed(kAlice, source("https://a/cal.ics", true), "HTTP 404");
    EXPECT_TRUE(f.was_pending);
    EXPECT_TRUE(f.tell) << "attempt " << attempt << ": the same problem, told again";
    EXPECT_FALSE(calendars.contains(kAlice)) << "dropped: the one of record stays in force";
    EXPECT_TRUE(store.settings().empty());
  }
}

TEST_F(PendingCalendarsTest, TheCalendarInForceFailingIsToldOncePerDistinctProblem) {
  const ScheduleSource in_force = source("https://a/cal.ics", false);
  auto f = calendars.failed(kAlice, in_force, "HTTP 500");
  EXPECT_FALSE(f.was_pending);
  EXPECT_TRUE(f.tell);
  EXPECT_FALSE(calendars.failed(kAlice, in_force, "HTTP 500").tell) << "refreshes fail alike";
  EXPECT_TRUE(calendars.failed(kAlice, in_force, "timed out").tell) << "a new problem";
  EXPECT_FALSE(calendars.failed(kAlice, in_force, "timed out").tell);
  EXPECT_FALSE(calendars.compiled(kAlice, in_force)) << "nobody waited for a refresh";
  EXPECT_TRUE(calendars.failed(kAlice, in_force, "timed out").tell) << "after a good compile";
  calendars.forget(kAlice);
  EXPECT_TRUE(calendars.failed(kAlice, in_force, "timed out").tell) << "left and came back";
}

TEST_F(PendingCalendarsTest, OnlyACalendarBeingReadIsAwaited) {
  calendars.expect_compile(kAlice);
  EXPECT_FALSE(calendars.compiled(kAlice, source("https://a/cal.ics", false)))
      << "a setting's answer is the one answer to its change";
  calendars.give(kAlice, PendingCalendar{"https://a/new.ics", ""});
  calendars.expect_compile(kAlice);
  calendars.drop(kAlice);
  calendars.expect_compile(kAlice);
  EXPECT_FALSE(calendars.compiled(kAlice, source("https://a/cal.ics", false)))
      << "dropped before its compile: nothing to hear of";
}

}  // namespace
}  // namespace concierge::core
