// SPDX-License-Identifier: MIT
// Router: the bookkeeping of held messages — per-sender and per-episode counts, erasing,
// expiry after limits.max_hold_age, bouncing a leaving target's holds, and the sender's own
// "held" / "cancel" commands.
#include <component/core/bounce_text.hpp>
#include <component/core/router.hpp>
#include <component/core/text.hpp>

namespace concierge::core {

void Router::count_held(const Hold& h, int delta) {
  wake_dirty_ = true;  // a hold appeared, changed state or went: its expiry timer with it
  auto& per_sender = sender_holds_[h.sender];
  per_sender = static_cast<std::size_t>(static_cast<long long>(per_sender) + delta);
  if (per_sender == 0) sender_holds_.erase(h.sender);
  const auto pair = std::pair{h.sender, h.target};
  auto& per_pair = pair_held_[pair];
  per_pair += delta;
  if (per_pair <= 0) {
    pair_held_.erase(pair);
    // The hold episode ends when none of this sender's messages to this target is held.
    notified_.erase(pair);
  }
}

void Router::erase_hold(std::int64_t id) {
  auto it = holds_.find(id);
  if (it == holds_.end()) return;
  wake_dirty_ = true;
  bounces_.erase(id);
  const Hold& h = it->second;
  if (auto t = target_holds_.find(h.target); t != target_holds_.end()) {
    t->second.erase(id);
    if (t->second.empty()) target_holds_.erase(t);
  }
  if (h.state == HoldState::held) {
    count_held(h, -1);
    // Gone undelivered (cancelled, expired, bounced, unreadable): not "delivered" later.
    if (auto d = delivering_.find({h.sender, h.target}); d != delivering_.end()) {
      d->second.erase(id);
      if (d->second.empty()) delivering_.erase(d);
    }
  }
  in_flight_.erase(id);
  summarised_.erase(id);
  store_.remove_hold(id);
  holds_.erase(it);
}

void Router::expire_holds(Instant now, Outbox& out) {
  std::vector<std::int64_t> done;
  std::map<std::pair<std::string, std::string>, int> expired;
  for (auto& [id, h] : holds_) {
    if (h.state == HoldState::sent && now - h.sent_at >= settings_.confirm_window) {
      done.push_back(id);
    } else if (h.state == HoldState::held && !in_flight_.count(id) &&
               now - h.received >= settings_.max_hold_age) {
      done.push_back(id);
      ++expired[{h.sender, h.target}];
    }
  }
  for (std::int64_t id : done) erase_hold(id);
  for (const auto& [pair, n] : expired) {
    stats_.expired += static_cast<std::uint64_t>(n);
    out.send(notice(pair.second, pair.first,
                    "Concierge: " + std::to_string(n) + (n == 1 ? " message" : " messages") +
                        " you sent to " + name_of(pair.second) +
                        " waited too long and expired undelivered."));
  }
}

void Router::bounce_holds(const std::string& target, const std::string& why, Outbox& out) {
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return;
  // Each sender learns which messages came back: their texts, quoted and shortened, in the
  // order they were sent (the held copies are gone afterwards).
  std::map<std::string, std::vector<std::string>> per_sender;
  for (std::int64_t id : std::set<std::int64_t>(ids->second)) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held) {
      auto held = xmpp::parse_xml(h.stanza);
      per_sender[h.sender].push_back(held ? held->child_text("body").value_or("") : "");
    }
    erase_hold(id);
  }
  for (const auto& [sender, bodies] : per_sender) {
    out.send(notice(target, sender, bounce_text(name_of(target), why, bodies)));
  }
}

std::vector<Hold> Router::holds_for(const std::string& target) const {
  std::vector<Hold> out;
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return out;
  for (std::int64_t id : ids->second) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held && !in_flight_.count(id) && !commits_.uncommitted(id)) {
      out.push_back(h);
    }
  }
  return out;
}

// "held" lists what the sender has waiting; "cancel [jid]" drops it (DESIGN §2).
std::optional<std::string> Router::hold_command(const std::string& sender,
                                                std::string_view command, Instant now) {
  const bool list = command == "held";
  const bool cancel = command == "cancel" || command.starts_with("cancel ");
  if (!list && !cancel) return std::nullopt;
  std::string only;
  if (cancel && command.size() > 7) only = lower(command.substr(7));
  std::map<std::string, std::vector<std::int64_t>> mine;
  std::map<std::string, Instant> oldest;
  for (const auto& [id, h] : holds_) {
    if (h.sender == sender && h.state == HoldState::held && !in_flight_.count(id) &&
        !commits_.uncommitted(id) && (only.empty() || h.target == only)) {
      if (mine[h.target].empty()) oldest[h.target] = h.received;  // ids rise with arrival
      mine[h.target].push_back(id);
    }
  }
  std::string text;
  if (mine.empty()) {
    text = only.empty() ? "Nothing you sent is held." : "Nothing you sent to " + only + " is held.";
  } else if (list) {
    text = "Held for delivery:";
    for (const auto& [target, ids] : mine) {
      text += "\n  " + target + ": " + std::to_string(ids.size()) +
              (ids.size() == 1 ? " message" : " messages") + ", oldest " +
              age_text(now - oldest[target]) + " old";
    }
    text += "\nSend \"cancel\" (or \"cancel user@domain\") to withdraw them.";
  } else {
    std::size_t n = 0;
    for (const auto& [target, ids] : mine) {
      for (std::int64_t id : ids) erase_hold(id);
      n += ids.size();
    }
    text = "Cancelled " + std::to_string(n) + (n == 1 ? " held message." : " held messages.");
  }
  return text;
}

}  // namespace concierge::core
