// SPDX-License-Identifier: MIT
// Router: time passing — tick() ends silent sessions, expires holds and bookkeeping, and
// re-decides every target with holds; next_wake() says when that is next needed.
#include <algorithm>

#include <component/core/router.hpp>

namespace concierge::core {

void Router::tick(Instant now, Outbox& out) {
  wake_base_ = now;
  limiter_.prune(now);
  writers_.forget_idle(now);
  for (const auto& [a, b] : sessions_.expire(now)) {
    if (enrolled(a)) publish_proxy_status(a, now, out);
    if (enrolled(b)) publish_proxy_status(b, now, out);
    pools_.session_ended(a, now);  // for pools: whose last conversation ended longest ago
    pools_.session_ended(b, now);
  }
  expire_holds(now, out);
  // Bookkeeping that only matters for a while.
  pools_.forget_stale(now);
  urgent_sent_.forget_old(now);
  notices_.forget_expired(now);
  for (const auto& bare : availability_.forget_ended_pauses(now)) {
    store_.forget(Remembered::Kind::pause, bare, {});  // ended: gone from the store too
  }
  // Schedule boundaries, ended sessions and pauses: re-decide every target with holds.
  for (const auto& target : holds_.targets()) try_release(target, now, out);
  for (const auto& [target, subscribers] : subscriptions_.all_subscribers()) {
    publish_proxy_status(target, now, out);
  }
  wake_dirty_ = true;
}

std::optional<Instant> Router::next_wake() const {
  if (wake_dirty_) {
    // Recomputed only after something changed: this is asked on every loop turn.
    std::optional<Instant> next;
    auto earlier = [&](Instant t) {
      if (!next || t < *next) next = t;
    };
    if (auto pause = availability_.earliest_pause_end()) earlier(*pause);
    for (const auto& [id, h] : holds_.all()) {
      if (h.state == HoldState::sent) {
        earlier(h.sent_at + settings_.confirm_window);
      } else {
        earlier(h.received + settings_.max_hold_age);
      }
    }
    auto change_of = [&](const std::string& bare) {
      const ical::Schedule* s = availability_.schedule_of(bare);
      if (!s) return;
      const auto t = std::chrono::duration_cast<std::chrono::seconds>(
                         wake_base_.time_since_epoch()).count();
      if (auto c = s->next_change_after(t)) earlier(Instant{std::chrono::seconds(*c)});
    };
    for (const auto& target : holds_.targets()) change_of(target);
    for (const auto& [target, subscribers] : subscriptions_.all_subscribers()) change_of(target);
    schedule_wake_ = next;
    wake_dirty_ = false;
  }
  auto sessions = sessions_.next_expiry();
  if (!schedule_wake_) return sessions;
  if (!sessions) return schedule_wake_;
  return std::min(*schedule_wake_, *sessions);
}

}  // namespace concierge::core
