// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>

namespace concierge::app {

// Reconnect delays: exponential from `first` to `cap` with ±25 % jitter so that many
// components restarting with their server do not all knock at once. Pure: the caller passes a
// uniform random number in [0, 1) for each delay.
class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  explicit Backoff(Duration first = std::chrono::seconds(1), Duration cap = std::chrono::seconds(60))
      : first_(first), cap_(cap) {}

  // The delay before the next attempt; each call doubles the base up to the cap.
  Duration next(double uniform01);
  // After a connection that was up: the next failure starts from `first` again.
  void reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }

 private:
  Duration first_;
  Duration cap_;
  int attempts_ = 0;
};

}  // namespace concierge::app
