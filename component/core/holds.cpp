// SPDX-License-Identifier: MIT
// Router: what happens to held messages apart from release — erasing (the HoldBook keeps the
// counts), expiry after limits.max_hold_age, bouncing a leaving target's holds, and the sender's own
// "held" / "cancel" commands.
#include <component/core/bounce_text.hpp>
#include <component/core/router.hpp>
#include <component/core/text.hpp>

namespace concierge::core {

void Router::erase_hold(std::int64_t id) {
  if (const Hold* h = holds_.find(id); h && h->state == HoldState::held) {
    // Gone undelivered (cancelled, expired, bounced, unreadable): not "delivered" later.
    notices_.undelivered(h->sender, h->target, id);
  }
  holds_.erase(id);
}

void Router::expire_holds(Instant now, Outbox& out) {
  std::vector<std::int64_t> done;
  std::map<std::pair<std::string, std::string>, int> expired;
  for (const auto& [id, h] : holds_.all()) {
    if (h.state == HoldState::sent && now - h.sent_at >= settings_.confirm_window) {
      done.push_back(id);
    } else if (h.state == HoldState::held && !holds_.in_flight(id) &&
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
    out.send(notice(target, sender, bounce_text(name_of(target), why, bodies)));
  }
}

std::vector<Hold> Router::holds_for(const std::string& target) const {
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
  for (const auto& [id, h] : holds_.all()) {
    if (h.sender == sender && h.state == HoldState::held && !holds_.in_flight(id) &&
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
