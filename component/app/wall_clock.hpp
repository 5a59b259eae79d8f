// SPDX-License-Identifier: MIT
#pragma once
// The two clocks of the loop (DESIGN §8): the core speaks wall-clock time, the loop's timers
// run on CLOCK_MONOTONIC. Owns nothing.

#include <chrono>

#include <component/core/time.hpp>

namespace concierge::app {

// Now, as the core reads it (wall clock, milliseconds).
inline core::Instant wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// Wall clock minus monotonic clock: a change of more than a few seconds is a wall-clock jump.
inline std::chrono::milliseconds wall_minus_steady() {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()) -
         duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace concierge::app
