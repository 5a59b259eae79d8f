// SPDX-License-Identifier: MIT
// Service: active/standby on a shared store (DESIGN §10). The LeaseKeeper renews the store's
// lease on its own thread; here the loop acts on what it knows: it connects only under an epoch
// it holds now, drops its stream the moment it no longer does, and before connecting under a
// new epoch loads what the previous active left in the store.
#include <unistd.h>

#include <new>
#include <utility>

#include <component/app/service.hpp>

namespace concierge::app {
namespace {

using Clock = std::chrono::steady_clock;

core::Instant wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace

void Service::use_lease(LeaseKeeper& keeper) {
  lease_ = &keeper;
  calendars_.keep_applied();
  keeper.start([this] {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  });
}

void Service::check_lease(SteadyTime now) {
  if (lease_ == nullptr) return;
  const LeaseKeeper::State state = lease_->state();
  // Updated first: a takeover below connects, which checks the lease again.
  const LeaseKeeper::State seen = std::exchange(lease_seen_, state);
  if (!state.problem.empty() && seen.problem.empty()) {
    log_.error("the store's database does not answer the lease (" + state.problem + "); " +
               (lease_epoch_ != 0 ? "this instance stops sending when its lease runs out"
                                  : "standing by") +
               "; retrying every second");
  } else if (state.problem.empty() && !seen.problem.empty()) {
    log_.info("the store's database answers the lease again");
  }
  const std::optional<std::int64_t> held = state.held(now);
  if (lease_epoch_ != 0) {
    if (store_.fenced()) {
      fence("a commit found that another instance took over the store");
    } else if (held != lease_epoch_) {
      fence(held ? "the lease moved on to epoch " + std::to_string(*held)
            : !state.problem.empty() ? "the lease could not be renewed in time (" + state.problem + ")"
                                     : "the lease was not renewed in time");
    }
  }
  if (lease_epoch_ == 0 && held && *held > last_epoch_ && !stopping_) take_over(*held);
  if (standby() && state.holder != seen.holder && !state.holder.empty()) {
    log_.info("standby: the store's lease is held by " + state.holder);
  }
}

void Service::fence(const std::string& why) {
  log_.warn("fenced: " + why + "; dropping the stream (lease epoch " +
            std::to_string(lease_epoch_) + ") and standing by");
  lease_epoch_ = 0;
  reconnect_at_.reset();
  if (!connection_.disconnected()) connection_.disconnect();
  tell_status("standby (fenced: " + why + ")");
}

void Service::take_over(std::int64_t epoch) {
  const auto started = Clock::now();
  lease_epoch_ = epoch;
  last_epoch_ = epoch;
  store_.set_lease_epoch(epoch);  // every commit from now on checks this epoch
  reload_router();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  log_.info("active: took over the store's lease (epoch " + std::to_string(epoch) + "); loaded " +
            std::to_string(router_.holds_count()) + " held messages in " +
            std::to_string(took.count()) + " ms; connecting");
  timings_.backoff.reset();
  if (schedules_at_) schedules_at_ = Clock::now();
  connect_now();
}

void Service::reload_router() {
  // The standby's router was loaded when this instance started (or last was active); the
  // active wrote holds, settings and subscriptions since. Its settings (the config's users
  // and limits, as last reloaded) are the same and stay.
  //
  // Replaced in place rather than held by pointer, so that the rest of Service keeps using the
  // member `router_` as it is (C++20 allows this for a complete object of the same type).
  core::Settings settings = router_.settings();
  router_.~Router();
  hold_metrics_.holds_forgotten();
  ::new (&router_) core::Router(std::move(settings), observed_store_);
  router_.report_commits();
  // Schedules compiled while standing by stay in force when compiled from what the store
  // still says; a user whose source changed meanwhile is compiled again.
  for (const std::string& jid : router_.directory().schedule_users()) {
    const auto source = router_.directory().schedule_source(jid);
    if (auto kept = source ? calendars_.kept(jid, *source) : nullptr) {
      router_.set_schedule(jid, std::move(kept), wall_now(), outbox_);
    } else {
      calendars_.update(jid, false);
    }
  }
  flush(outbox_);
  // What was in flight under the previous term belongs to it (its holds are in the store).
  releases_.clear();
  release_pings_.clear();
  after_commit_.clear();
}

}  // namespace concierge::app
