// SPDX-License-Identifier: MIT
// Router: what happens to held messages apart from release — erasing (the HoldBook keeps the
// counts), expiry after limits.max_hold_age, bouncing a leaving target's holds (the sender's own "held"
// and "cancel" are user_commands.cpp's).
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

}  // namespace concierge::core
