// SPDX-License-Identifier: MIT
#include "typical_calendar.hpp"

#include <cstdio>
#include <random>

#include <ical/time.hpp>

namespace concierge::bench {
namespace {

const char* const kZones =
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\n"
    "TZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:20070311T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:20071104T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

std::string stamp(std::int64_t day, int minute) {
  const ical::CivilDate c = ical::civil_from_days(day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d00", c.year, c.month, c.day, minute / 60,
                minute % 60);
  return buf;
}

std::string date(std::int64_t day) {
  return stamp(day, 0).substr(0, 8);
}

const char* const kFiller = "Agenda: open items, decisions, next steps.";

}  // namespace

std::string typical_calendar(std::uint32_t seed, std::int64_t around_day) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::string out;
  out.reserve(70000);
  out +=
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Concierge//bench//EN\r\n"
      "X-WR-TIMEZONE:Europe/Berlin\r\n";
  out += kZones;
  static const char* const kDays[] = {"MO", "TU", "WE", "TH", "FR"};
  for (int i = 0; i < 30; ++i) {  // recurring series, each with overrides and an EXDATE
    const char* tz = i % 3 == 0 ? "America/New_York" : "Europe/Berlin";
    const std::int64_t start_day = around_day - pick(30, 400);
    const int minute = pick(16, 34) * 30;
    const std::string uid = "series-" + std::to_string(seed) + "-" + std::to_string(i);
    out += "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Weekly sync " +
           std::to_string(i) + "\r\nDESCRIPTION:" + kFiller + "\r\nLOCATION:Room " +
           std::to_string(pick(1, 40)) + "\r\n";
    out += std::string("DTSTART;TZID=") + tz + ":" + stamp(start_day, minute) + "\r\n";
    out += std::string("DTEND;TZID=") + tz + ":" + stamp(start_day, minute + 60) + "\r\n";
    out += std::string("RRULE:FREQ=WEEKLY;BYDAY=") + kDays[pick(0, 4)] +
           (i % 4 == 0 ? ";COUNT=" + std::to_string(pick(20, 90)) : std::string()) + "\r\n";
    out += std::string("EXDATE;TZID=") + tz + ":" + stamp(start_day + 7 * pick(1, 20), minute) +
           "\r\n";
    out += "END:VEVENT\r\n";
    for (int k = 0; k < 2; ++k) {  // moved occurrences
      const std::int64_t moved = start_day + 7 * pick(1, 50);
      out += "BEGIN:VEVENT\r\nUID:" + uid +
             "\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=" + tz + ":" +
             stamp(moved, minute) + "\r\nSUMMARY:Weekly sync (moved)\r\n";
      out += std::string("DTSTART;TZID=") + tz + ":" + stamp(moved, minute + 120) + "\r\n";
      out += std::string("DTEND;TZID=") + tz + ":" + stamp(moved, minute + 180) + "\r\n";
      if (k == 1 && i % 5 == 0) out += "STATUS:CANCELLED\r\n";
      out += "END:VEVENT\r\n";
    }
  }
  for (int i = 0; i < 210; ++i) {  // single events
    const std::int64_t day = around_day + pick(-90, 90);
    out += "BEGIN:VEVENT\r\nUID:single-" + std::to_string(seed) + "-" + std::to_string(i) +
           "\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Appointment " + std::to_string(i) +
           "\r\nDESCRIPTION:" + kFiller + "\r\n";
    const int kind = pick(0, 19);
    if (kind == 0) {
      out += "DTSTART;VALUE=DATE:" + date(day) + "\r\nDTEND;VALUE=DATE:" + date(day + pick(1, 10)) +
             "\r\nTRANSP:TRANSPARENT\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nCATEGORIES:Vacation\r\n";
    } else if (kind == 1) {
      out += "DTSTART;VALUE=DATE:" + date(day) + "\r\nTRANSP:TRANSPARENT\r\n";
    } else {
      const int minute = pick(14, 40) * 30;
      out += "DTSTART;TZID=Europe/Berlin:" + stamp(day, minute) + "\r\n";
      out += kind == 2
                 ? "DURATION:PT45M\r\n"
                 : "DTEND;TZID=Europe/Berlin:" + stamp(day, minute + 30 * pick(1, 6)) + "\r\n";
      if (kind == 3) out += "TRANSP:TRANSPARENT\r\n";
      if (kind == 4) out += "STATUS:CANCELLED\r\n";
    }
    out += "END:VEVENT\r\n";
  }
  out += "END:VCALENDAR\r\n";
  return out;
}

}  // namespace concierge::bench
