// SPDX-License-Identifier: MIT
// Router: pools' stanzas (DESIGN §3) — a message to helpdesk@component goes to the member the
// PoolDesk picks among those working, reachable and session-idle, or waits in the pool's queue;
// members' answers go back from the pool's address.
#include <algorithm>

#include <component/core/router.hpp>
#include <component/core/text.hpp>
#include <component/core/timestamp.hpp>

namespace concierge::core {
std::optional<std::string> Router::pick_member(const std::string& pool, Instant now) const {
  return pools_.pick(pool, [&](const std::string& member) {
    return enrolled(member) && availability_.status_of(member, now) == ical::Status::working &&
           presence_.reachability(member) != Reachability::offline && session_idle(member, now);
  });
}

void Router::pool_message(const xmpp::Element& stanza, const xmpp::Jid& sender,
                          const std::string& pool, Instant now, Outbox& out) {
  const std::string from = lower(sender.bare_string());
  const std::string address = pools_.pool_jid(pool);
  const bool has_body = stanza.child("body") != nullptr;
  std::optional<std::string> member = pools_.assigned(pool, from, now);
  // First come first served: a new conversation takes a member only while nobody waits.
  if (!member && !scheduler_.holds().has_waiting(address)) member = pick_member(pool, now);
  if (member) {
    xmpp::Element copy = stanza;
    copy.set_attr("from", pools_.reserved_address(pool, from));
    copy.set_attr("to", *member);
    pools_.assign(pool, from, *member, now);
    ++stats_.relayed;
    out.forward(std::move(copy));
    track_session(stanza, from, *member, now, out);
    return;
  }
  if (!has_body || stanza.child("no-store", "urn:xmpp:hints")) {
    ++stats_.dropped;
    return;
  }
  const HoldBook& holds = scheduler_.holds();
  const auto* per_pool = holds.of_target(address);
  if ((per_pool && per_pool->size() >= settings_.holds_per_target) ||
      holds.held_by(from) >= settings_.holds_per_sender) {
    refuse(stanza, Refusal::rate_limited,
           address + " has too many messages waiting; try again later.", out);
    return;
  }
  xmpp::Element held = stanza;
  held.set_attr("from", pools_.reserved_address(pool, from));
  held.remove_attr("to");  // set at release, to the member it goes to
  scheduler_.hold(stanza, std::move(held), from, address, HoldReason::queue, now, out);
}

void Router::pool_reply(const xmpp::Element& stanza, const xmpp::Jid& member,
                        const std::string& pool, const std::string& peer, Instant now,
                        Outbox& out) {
  const std::string from = lower(member.bare_string());
  if (!pools_.is_member(pool, from)) {
    if (stanza.child("body") && stanza.attr("type") != "headline") {
      refuse(stanza, Refusal::target_blocks_sender,
             "Only members of " + pools_.pool_jid(pool) + " can answer through this address.", out);
    }
    return;
  }
  xmpp::Element copy = stanza;
  copy.set_attr("from", pools_.pool_jid(pool));  // the sender never learns which member answered
  copy.set_attr("to", peer);
  pools_.assign(pool, peer, from, now);
  ++stats_.relayed;
  out.forward(std::move(copy));
  track_session(stanza, from, peer, now, out);
}

void Router::try_release_pool(const std::string& pool, Instant now, Outbox& out) {
  const std::string address = pools_.pool_jid(pool);
  if (!releaser_.online()) return;
  for (const auto& sender : releaser_.waiting_senders(address)) {
    auto member = pick_member(pool, now);
    if (!member) break;
    releaser_.release_sender(sender, address, *member, now, out);
    pools_.assign(pool, sender, *member, now);
    sessions_.reserve(sender, *member, now);
    publish_proxy_status(*member, now, out);
  }
}

void Router::release_pools_of(const std::string& member, Instant now, Outbox& out) {
  for (const auto& pool : pools_.pools_of(member)) try_release_pool(pool, now, out);
}

}  // namespace concierge::core
