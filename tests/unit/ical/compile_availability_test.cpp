// SPDX-License-Identifier: MIT
// Hand-written calendars with VAVAILABILITY and VFREEBUSY: what is working, busy and off.
#include <tests/unit/ical/compile_test_support.hpp>

namespace concierge::ical {
namespace {

using namespace compile_test;

TEST(Availability, PersonalAvailabilityWithPriorityAndFallback) {
  const std::string cal = calendar(
      "BEGIN:VAVAILABILITY\r\nUID:a1\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=Europe/Berlin:20260401T000000\r\nDTEND;TZID=Europe/Berlin:20260501T000000\r\n"
      "BEGIN:AVAILABLE\r\nUID:a1-1\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=Europe/Berlin:20260330T090000\r\nDTEND;TZID=Europe/Berlin:20260330T170000\r\n"
      "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nEND:AVAILABLE\r\nEND:VAVAILABILITY\r\n"
      "BEGIN:VAVAILABILITY\r\nUID:a2\r\nDTSTAMP:20260101T000000Z\r\nPRIORITY:1\r\n"
      "DTSTART:20260415T000000Z\r\nDTEND:20260416T000000Z\r\nEND:VAVAILABILITY\r\n" +
      kEvent + "DTSTART:20260402T100000Z\r\nDTEND:20260402T110000Z\r\nEND:VEVENT\r\n");
  const Schedule s = build(cal, {.kind = CalendarKind::personal, .hours = "Mon-Fri 07:00-08:00"});
  EXPECT_EQ(s.status_at(at("2026-04-01T07:00:00Z")), Status::working);    // 09:00 CEST
  EXPECT_EQ(s.status_at(at("2026-04-01T05:30:00Z")), Status::off_hours);  // hours do not apply here
  EXPECT_EQ(s.status_at(at("2026-04-02T10:30:00Z")), Status::busy);
  EXPECT_EQ(s.status_at(at("2026-04-15T10:00:00Z")), Status::off_hours);  // PRIORITY 1 wins
  EXPECT_EQ(s.status_at(at("2026-04-16T10:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-05-04T05:30:00Z")), Status::working);  // outside: weekly hours
  EXPECT_EQ(s.status_at(at("2026-05-04T10:00:00Z")), Status::off_hours);
}

TEST(Availability, FreeBusyUnavailableIsExplicitlyOff) {
  const std::string cal = calendar(
      "BEGIN:VFREEBUSY\r\nUID:f1\r\nDTSTAMP:20260101T000000Z\r\n"
      "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260401T080000Z/20260401T100000Z\r\n"
      "FREEBUSY:20260402T120000Z/PT1H\r\nEND:VFREEBUSY\r\n");
  const Schedule work = build(cal, {.zone = "UTC", .hours = "Mon-Fri 07:00-17:00"});
  EXPECT_EQ(work.status_at(at("2026-04-01T09:00:00Z")), Status::off_hours);
  EXPECT_EQ(work.status_at(at("2026-04-01T10:00:00Z")), Status::working);
  const Schedule personal =
      build(cal, {.zone = "UTC", .kind = CalendarKind::personal, .hours = "Mon-Fri 07:00-17:00"});
  EXPECT_EQ(personal.status_at(at("2026-04-02T12:30:00Z")), Status::busy);
  // With no working time at all, `schedule.unknown` fills only what is not explicitly off.
  const Schedule unknown =
      build(cal, {.zone = "UTC", .kind = CalendarKind::personal, .unknown_fill = Status::working});
  EXPECT_FALSE(unknown.has_working());
  EXPECT_EQ(unknown.status_at(at("2026-04-01T09:00:00Z")), Status::off_hours);
  EXPECT_EQ(unknown.status_at(at("2026-04-01T11:00:00Z")), Status::working);
  EXPECT_EQ(unknown.status_at(at("2026-04-02T12:30:00Z")), Status::busy);
}

TEST(Availability, BusyTypeBusyAndAllDayPersonalEvents) {
  const std::string cal = calendar(
      "BEGIN:VAVAILABILITY\r\nUID:a1\r\nDTSTAMP:20260101T000000Z\r\nBUSYTYPE:BUSY\r\n"
      "DTSTART:20260401T000000Z\r\nDTEND:20260402T000000Z\r\n"
      "BEGIN:AVAILABLE\r\nUID:a1-1\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART:20260401T080000Z\r\nDTEND:20260401T120000Z\r\nEND:AVAILABLE\r\n"
      "END:VAVAILABILITY\r\n" +
      kEvent + "DTSTART;VALUE=DATE:20260403\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n");
  const Schedule s =
      build(cal, {.zone = "UTC", .kind = CalendarKind::personal, .hours = "Mon-Fri 09:00-17:00"});
  EXPECT_EQ(s.status_at(at("2026-04-01T09:00:00Z")), Status::working);
  EXPECT_EQ(s.status_at(at("2026-04-01T13:00:00Z")), Status::busy);     // BUSYTYPE:BUSY
  EXPECT_EQ(s.status_at(at("2026-04-02T10:00:00Z")), Status::working);  // outside: hours
  EXPECT_EQ(s.status_at(at("2026-04-03T10:00:00Z")), Status::busy);     // opaque all-day
  EXPECT_EQ(s.status_at(at("2026-04-03T18:00:00Z")), Status::off_hours);
}

}  // namespace
}  // namespace concierge::ical
