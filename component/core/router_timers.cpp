// SPDX-License-Identifier: MIT
// Router: time passing and the schedule's inputs changing — tick() ends silent sessions,
// expires holds and bookkeeping, and re-decides every target with holds (the Scheduler's
// next_wake() says when that is next needed); a new schedule or pause re-decides its user's;
// Pools::release() sends a pool's holds through the pools, a user's through the Releaser.
#include <algorithm>

#include <component/core/router.hpp>

namespace concierge::core {

void Router::connected(Instant now, Outbox& out) {
  releaser_.connected();
  scheduler_.at(now);
  scheduler_.changed();
  presences_.connected(kPacedUsersAtOnce, now, out);
}

void Router::tick(Instant now, Outbox& out) {
  scheduler_.at(now);
  limiter_.prune(now);
  writers_.forget_idle(now);
  for (const auto& [a, b] : presences_.sessions().expire(now)) {
    if (directory_.enrolled(a)) presences_.publish(a, now, out);
    if (directory_.enrolled(b)) presences_.publish(b, now, out);
    pools_.desk().session_ended(a, now);  // for pools: whose last conversation ended longest ago
    pools_.desk().session_ended(b, now);
  }
  scheduler_.expire(now, out);  // and the scheduler's bookkeeping that only matters for a while
  pools_.desk().forget_stale(now);
  for (const auto& bare : availability_.forget_ended_pauses(now)) {
    store_.forget(Remembered::Kind::pause, bare, {});  // ended: gone from the store too
  }
  // Schedule boundaries, ended sessions and pauses: re-decide every target with holds.
  for (const auto& target : scheduler_.holds().targets()) pools_.release(target, now, out);
  for (const auto& [target, subscribers] : presences_.subscriptions().proxies().all_subscribers()) {
    presences_.publish(target, now, out);
  }
  scheduler_.changed();
}

void Router::set_schedule(const std::string& bare, std::shared_ptr<const ical::Schedule> schedule,
                          Instant now, Outbox& out) {
  scheduler_.at(now);
  scheduler_.changed();
  availability_.set_schedule(bare, std::move(schedule));
  pools_.release(bare, now, out);
  presences_.publish(bare, now, out);
}

void Router::pause(const std::string& bare, Instant until, Instant now, Outbox& out) {
  scheduler_.at(now);
  scheduler_.changed();
  availability_.set_pause(bare, until, now);
  keep_pause(availability_, store_, bare);
  pools_.release(bare, now, out);
  presences_.publish(bare, now, out);
}

}  // namespace concierge::core
