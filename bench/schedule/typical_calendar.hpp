// SPDX-License-Identifier: MIT
#pragma once
// A generator of "typical" calendars (DESIGN §9): ≈ 300 VEVENTs, 30 RRULE series with overrides
// and EXDATEs, 2 VTIMEZONEs, ≈ 60 KB — different for every seed, around a given day.
#include <cstdint>
#include <string>

namespace concierge::bench {

// `around_day`: days since 1970-01-01 the events cluster around (± 90 days).
std::string typical_calendar(std::uint32_t seed, std::int64_t around_day);

}  // namespace concierge::bench
