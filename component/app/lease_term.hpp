// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace concierge::app {

// How long a lease lasts and how it is kept (DESIGN §10). Not part of the config contract:
// every instance of a deployment must agree on them, so they are the build's.
struct LeaseTimings {
  std::chrono::milliseconds term{5000};         // a grant or renewal lasts this long (database time)
  std::chrono::milliseconds margin{2000};       // the active stops this long before it could run out
  std::chrono::milliseconds renew_every{1000};  // a renewal (or a standby's attempt) this often
};

// The holder's side of a lease, on its monotonic clock. Pure: the caller passes when each
// request was sent and what came back.
//
// A grant or renewal sent at `sent` makes the database's expiry at least `sent + term` in any
// clock that runs at the database's rate, since the database stamped it after `sent`. The holder
// counts on it only until `sent + term - margin`: the margin covers the two clocks' drift and the
// time the holder needs to notice and drop its stream. Once that point has passed the term is
// over for good: the next request is an acquire, which starts a new epoch, never a renewal that
// would let an old epoch's in-memory state come back to life.
class LeaseTerm {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LeaseTerm(LeaseTimings timings) : timings_(timings) {}

  // The epoch held at `now`; nullopt when none.
  std::optional<std::int64_t> held(Clock::time_point now) const {
    if (epoch_ == 0 || now >= valid_until_) return std::nullopt;
    return epoch_;
  }
  // Until when the current epoch may be used (meaningful while held()).
  Clock::time_point valid_until() const { return valid_until_; }
  // Whether the next request renews (an epoch is held at `now`) or acquires.
  bool renews(Clock::time_point now) const { return held(now).has_value(); }

  // The database granted (acquire) or extended (renew) `epoch` for a request sent at `sent`,
  // answered at `answered`. A grant of another epoch ends the previous term; a renewal answered
  // after its term ran out does not revive it (the next request acquires a new epoch).
  void granted(std::int64_t epoch, Clock::time_point sent, Clock::time_point answered);
  // The database says the epoch is no longer current: another instance took over.
  void lost() { epoch_ = 0; }

  const LeaseTimings& timings() const { return timings_; }

 private:
  LeaseTimings timings_;
  std::int64_t epoch_ = 0;  // 0: none
  Clock::time_point valid_until_{};
};

}  // namespace concierge::app
