// SPDX-License-Identifier: MIT
// Pools: pools' stanzas (DESIGN §3) and re-deciding a target's holds, pools first.
#include <component/core/pools.hpp>

#include <component/core/text.hpp>

namespace concierge::core {

Pools::Pools(const Settings& settings, Store& store, SessionBook& sessions,
             const Directory& directory, const Availability& availability,
             const PresenceBook& presence, Scheduler& scheduler, Releaser& releaser,
             RouterStats& stats, PoolActions actions)
    : settings_(settings),
      sessions_(sessions),
      directory_(directory),
      availability_(availability),
      presence_(presence),
      scheduler_(scheduler),
      releaser_(releaser),
      stats_(stats),
      actions_(std::move(actions)),
      desk_(settings, sessions) {
  desk_.keep_in(store);
}

bool Pools::message(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                    Instant now, Outbox& out) {
  std::string pool, peer;
  if (!desk_.address(to, pool, peer)) return false;
  if (peer.empty()) {
    from_sender(stanza, from, pool, now, out);
  } else {
    from_member(stanza, from, pool, peer, now, out);
  }
  return true;
}

bool Pools::bounce(const xmpp::Element& stanza, const xmpp::Jid& to, bool from_served,
                   Instant now, Outbox& out) {
  std::string pool, peer;
  if (!desk_.address(to, pool, peer) || peer.empty()) return false;
  if (from_served && !releaser_.rehold_bounce(stanza, desk_.pool_jid(pool), peer, now, out)) {
    xmpp::Element copy = stanza;
    copy.set_attr("from", desk_.pool_jid(pool));
    copy.set_attr("to", peer);
    ++stats_.relayed;
    out.send(std::move(copy));
  }
  return true;
}

std::optional<std::string> Pools::pick_member(const std::string& pool, Instant now) const {
  return desk_.pick(pool, [&](const std::string& member) {
    return directory_.enrolled(member) &&
           availability_.status_of(member, now) == ical::Status::working &&
           presence_.reachability(member) != Reachability::offline &&
           actions_.session_idle(member, now);
  });
}

void Pools::from_sender(const xmpp::Element& stanza, const xmpp::Jid& sender,
                        const std::string& pool, Instant now, Outbox& out) {
  const std::string from = lower(sender.bare_string());
  const std::string address = desk_.pool_jid(pool);
  const bool has_body = stanza.child("body") != nullptr;
  std::optional<std::string> member = desk_.assigned(pool, from, now);
  // First come first served: a new conversation takes a member only while nobody waits.
  if (!member && !scheduler_.holds().has_waiting(address)) member = pick_member(pool, now);
  if (member) {
    xmpp::Element copy = stanza;
    copy.set_attr("from", desk_.reserved_address(pool, from));
    copy.set_attr("to", *member);
    desk_.assign(pool, from, *member, now);
    ++stats_.relayed;
    out.forward(std::move(copy));
    actions_.track_session(stanza, from, *member, now, out);
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
    refuse_stanza(stanza, Refusal::rate_limited,
                  address + " has too many messages waiting; try again later.", stats_, out);
    return;
  }
  xmpp::Element held = stanza;
  held.set_attr("from", desk_.reserved_address(pool, from));
  held.remove_attr("to");  // set at release, to the member it goes to
  scheduler_.hold(stanza, std::move(held), from, address, HoldReason::queue, now, out);
}

void Pools::from_member(const xmpp::Element& stanza, const xmpp::Jid& member,
                        const std::string& pool, const std::string& peer, Instant now,
                        Outbox& out) {
  const std::string from = lower(member.bare_string());
  if (!desk_.is_member(pool, from)) {
    if (stanza.child("body") && stanza.attr("type") != "headline") {
      refuse_stanza(stanza, Refusal::target_blocks_sender,
                    "Only members of " + desk_.pool_jid(pool) + " can answer through this address.",
                    stats_, out);
    }
    return;
  }
  xmpp::Element copy = stanza;
  copy.set_attr("from", desk_.pool_jid(pool));  // the sender never learns which member answered
  copy.set_attr("to", peer);
  desk_.assign(pool, peer, from, now);
  ++stats_.relayed;
  out.forward(std::move(copy));
  actions_.track_session(stanza, from, peer, now, out);
}

void Pools::release_pool(const std::string& pool, Instant now, Outbox& out) {
  const std::string address = desk_.pool_jid(pool);
  for (const auto& sender : releaser_.waiting_senders(address)) {
    auto member = pick_member(pool, now);
    if (!member) break;
    releaser_.release_sender(sender, address, *member, now, out);
    desk_.assign(pool, sender, *member, now);
    sessions_.reserve(sender, *member, now);
    actions_.publish(*member, now, out);
  }
}

void Pools::release(const std::string& target, Instant now, Outbox& out) {
  if (!releaser_.online()) return;
  if (target.ends_with("@" + settings_.component_domain)) {
    release_pool(target.substr(0, target.find('@')), now, out);
    return;
  }
  // A member who became free may take a pool's waiting conversation first.
  if (desk_.any()) {
    for (const auto& pool : desk_.pools_of(target)) release_pool(pool, now, out);
  }
  releaser_.release_ready(target, now, out);
}

}  // namespace concierge::core
