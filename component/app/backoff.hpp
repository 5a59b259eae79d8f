// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

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

 private:
  Duration first_;
  Duration cap_;
  int attempts_ = 0;
};

}  // namespace concierge::app

namespace concierge::app {

// When to fetch a schedule URL again (DESIGN §5, issue #6), after one fetch's outcome. Pure:
// the caller passes a uniform random number in [0, 1) for the jitter.
struct RefetchInput {
  enum class Outcome { fresh, not_modified, failed_for_now, failed } outcome;
  // The publisher's REFRESH-INTERVAL / X-PUBLISHED-TTL (already clamped by the fetcher).
  std::optional<std::chrono::seconds> hint;
  std::optional<std::chrono::seconds> retry_after;  // Retry-After of a 429 / 503
  int failures = 0;                                 // consecutive failures, this one included
  std::chrono::seconds refresh{3600};               // schedule.refresh
};
// After a good fetch (or 304): the hint when the publisher gives one, else schedule.refresh,
// ±10 % so that calendars fetched together drift apart. After a retryable failure (429, 5xx,
// timeouts): Retry-After when given (at least 30 s), else 1 min doubling per failure up to
// schedule.refresh, ±25 %; never longer than a day. After a failure retrying cannot mend (404,
// a refused address, too large): schedule.refresh.
std::chrono::seconds refetch_delay(const RefetchInput& in, double uniform01);

}  // namespace concierge::app
