// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>

namespace concierge::core {

// The core never reads a clock: every input carries the instant it happened, as wall-clock
// time in milliseconds since the Unix epoch (UTC). app/ supplies it and detects jumps.
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;
using Duration = std::chrono::milliseconds;

}  // namespace concierge::core
