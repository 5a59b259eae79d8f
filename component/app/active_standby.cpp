// SPDX-License-Identifier: MIT
#include <component/app/active_standby.hpp>

#include <utility>

namespace concierge::app {

void ActiveStandby::use(LeaseKeeper& keeper, std::function<void()> changed) {
  lease_ = &keeper;
  keeper.start(std::move(changed));
}

void ActiveStandby::activate(std::int64_t epoch) {
  epoch_ = epoch;
  last_epoch_ = epoch;
}

std::optional<ActiveStandby::Clock::time_point> ActiveStandby::valid_until() const {
  if (epoch_ == 0) return std::nullopt;
  return lease_->state().valid_until;
}

ActiveStandby::Change ActiveStandby::check(Clock::time_point now, bool commit_fenced,
                                           bool stopping) {
  Change change;
  if (lease_ == nullptr) return change;
  const LeaseKeeper::State state = lease_->state();
  const LeaseKeeper::State seen = std::exchange(seen_, state);
  if (!state.problem.empty() && seen.problem.empty()) {
    log_.error(
        "the store's database does not answer the lease (" + state.problem + "); " +
        (epoch_ != 0 ? "this instance stops sending when its lease runs out" : "standing by") +
        "; retrying every second");
  } else if (state.problem.empty() && !seen.problem.empty()) {
    log_.info("the store's database answers the lease again");
  }
  const std::optional<std::int64_t> held = state.held(now);
  if (epoch_ != 0) {
    if (commit_fenced) {
      change.fenced = "a commit found that another instance took over the store";
    } else if (held != epoch_) {
      change.fenced = held ? "the lease moved on to epoch " + std::to_string(*held)
                      : !state.problem.empty()
                          ? "the lease could not be renewed in time (" + state.problem + ")"
                          : "the lease was not renewed in time";
    }
    if (change.fenced) {
      log_.warn("fenced: " + *change.fenced + "; dropping the stream (lease epoch " +
                std::to_string(epoch_) + ") and standing by");
      epoch_ = 0;
    }
  }
  if (epoch_ == 0 && held && *held > last_epoch_ && !stopping) change.take_over = *held;
  if (standby() && !change.take_over && state.holder != seen.holder && !state.holder.empty()) {
    log_.info("standby: the store's lease is held by " + state.holder);
  }
  return change;
}

}  // namespace concierge::app
