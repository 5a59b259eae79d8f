// SPDX-License-Identifier: MIT
// Hand-written calendars, one construct each, with the status expected at chosen instants:
// weekly hours and events across DST, series, overrides and time zones.
#include <tests/unit/ical/compile_test_support.hpp>

namespace concierge::ical {
namespace {

using namespace compile_test;

TEST(Hours, BerlinBothDstTransitions) {
  const Schedule s = build("", {.hours = "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(s.status_at(at("2026-03-27T08:00:00Z")), Status::working);  // Fri 09:00 CET
  EXPECT_EQ(s.status_at(at("2026-03-27T07:59:59Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-03-30T07:00:00Z")), Status::working);  // Mon 09:00 CEST
  EXPECT_EQ(s.status_at(at("2026-03-30T06:59:59Z")), Status::off_hours);
  EXPECT_EQ(s.next_working_after(at("2026-03-27T16:00:00Z")), at("2026-03-30T07:00:00Z"));
  EXPECT_TRUE(s.has_working());
}

TEST(Hours, NewYorkBothDstTransitions) {
  Options o{
      .zone = "America/New_York", .hours = "Mon-Fri 09:00-17:00", .to = "2026-12-01T00:00:00Z"};
  const Schedule s = build("", o);
  EXPECT_EQ(s.status_at(at("2026-03-06T14:00:00Z")), Status::working);  // Fri 09:00 EST
  EXPECT_EQ(s.status_at(at("2026-03-06T13:59:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-03-09T13:00:00Z")), Status::working);    // Mon 09:00 EDT
  EXPECT_EQ(s.status_at(at("2026-10-30T13:00:00Z")), Status::working);    // Fri 09:00 EDT
  EXPECT_EQ(s.status_at(at("2026-11-02T13:30:00Z")), Status::off_hours);  // Mon 08:30 EST
  EXPECT_EQ(s.status_at(at("2026-11-02T14:00:00Z")), Status::working);
}

TEST(Hours, NightShiftAcrossDstEndsAtSixOnTheWallClock) {
  const Schedule s = build("", {.hours = "Sat 22:00-06:00", .to = "2026-11-30T00:00:00Z"});
  // Spring: Sat 22:00 CET (21:00Z) … Sun 06:00 CEST (04:00Z): 7 hours.
  EXPECT_EQ(s.status_at(at("2026-03-28T21:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-03-29T03:59:59Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-03-29T04:00:00Z")), Status::off_hours);
  // Autumn: Sat 22:00 CEST (20:00Z) … Sun 06:00 CET (05:00Z): 9 hours.
  EXPECT_EQ(s.next_change_after(at("2026-10-24T21:00:00Z")), at("2026-10-25T05:00:00Z"));
}

TEST(Events, NightShiftSeriesAcrossDst) {
  const std::string cal = calendar(
      kEvent +
      "SUMMARY:Night shift\r\nDTSTART;TZID=Europe/Berlin:20260307T220000\r\n"
      "DTEND;TZID=Europe/Berlin:20260308T060000\r\nRRULE:FREQ=WEEKLY;BYDAY=SA\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal, {.to = "2026-11-30T00:00:00Z"});
  EXPECT_EQ(s.status_at(at("2026-03-21T21:00:00Z")), Status::working);
  EXPECT_EQ(s.next_change_after(at("2026-03-28T22:00:00Z")), at("2026-03-29T04:00:00Z"));
  EXPECT_EQ(s.next_change_after(at("2026-10-24T21:00:00Z")), at("2026-10-25T05:00:00Z"));
  EXPECT_EQ(s.status_at(at("2026-03-25T12:00:00Z")), Status::off_hours);
}

TEST(Events, DstGapAndOverlapFollowRfc5545) {
  const std::string cal = calendar(
      kEvent + "DTSTART;TZID=Europe/Berlin:20260329T023000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n" +
      "BEGIN:VEVENT\r\nUID:e2\r\nDTSTART;TZID=Europe/Berlin:20261025T023000\r\nDURATION:PT30M\r\n"
      "END:VEVENT\r\n");
  const Schedule s = build(cal, {.to = "2026-11-30T00:00:00Z"});
  EXPECT_EQ(s.status_at(at("2026-03-29T01:29:59Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-03-29T01:30:00Z")), Status::working);  // 03:30 CEST
  EXPECT_EQ(s.next_change_after(at("2026-03-29T01:30:00Z")), at("2026-03-29T02:30:00Z"));
  EXPECT_EQ(s.status_at(at("2026-10-25T00:30:00Z")), Status::working);  // the first 02:30
  EXPECT_EQ(s.status_at(at("2026-10-25T01:30:00Z")), Status::off_hours);
}

TEST(Events, NewYorkSeriesKeepsWallClockAcrossDst) {
  const std::string cal =
      calendar(kEvent +
               "DTSTART;TZID=America/New_York:20260302T090000\r\nDTEND;TZID=America/"
               "New_York:20260302T100000\r\n"
               "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal, {.zone = "America/New_York", .to = "2026-11-30T00:00:00Z"});
  EXPECT_EQ(s.status_at(at("2026-03-06T14:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-03-09T13:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-03-09T14:00:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-11-02T14:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-11-02T13:30:00Z")), Status::off_hours);
}

TEST(Events, OverridesCancelledOverridesAndExdates) {
  const std::string cal = calendar(
      kEvent +
      "SUMMARY:Shift\r\nDTSTART;TZID=Europe/Berlin:20260406T090000\r\n"
      "DTEND;TZID=Europe/Berlin:20260406T170000\r\nRRULE:FREQ=DAILY;COUNT=10\r\n"
      "EXDATE;TZID=Europe/Berlin:20260410T090000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e1\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260408T090000\r\n"
      "DTSTART;TZID=Europe/Berlin:20260408T120000\r\nDTEND;TZID=Europe/Berlin:20260408T200000\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e1\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260409T090000\r\n"
      "DTSTART;TZID=Europe/Berlin:20260409T090000\r\nDTEND;TZID=Europe/Berlin:20260409T170000\r\n"
      "STATUS:CANCELLED\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal);
  EXPECT_EQ(s.status_at(at("2026-04-07T08:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-08T08:00:00Z")), Status::off_hours);  // moved to 12:00
  EXPECT_EQ(s.status_at(at("2026-04-08T17:00:00Z")), Status::working);    // 19:00 local
  EXPECT_EQ(s.status_at(at("2026-04-09T08:00:00Z")), Status::off_hours);  // cancelled
  EXPECT_EQ(s.status_at(at("2026-04-10T08:00:00Z")), Status::off_hours);  // EXDATE
  EXPECT_EQ(s.status_at(at("2026-04-15T08:00:00Z")), Status::working);    // 10th occurrence
  EXPECT_EQ(s.status_at(at("2026-04-16T08:00:00Z")), Status::off_hours);  // COUNT=10 over
}

TEST(Events, VacationOverAWeekendIsAwayUntilTheNextWorkingDay) {
  const std::string cal =
      calendar(kEvent +
               "SUMMARY:Holidays\r\nDTSTART;VALUE=DATE:20260410\r\nDTEND;VALUE=DATE:20260415\r\n"
               "TRANSP:TRANSPARENT\r\nCATEGORIES:Vacation\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal, {.hours = "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(s.status_at(at("2026-04-09T15:00:00Z")), Status::off_hours);  // Thu 17:00 local
  EXPECT_EQ(s.status_at(at("2026-04-09T22:00:00Z")), Status::away);       // Fri 00:00 local
  EXPECT_EQ(s.status_at(at("2026-04-14T12:00:00Z")), Status::away);       // Tue
  EXPECT_EQ(s.next_working_after(at("2026-04-10T08:00:00Z")), at("2026-04-15T07:00:00Z"));
  EXPECT_EQ(s.next_change_after(at("2026-04-10T08:00:00Z")), at("2026-04-14T22:00:00Z"));
}

TEST(Events, OutlookOofMarkerAndAllDayInUserZone) {
  const std::string cal =
      calendar(kEvent +
               "DTSTART;VALUE=DATE:20260401\r\nDTEND;VALUE=DATE:20260402\r\n"
               "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
               "BEGIN:VEVENT\r\nUID:e2\r\nDTSTART;VALUE=DATE:20260403\r\nSUMMARY:Birthday\r\n"
               "END:VEVENT\r\n");
  const Schedule s = build(cal, {.zone = "America/New_York", .hours = "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(s.status_at(at("2026-04-01T03:59:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-04-01T04:00:00Z")), Status::away);  // local midnight, not UTC
  EXPECT_EQ(s.status_at(at("2026-04-02T03:59:00Z")), Status::away);
  EXPECT_EQ(s.status_at(at("2026-04-02T04:00:00Z")), Status::off_hours);
  // A plain all-day event does not make a work day; hours still apply.
  EXPECT_EQ(s.status_at(at("2026-04-03T14:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-03T22:00:00Z")), Status::off_hours);
}

TEST(Events, WorkVersusPersonalMeaning) {
  const std::string cal = calendar(
      kEvent +
      "DTSTART;TZID=Europe/Berlin:20260401T100000\r\nDTEND;TZID=Europe/Berlin:20260401T110000\r\n"
      "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:e2\r\nDTSTART;TZID=Europe/Berlin:20260401T200000\r\n"
      "DTEND;TZID=Europe/Berlin:20260401T210000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e3\r\nDTSTART:20260402T180000Z\r\nDTEND:20260402T190000Z\r\n"
      "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e4\r\nDTSTART:20260402T200000Z\r\nDTEND:20260402T210000Z\r\n"
      "STATUS:CANCELLED\r\nEND:VEVENT\r\n");
  const Schedule work = build(cal, {.hours = "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(work.status_at(at("2026-04-01T08:30:00Z")), Status::working);
  EXPECT_EQ(work.status_at(at("2026-04-01T18:30:00Z")), Status::working);    // a shift after hours
  EXPECT_EQ(work.status_at(at("2026-04-02T18:30:00Z")), Status::off_hours);  // transparent
  EXPECT_EQ(work.status_at(at("2026-04-02T20:30:00Z")), Status::off_hours);  // cancelled
  const Schedule personal =
      build(cal, {.kind = CalendarKind::personal, .hours = "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(personal.status_at(at("2026-04-01T08:30:00Z")), Status::busy);
  EXPECT_EQ(personal.status_at(at("2026-04-01T09:30:00Z")), Status::working);
  EXPECT_EQ(personal.status_at(at("2026-04-01T18:30:00Z")), Status::off_hours);  // busy ∩ working
}

TEST(Events, NextWorkingSkipsAwayAndBusyGaps) {
  const std::string cal =
      calendar(kEvent +
               "DTSTART:20260401T080000Z\r\nDTEND:20260401T090000Z\r\nCATEGORIES:Out of office\r\n"
               "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:e2\r\nDTSTART:20260401T090000Z\r\n"
               "DTEND:20260401T100000Z\r\nEND:VEVENT\r\n");
  const Schedule s =
      build(cal, {.zone = "UTC", .kind = CalendarKind::personal, .hours = "Mon-Fri 07:00-17:00"});
  EXPECT_EQ(s.status_at(at("2026-04-01T08:30:00Z")), Status::away);
  EXPECT_EQ(s.next_change_after(at("2026-04-01T08:30:00Z")), at("2026-04-01T09:00:00Z"));
  EXPECT_EQ(s.status_at(at("2026-04-01T09:30:00Z")), Status::busy);
  EXPECT_EQ(s.next_working_after(at("2026-04-01T08:30:00Z")), at("2026-04-01T10:00:00Z"));
}

TEST(Events, WindowsZoneNamesAndUnknownZones) {
  const std::string cal =
      calendar(kEvent +
               "DTSTART;TZID=W. Europe Standard Time:20260401T090000\r\n"
               "DTEND;TZID=W. Europe Standard Time:20260401T100000\r\nEND:VEVENT\r\n"
               "BEGIN:VEVENT\r\nUID:e2\r\nDTSTART;TZID=Nowhere/Special:20260402T090000\r\n"
               "DTEND;TZID=Nowhere/Special:20260402T100000\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal, {.zone = "America/New_York"});
  EXPECT_EQ(s.status_at(at("2026-04-01T07:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-01T08:00:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-04-02T13:00:00Z")), Status::working);  // read in the user's zone
  EXPECT_TRUE(has_warning(s, "unknown time zone 'Nowhere/Special'")) << s.warnings().size();
}

TEST(Events, OwnVtimezoneWithAnUnknownName) {
  const std::string cal = calendar(
      "BEGIN:VTIMEZONE\r\nTZID:Company Time\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
      "TZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n" +
      kEvent +
      "DTSTART;TZID=Company Time:20260401T090000\r\nDTEND;TZID=Company Time:20260401T100000\r\n"
      "END:VEVENT\r\n");
  const Schedule s = build(cal);
  EXPECT_EQ(s.status_at(at("2026-04-01T06:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-01T07:00:00Z")), Status::off_hours);
  EXPECT_TRUE(s.warnings().empty());
}

TEST(Events, FloatingTimesUseXWrTimezoneElseTheUserZone) {
  const std::string body =
      kEvent + "DTSTART:20260401T090000\r\nDTEND:20260401T100000\r\nEND:VEVENT\r\n";
  const Schedule with_hint = build(calendar(body, "X-WR-TIMEZONE:America/New_York\r\n"));
  EXPECT_EQ(with_hint.status_at(at("2026-04-01T13:00:00Z")), Status::working);
  const Schedule without = build(calendar(body));
  EXPECT_EQ(without.status_at(at("2026-04-01T07:00:00Z")), Status::working);
  const Schedule bad_hint = build(calendar(body, "X-WR-TIMEZONE:Foo/Bar\r\n"));
  EXPECT_EQ(bad_hint.status_at(at("2026-04-01T07:00:00Z")), Status::working);
  EXPECT_TRUE(has_warning(bad_hint, "Foo/Bar"));
}

TEST(Events, DtendDurationOrNeither) {
  const std::string cal = calendar(
      kEvent +
      "DTSTART;TZID=Europe/Berlin:20260328T220000\r\nDURATION:P1D\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e2\r\nDTSTART:20260402T090000Z\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e3\r\nDTSTART:20260403T090000Z\r\nDURATION:PT90M\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal);
  // P1D is a nominal day: Sat 22:00 CET … Sun 22:00 CEST = 23 hours.
  EXPECT_EQ(s.next_change_after(at("2026-03-28T21:00:00Z")), at("2026-03-29T20:00:00Z"));
  EXPECT_EQ(s.status_at(at("2026-04-02T09:00:00Z")), Status::off_hours);  // no end: an instant
  EXPECT_EQ(s.next_change_after(at("2026-04-03T09:00:00Z")), at("2026-04-03T10:30:00Z"));
}

TEST(Events, RdatePeriodsAndDates) {
  const std::string cal =
      calendar(kEvent +
               "DTSTART:20260401T080000Z\r\nDTEND:20260401T090000Z\r\n"
               "RDATE;VALUE=PERIOD:20260402T080000Z/20260402T120000Z,20260403T080000Z/PT2H\r\n"
               "RDATE:20260404T080000Z\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal);
  EXPECT_EQ(s.next_change_after(at("2026-04-01T08:00:00Z")), at("2026-04-01T09:00:00Z"));
  EXPECT_EQ(s.next_change_after(at("2026-04-02T08:00:00Z")), at("2026-04-02T12:00:00Z"));
  EXPECT_EQ(s.next_change_after(at("2026-04-03T08:00:00Z")), at("2026-04-03T10:00:00Z"));
  EXPECT_EQ(s.next_change_after(at("2026-04-04T08:00:00Z")), at("2026-04-04T09:00:00Z"));
}

TEST(Events, OldSeriesKeepTheirPhase) {
  const std::string cal = calendar(
      kEvent +
      "DTSTART;TZID=Europe/Berlin:20200101T090000\r\nDTEND;TZID=Europe/Berlin:20200101T100000\r\n"
      "RRULE:FREQ=DAILY;INTERVAL=3\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e2\r\nDTSTART:19900101T120000Z\r\nDTEND:19900101T130000Z\r\n"
      "RRULE:FREQ=DAILY;COUNT=40000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e3\r\nDTSTART:20200106T150000Z\r\nDTEND:20200106T160000Z\r\n"
      "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20260420T000000Z\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal);
  // 2020-01-01 + 3k days: 2026-04-01 is day 2282 = 3 × 760 + 2, 2026-03-30 is day 2280.
  EXPECT_EQ(s.status_at(at("2026-03-30T07:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-01T07:30:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-04-02T07:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-01T12:30:00Z")), Status::working);  // COUNT from 1990
  // Every other Monday from 2020-01-06: 2026-03-30 is 325 weeks later (odd), 2026-04-06 even.
  EXPECT_EQ(s.status_at(at("2026-03-30T15:30:00Z")), Status::off_hours);
  EXPECT_EQ(s.status_at(at("2026-04-06T15:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-20T15:30:00Z")), Status::off_hours);  // after UNTIL
}

TEST(Events, InvalidAndHostileRulesAreReportedNotFollowed) {
  const std::string cal = calendar(
      kEvent +
      "SUMMARY:Bad rule\r\nDTSTART:20260401T080000Z\r\nDTEND:20260401T090000Z\r\n"
      "RRULE:FREQ=DAILY;BYFOO=3\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e2\r\nSUMMARY:Feb 30\r\nDTSTART:20260402T080000Z\r\n"
      "DTEND:20260402T090000Z\r\nRRULE:FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e3\r\nSUMMARY:Every second\r\nDTSTART:20260403T080000Z\r\n"
      "DTEND:20260403T090000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal);
  EXPECT_EQ(s.status_at(at("2026-04-01T08:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-02T08:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-03T08:30:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-04T08:30:00Z")), Status::off_hours);
  EXPECT_TRUE(has_warning(s, "'Bad rule' was invalid"));
  EXPECT_TRUE(has_warning(s, "February 30th"));
  EXPECT_TRUE(has_warning(s, "every second"));
}

TEST(Events, OldAndFarEventsAreSkippedButLongOnesStillCount) {
  const std::string cal = calendar(
      kEvent +
      "DTSTART:20200101T090000Z\r\nDTEND:20200101T100000Z\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e2\r\nDTSTART;VALUE=DATE:20260201\r\nDTEND;VALUE=DATE:20260415\r\n"
      "CATEGORIES:Vacation\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e3\r\nDTSTART:20260101T090000Z\r\nDURATION:P120D\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:e4\r\nDTSTART:20300101T090000Z\r\nDTEND:20300101T100000Z\r\n"
      "END:VEVENT\r\n");
  const Schedule s = build(cal, {.from = "2026-04-01T00:00:00Z", .to = "2026-06-01T00:00:00Z"});
  EXPECT_EQ(s.status_at(at("2026-04-10T12:00:00Z")), Status::away);
  EXPECT_EQ(s.status_at(at("2026-04-20T12:00:00Z")), Status::working);  // inside the P120D event
  EXPECT_EQ(s.status_at(at("2026-05-10T12:00:00Z")), Status::off_hours);
}

TEST(Events, OutlookStyleVtimezoneUnderAWindowsName) {
  const std::string cal = calendar(
      "BEGIN:VTIMEZONE\r\nTZID:Pacific Standard Time\r\nBEGIN:STANDARD\r\n"
      "DTSTART:16010101T020000\r\nTZOFFSETFROM:-0700\r\nTZOFFSETTO:-0800\r\n"
      "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
      "DTSTART:16010101T020000\r\nTZOFFSETFROM:-0800\r\nTZOFFSETTO:-0700\r\n"
      "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n" +
      kEvent +
      "DTSTART;TZID=Pacific Standard Time:20260305T090000\r\n"
      "DTEND;TZID=Pacific Standard Time:20260305T100000\r\nRRULE:FREQ=WEEKLY\r\n"
      "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal, {.zone = "UTC"});
  EXPECT_EQ(s.status_at(at("2026-03-05T17:00:00Z")), Status::working);  // PST
  EXPECT_EQ(s.status_at(at("2026-03-12T16:00:00Z")), Status::working);  // PDT
  EXPECT_EQ(s.status_at(at("2026-03-12T17:00:00Z")), Status::off_hours);
}

TEST(Events, CustomVtimezoneWithDstIsFollowed) {
  const std::string cal = calendar(
      "BEGIN:VTIMEZONE\r\nTZID:Office Clock\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
      "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
      "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\n"
      "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
      "END:VTIMEZONE\r\n" +
      kEvent +
      "DTSTART;TZID=Office Clock:20260327T090000\r\nDTEND;TZID=Office Clock:20260327T100000\r\n"
      "RRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal, {.zone = "UTC"});
  EXPECT_EQ(s.status_at(at("2026-03-27T08:30:00Z")), Status::working);  // +01:00
  EXPECT_EQ(s.status_at(at("2026-03-30T07:30:00Z")), Status::working);  // +02:00
  EXPECT_EQ(s.status_at(at("2026-03-30T08:30:00Z")), Status::off_hours);
  EXPECT_TRUE(s.warnings().empty());
}

}  // namespace
}  // namespace concierge::ical
