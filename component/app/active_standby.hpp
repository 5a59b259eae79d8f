// SPDX-License-Identifier: MIT
#pragma once
// ActiveStandby: this instance's role on a shared store (DESIGN §10), as the loop sees it. The
// LeaseKeeper renews the store's lease on its own thread; each turn check() reads what it
// knows and says what the Service must do: fence (drop the stream: the epoch it was active
// under is gone) and/or take over a newer epoch (load the store, then connect).
// Owns: the epoch this instance is active under, the newest epoch taken over, the lease state
// as last logged. Must not touch: the stream, the core or the store beyond reading whether a
// commit found it fenced (its caller passes that) — the Service acts on check()'s answer.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <component/app/lease_keeper.hpp>
#include <component/app/logger.hpp>

namespace concierge::app {

class ActiveStandby {
 public:
  using Clock = LeaseKeeper::Clock;
  // `log` must outlive this.
  explicit ActiveStandby(Logger& log) : log_(log) {}

  // From now on this instance is active only while `keeper` holds the lease; `changed` is
  // called from the keeper's thread when its state changes. `keeper` must outlive this.
  void use(LeaseKeeper& keeper, std::function<void()> changed);
  bool shared() const { return lease_ != nullptr; }
  // Waiting for the lease (never, without one).
  bool standby() const { return lease_ != nullptr && epoch_ == 0; }
  // While active under a lease: when its epoch runs out unless renewed.
  std::optional<Clock::time_point> valid_until() const;

  struct Change {
    std::optional<std::string> fenced;      // why this instance stopped being active
    std::optional<std::int64_t> take_over;  // a newer epoch held: activate() it
  };
  // What changed since the last check (logged). `commit_fenced`: a commit found the store
  // taken over (Store::fenced()); `stopping`: no takeover any more.
  Change check(Clock::time_point now, bool commit_fenced, bool stopping);
  // Active under `epoch` from now on (before loading the store and connecting: a check()
  // meanwhile changes nothing).
  void activate(std::int64_t epoch);

 private:
  Logger& log_;
  LeaseKeeper* lease_ = nullptr;
  std::int64_t epoch_ = 0;       // the epoch this instance is active under; 0: standby
  std::int64_t last_epoch_ = 0;  // the newest epoch taken over (an epoch is taken over once)
  LeaseKeeper::State seen_;      // as last logged
};

}  // namespace concierge::app
