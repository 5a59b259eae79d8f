// SPDX-License-Identifier: MIT
#pragma once
// The core's time: instants and durations passed in by app/; the core never reads a clock.

#include <chrono>
#include <cstdint>

namespace concierge::core {

// The core never reads a clock: every input carries the instant it happened, as wall-clock
// time in milliseconds since the Unix epoch (UTC). app/ supplies it and detects jumps.
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;
using Duration = std::chrono::milliseconds;

// Whole seconds since the epoch, as ical/ counts them, and back.
inline std::int64_t to_utc_seconds(Instant t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline Instant from_utc_seconds(std::int64_t s) { return Instant{std::chrono::seconds(s)}; }

}  // namespace concierge::core
