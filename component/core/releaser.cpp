// SPDX-License-Identifier: MIT
// Releaser (releaser.hpp): releasing held messages (DESIGN §2 "Release", §6) — all together after an
// off-hours/away/offline hold with a summary first, one conversation per free slot from the
// queue; confirmation by ping; re-holding what the server bounces within the confirm window.
#include <algorithm>

#include <component/core/decision.hpp>
#include <component/core/releaser.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>
#include <component/core/timestamp.hpp>

namespace concierge::core {
namespace {

// A released message the server bounces this often is given up (see rehold_bounce).
constexpr int kMaxBounces = 3;
constexpr std::string_view kDelay = "urn:xmpp:delay";

}  // namespace

Releaser::Releaser(const SchedulerRooms& rooms, Scheduler& scheduler)
    : rooms_(rooms), scheduler_(scheduler), holds_(scheduler.holds()) {}

void Releaser::set_reason(const std::vector<std::int64_t>& ids, const std::string& sender,
                        const std::string& target, HoldReason reason, Instant now, Outbox& out) {
  for (std::int64_t id : ids) {
    Hold& h = holds_.at(id);
    if (h.state == HoldState::held && h.reason != reason) {
      h.reason = reason;
      holds_.write(h);
    }
  }
  // The notice follows the store write: both go out after this turn's commit.
  scheduler_.notices().hold_notice(sender, target, reason, now, out);
}

bool Releaser::release(Hold& h, const std::string& to, Instant now, Outbox& out) {
  auto stanza = xmpp::parse_xml(h.stanza);
  if (!stanza) {
    out.log(LogLevel::error, "a held message could not be read back; dropped it");
    return false;  // the caller erases it once it is done iterating
  }
  stanza->set_attr("to", to);  // the target; for a pool, the member it goes to
  stanza->add_child(xmpp::make("delay", {{"xmlns", std::string(kDelay)},
                                         {"from", rooms_.settings.component_domain},
                                         {"stamp", format_xmpp_datetime(h.received)}}));
  holds_.mark_in_flight(h.id);
  ++rooms_.stats.released;
  counts_.count(now);
  rooms_.sessions.delivered(h.sender, to, now);  // opens nothing: only `to` answering does
  out.releases.push_back({h.id, std::move(*stanza)});
  return true;
}

void Releaser::release_ready(const std::string& target, Instant now, Outbox& out) {
  if (!online_) return;
  const auto* held = holds_.of_target(target);
  if (!held || held->empty()) return;
  // Waiting conversations in the order of their first held message, each with its holds:
  // grouped once, so every step below is linear in the target's holds.
  struct Conversation {
    std::string sender;
    HoldReason reason;
    std::vector<std::int64_t> ids;
  };
  std::vector<Conversation> waiting;
  std::unordered_map<std::string, std::size_t> index;
  for (std::int64_t id : *held) {
    const Hold& h = holds_.at(id);
    if (h.state != HoldState::held || holds_.in_flight(id)) continue;
    auto [pos, fresh] = index.try_emplace(h.sender, waiting.size());
    if (fresh) waiting.push_back({h.sender, h.reason, {}});
    waiting[pos->second].ids.push_back(id);
  }
  if (waiting.empty()) return;
  std::vector<std::int64_t> unreadable;
  auto release_conversation = [&](Conversation& c) {
    for (std::int64_t id : c.ids) {
      if (!release(holds_.at(id), target, now, out)) unreadable.push_back(id);
    }
    scheduler_.notices().expect_delivery(c.sender, target, c.ids);
    c.ids.clear();
    scheduler_.notices().book().episode_ended(c.sender, target);
  };
  auto finish = [&] {
    for (std::int64_t id : unreadable) scheduler_.erase_hold(id);
  };

  // The "while you were away" summary, before the conversations it lists. Their holds stay
  // summarised (HoldBook) until the server confirms their release: if the stream is cut first, the
  // summary may be lost with them, and it goes again when they are released again.
  auto summarise = [&](const std::vector<Conversation*>& listed) {
    std::size_t total = 0;
    std::string list;
    for (const Conversation* c : listed) {
      total += c->ids.size();
      list += (list.empty() ? "" : ", ") + name_of(c->sender) + " (" +
              std::to_string(c->ids.size()) + " since " +
              scheduler_.notices().when(holds_.at(c->ids.front()).received, target, target, now) + ")";
      holds_.summarise(c->ids);
    }
    const std::string summary =
        "Concierge: while you were away, " + std::to_string(listed.size()) +
        (listed.size() == 1 ? " person" : " people") + " wrote " + std::to_string(total) +
        (total == 1 ? " message: " : " messages: ") + list + ". Here they come.";
    out.send(chat_message(rooms_.settings.component_domain, target, summary, true));
  };

  // The conversation row of the table: held messages of a conversation the target engaged in
  // since go now, whatever waits — unless a pause holds everything or the target is offline —
  // with their summary again when an unconfirmed release of them had one.
  const Reachability reach = rooms_.presence.reachability(target);
  std::vector<Conversation*> reopened, unconfirmed;
  if (!rooms_.availability.paused(target, now) && reach != Reachability::offline) {
    for (auto& c : waiting) {
      if (!rooms_.sessions.engaged(c.sender, target, now)) continue;
      reopened.push_back(&c);
      if (std::ranges::any_of(c.ids, [&](std::int64_t id) { return holds_.summarised(id); })) {
        unconfirmed.push_back(&c);
      }
    }
  }
  if (!unconfirmed.empty()) summarise(unconfirmed);
  for (Conversation* c : reopened) release_conversation(*c);
  const ical::Status status = rooms_.availability.status_of(target, now);
  if (status != ical::Status::working || reach == Reachability::offline) {
    const HoldReason reason =
        status != ical::Status::working ? hold_reason_for(status) : HoldReason::offline;
    for (auto& c : waiting) {
      if (!c.ids.empty()) set_reason(c.ids, c.sender, target, reason, now, out);
    }
    finish();
    return;
  }
  const bool dnd = reach == Reachability::dnd;
  // Off-hours / away / busy / offline holds: released together, with one summary first —
  // when the target is free to take them.
  std::vector<Conversation*> batch;
  for (auto& c : waiting) {
    if (!c.ids.empty() && c.reason != HoldReason::queue) batch.push_back(&c);
  }
  if (!batch.empty()) {
    if (!dnd && rooms_.sessions.counted(target, now) < rooms_.settings.max_concurrent) {
      summarise(batch);
      for (Conversation* c : batch) release_conversation(*c);
      finish();
      return;
    }
    for (Conversation* c : batch) {
      set_reason(c->ids, c->sender, target, HoldReason::queue, now, out);
      c->reason = HoldReason::queue;
    }
  }
  // The queue: one conversation per free slot, first come first served; a released
  // conversation holds its slot until its session ends.
  int free = dnd ? 0 : rooms_.settings.max_concurrent - rooms_.sessions.counted(target, now);
  for (auto& c : waiting) {
    if (free <= 0) break;
    if (c.ids.empty()) continue;
    release_conversation(c);
    rooms_.sessions.reserve(c.sender, target, now);
    --free;
  }
  finish();
}

void Releaser::release_confirmed(const std::vector<std::int64_t>& ids, Instant now, Outbox& out) {
  scheduler_.changed();  // their confirm windows now end
  std::set<std::pair<std::string, std::string>> touched;
  for (std::int64_t id : ids) {
    holds_.unsummarise(id);
    if (!holds_.unmark_in_flight(id)) continue;
    Hold* h = holds_.find(id);
    if (!h) continue;
    holds_.confirm(*h, now);
    touched.insert({h->sender, h->target});
  }
  // Once per hold episode: the sender was told their messages were held, and none is any more.
  for (const auto& pair : touched) {
    if (!holds_.pair_held(pair.first, pair.second)) {
      scheduler_.notices().delivered(pair.first, pair.second, out);
    }
  }
}

void Releaser::disconnected() {
  online_ = false;
  holds_.stream_lost();  // still `held` in the store: they go out again once conditions allow
}

bool Releaser::rehold_bounce(const xmpp::Element& stanza, const std::string& target,
                           const std::string& sender, Instant now, Outbox& out) {
  const std::string_view id = stanza.attr("id");
  const auto* ids = id.empty() ? nullptr : holds_.of_target(target);
  if (!ids) return false;
  for (std::int64_t hid : *ids) {
    Hold& h = holds_.at(hid);
    if (h.sender != sender || h.stanza_id != id) continue;
    if (h.state == HoldState::sent && now - h.sent_at > rooms_.settings.confirm_window) continue;
    if (h.state != HoldState::sent && !holds_.in_flight(hid)) continue;
    holds_.hold_again(h);
    h.reason = HoldReason::offline;
    if (holds_.bounced(hid) > kMaxBounces) {
      // The server keeps refusing it (the target blocks the proxy, the account is gone…):
      // give up rather than retry for max_hold_age, and tell the sender.
      const std::string to = h.sender, about = h.target;
      scheduler_.notices().book().give_up_delivery(to, about);
      scheduler_.erase_hold(hid);
      out.send(scheduler_.notices().notice(about, to,
                      "Concierge: your message to " + name_of(about) +
                          " could not be delivered: the server refused it."));
      return true;
    }
    holds_.write(h);
    out.log(LogLevel::info, "a released message bounced; it is held again");
    return true;
  }
  return false;
}

void Releaser::flush(const std::string& target, Instant now, Outbox& out) {
  const auto* held = holds_.of_target(target);
  if (!held) return;
  std::vector<std::int64_t> unreadable;
  for (std::int64_t id : std::vector<std::int64_t>(held->begin(), held->end())) {
    Hold& h = holds_.at(id);
    if (h.state == HoldState::held && !holds_.in_flight(id) && !release(h, target, now, out)) {
      unreadable.push_back(id);
    }
  }
  for (std::int64_t id : unreadable) scheduler_.erase_hold(id);
}

std::vector<std::string> Releaser::waiting_senders(const std::string& target) const {
  std::vector<std::string> order;
  const auto* ids = holds_.of_target(target);
  if (!ids) return order;
  for (std::int64_t id : *ids) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held && !holds_.in_flight(id) &&
        std::find(order.begin(), order.end(), h.sender) == order.end()) {
      order.push_back(h.sender);
    }
  }
  return order;
}

void Releaser::release_sender(const std::string& sender, const std::string& target,
                              const std::string& to, Instant now, Outbox& out) {
  const auto* ids = holds_.of_target(target);
  if (!ids) return;
  std::vector<std::int64_t> released, unreadable;
  for (std::int64_t id : std::set<std::int64_t>(*ids)) {
    Hold& h = holds_.at(id);
    if (h.sender != sender || h.state != HoldState::held || holds_.in_flight(id)) continue;
    if (!release(h, to, now, out)) unreadable.push_back(id);
    released.push_back(id);
  }
  scheduler_.notices().expect_delivery(sender, target, released);
  scheduler_.notices().book().episode_ended(sender, target);
  for (std::int64_t id : unreadable) scheduler_.erase_hold(id);
}

}  // namespace concierge::core
