// SPDX-License-Identifier: MIT
#pragma once
// Plain civil-time arithmetic on seconds. Concierge's instants are UTC seconds since the Unix
// epoch (UtcSeconds); wall-clock readings in some zone are "local seconds" counted the same way
// as if that wall clock were UTC (LocalSeconds). Converting between them needs a Zone (zone.hpp).
#include <cstdint>
#include <string>

namespace concierge::ical {

using UtcSeconds = std::int64_t;
using LocalSeconds = std::int64_t;

inline constexpr std::int64_t kSecondsPerDay = 86400;

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
constexpr std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
  return CivilDate{y, m, d};
}

// Floor division of seconds into days (correct for negative values).
constexpr std::int64_t floor_days(std::int64_t seconds) {
  return seconds >= 0 ? seconds / kSecondsPerDay
                      : -((-seconds + kSecondsPerDay - 1) / kSecondsPerDay);
}

// 0 = Monday … 6 = Sunday, for days since 1970-01-01 (a Thursday).
constexpr int weekday_from_days(std::int64_t days) {
  const std::int64_t w = (days + 3) % 7;
  return static_cast<int>(w >= 0 ? w : w + 7);
}

constexpr std::int64_t seconds_from_civil(int y, int mo, int d, int h, int mi, int s) {
  return days_from_civil(y, mo, d) * kSecondsPerDay + h * 3600 + mi * 60 + s;
}

// "2026-03-29T01:30:00Z" for UTC seconds.
std::string format_utc_iso(UtcSeconds t);
// "2026-03-29 03:30" for local seconds.
std::string format_local(LocalSeconds t);
// Parses "YYYY-MM-DDTHH:MM[:SS](Z|±HH:MM)" or "YYYY-MM-DD" (midnight UTC). False on error.
bool parse_iso_instant(const std::string& text, UtcSeconds& out);
// Parses "YYYY-MM-DD" into days since 1970-01-01. False on error.
bool parse_iso_date(const std::string& text, std::int64_t& days_out);

}  // namespace concierge::ical
