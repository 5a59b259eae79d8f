// SPDX-License-Identifier: MIT
// Scheduler: what happens to held messages apart from release — erasing (the HoldBook keeps the
// counts), expiry after limits.max_hold_age, bouncing a leaving target's holds, the lists the
// commands show (the sender's own "held" and "cancel" are user_commands.cpp's), and when time
// next matters (next_wake()).
#include <component/core/bounce_text.hpp>
#include <component/core/scheduler.hpp>
#include <component/core/text.hpp>

#include <algorithm>

namespace concierge::core {

void Scheduler::erase_hold(std::int64_t id) {
  if (const Hold* h = holds_.find(id); h && h->state == HoldState::held) {
    // Gone undelivered (cancelled, expired, bounced, unreadable): not "delivered" later.
    notices_.book().undelivered(h->sender, h->target, id);
  }
  holds_.erase(id);
}

void Scheduler::expire(Instant now, Outbox& out) {
  std::vector<std::int64_t> done;
  std::map<std::pair<std::string, std::string>, int> expired;
  for (const auto& [id, h] : holds_.all()) {
    if (h.state == HoldState::sent && now - h.sent_at >= rooms_.settings.confirm_window) {
      done.push_back(id);
    } else if (h.state == HoldState::held && !holds_.in_flight(id) &&
               now - h.received >= rooms_.settings.max_hold_age) {
      done.push_back(id);
      ++expired[{h.sender, h.target}];
    }
  }
  for (std::int64_t id : done) erase_hold(id);
  for (const auto& [pair, n] : expired) {
    rooms_.stats.expired += static_cast<std::uint64_t>(n);
    out.send(notices_.notice(pair.second, pair.first,
                    "Concierge: " + std::to_string(n) + (n == 1 ? " message" : " messages") +
                        " you sent to " + name_of(pair.second) +
                        " waited too long and expired undelivered."));
  }
  urgent_sent_.forget_old(now);
  notices_.book().forget_expired(now);
}

void Scheduler::bounce_holds(const std::string& target, const std::string& why, Outbox& out) {
  const auto* ids = holds_.of_target(target);
  if (!ids) return;
  // Each sender learns which messages came back: their texts, quoted and shortened, in the
  // order they were sent (the held copies are gone afterwards).
  std::map<std::string, std::vector<std::string>> per_sender;
  for (std::int64_t id : std::set<std::int64_t>(*ids)) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held) {
      auto held = xmpp::parse_xml(h.stanza);
      per_sender[h.sender].push_back(held ? held->child_text("body").value_or("") : "");
    }
    erase_hold(id);
  }
  for (const auto& [sender, bodies] : per_sender) {
    out.send(notices_.notice(target, sender, bounce_text(name_of(target), why, bodies)));
  }
}

std::vector<Hold> Scheduler::holds_for(const std::string& target) const {
  std::vector<Hold> out;
  const auto* ids = holds_.of_target(target);
  if (!ids) return out;
  for (std::int64_t id : *ids) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held && !holds_.in_flight(id) && !commits_.uncommitted(id)) {
      out.push_back(h);
    }
  }
  return out;
}

std::vector<Hold> Scheduler::held_from(const std::string& sender) const {
  std::vector<Hold> held;
  for (const auto& [id, h] : holds_.all()) {  // ids rise with arrival
    if (h.sender == sender && h.state == HoldState::held && !holds_.in_flight(id) &&
        !commits_.uncommitted(id)) {
      held.push_back(h);
    }
  }
  return held;
}

bool Scheduler::drop_hold(std::int64_t id) {
  const Hold* h = holds_.find(id);
  if (!h || h->state != HoldState::held || holds_.in_flight(id)) return false;
  erase_hold(id);
  wake_dirty_ = true;
  return true;
}

std::optional<Instant> Scheduler::next_wake() const {
  if (wake_dirty_) {
    // Recomputed only after something changed: this is asked on every loop turn.
    std::optional<Instant> next;
    auto earlier = [&](Instant t) {
      if (!next || t < *next) next = t;
    };
    if (auto pause = rooms_.availability.earliest_pause_end()) earlier(*pause);
    for (const auto& [id, h] : holds_.all()) {
      if (h.state == HoldState::sent) {
        earlier(h.sent_at + rooms_.settings.confirm_window);
      } else {
        earlier(h.received + rooms_.settings.max_hold_age);
      }
    }
    auto change_of = [&](const std::string& bare) {
      const ical::Schedule* s = rooms_.availability.schedule_of(bare);
      if (!s) return;
      const auto t = std::chrono::duration_cast<std::chrono::seconds>(
                         wake_base_.time_since_epoch()).count();
      if (auto c = s->next_change_after(t)) earlier(Instant{std::chrono::seconds(*c)});
    };
    for (const auto& target : holds_.targets()) change_of(target);
    for (const auto& [target, subscribers] : rooms_.subscriptions.proxies().all_subscribers()) {
      change_of(target);
    }
    schedule_wake_ = next;
    wake_dirty_ = false;
  }
  auto sessions = rooms_.sessions.next_expiry();
  if (!schedule_wake_) return sessions;
  if (!sessions) return schedule_wake_;
  return std::min(*schedule_wake_, *sessions);
}

}  // namespace concierge::core
