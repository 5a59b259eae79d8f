// SPDX-License-Identifier: MIT
// Service: active/standby on a shared store (DESIGN §10). ActiveStandby says what the lease
// means for this instance; here the parts act on it: the stream goes the moment the instance
// is fenced, and before connecting under a new epoch the core loads what the previous active
// left in the store.
#include <new>
#include <utility>

#include <component/app/service.hpp>
#include <component/app/wall_clock.hpp>

namespace concierge::app {

void Service::use_lease(LeaseKeeper& keeper) {
  calendars_.keep_applied();
  active_.use(keeper, [this] { loop_.wake(); });
}

void Service::check_lease(Clock::time_point now) {
  if (!active_.shared()) return;  // one instance: always active
  const ActiveStandby::Change change = active_.check(now, store_.fenced(), stopping_);
  if (change.fenced) {
    stream_.cancel_reconnect();
    if (!stream_.connection().disconnected()) stream_.connection().disconnect();
    status_.tell("standby (fenced: " + *change.fenced + ")");
  }
  if (change.take_over) take_over(*change.take_over);
}

void Service::take_over(std::int64_t epoch) {
  const auto started = Clock::now();
  active_.activate(epoch);
  store_.set_lease_epoch(epoch);  // every commit from now on checks this epoch
  reload_router();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  log_.info("active: took over the store's lease (epoch " + std::to_string(epoch) + "); loaded " +
            std::to_string(router_.scheduler().holds().size()) + " held messages in " +
            std::to_string(took.count()) + " ms; connecting");
  stream_.reset_backoff();
  if (schedules_at_) schedules_at_ = Clock::now();
  connect_now();
}

void Service::reload_router() {
  // The standby's router was loaded when this instance started (or last was active); the
  // active wrote holds, settings and subscriptions since. Its settings (the config's users
  // and limits, as last reloaded) are the same and stay.
  //
  // Replaced in place rather than held by pointer, so that the parts holding a reference to
  // `router_` keep it (C++20 allows this for a complete object of the same type).
  core::Settings settings = router_.settings();
  router_.~Router();
  hold_metrics_.holds_forgotten();
  ::new (&router_) core::Router(std::move(settings), observed_store_);
  router_.scheduler().commits().watch();
  // Schedules compiled while standing by stay in force when compiled from what the store
  // still says; a user whose source changed meanwhile is compiled again.
  for (const std::string& jid : router_.directory().schedule_users()) {
    const auto source = router_.directory().schedule_source(jid);
    if (auto kept = source ? calendars_.kept(jid, *source) : nullptr) {
      router_.set_schedule(jid, std::move(kept), wall_now(), bridge_.outbox());
    } else {
      calendars_.update(jid, false);
    }
  }
  bridge_.flush();
  // What was in flight under the previous term belongs to it (its holds are in the store).
  paced_.drop_releases();
  commit_.drop();
}

}  // namespace concierge::app
