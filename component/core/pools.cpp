// SPDX-License-Identifier: MIT
// Router: pools (DESIGN §3) — one address, several people. A message to helpdesk@component goes
// to the member who is working and session-idle and whose last pool conversation ended longest
// ago; the conversation stays with that member until it goes idle. The member sees the sender
// under a reserved per-(pool, sender) address; the sender only ever sees the pool's address.
#include <algorithm>

#include <component/core/router.hpp>
#include <component/core/text.hpp>
#include <component/core/timestamp.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kSeparator = "\\20";


}  // namespace

bool Router::pool_address(const xmpp::Jid& to, std::string& pool, std::string& peer) const {
  if (settings_.pools.empty() || !to.has_local()) return false;
  const std::string local = lower(to.local());
  if (settings_.pools.count(local)) {
    pool = local;
    peer.clear();
    return true;
  }
  const auto sep = local.find(kSeparator);
  if (sep == std::string::npos || !settings_.pools.count(local.substr(0, sep))) return false;
  auto jid = xmpp::Jid::parse(xmpp::unescape_local(to.local().substr(sep + kSeparator.size())));
  if (!jid || !jid->has_local() || jid->has_resource()) return false;
  pool = local.substr(0, sep);
  peer = lower(jid->bare_string());
  return true;
}

std::string Router::reserved_address(const std::string& pool, const std::string& sender) const {
  return pool + std::string(kSeparator) + xmpp::escape_local(sender).value_or("") + "@" +
         settings_.component_domain;
}

std::optional<std::string> Router::pick_member(const std::string& pool, Instant now) const {
  auto it = settings_.pools.find(pool);
  if (it == settings_.pools.end()) return std::nullopt;
  std::optional<std::string> best;
  Instant best_since{};
  for (const auto& member : it->second) {
    if (!enrolled(member) || status_of(member, now) != ical::Status::working) continue;
    if (presence_.reachability(member) == Reachability::offline) continue;
    if (!session_idle(member, now)) continue;
    auto since = member_free_since_.find(member);
    const Instant free_since = since == member_free_since_.end() ? Instant{} : since->second;
    if (!best || free_since < best_since) {
      best = member;
      best_since = free_since;
    }
  }
  return best;
}

void Router::pool_message(const xmpp::Element& stanza, const xmpp::Jid& sender,
                          const std::string& pool, Instant now, Outbox& out) {
  const std::string from = lower(sender.bare_string());
  const std::string address = pool_jid(pool);
  const bool has_body = stanza.child("body") != nullptr;
  auto assigned = pool_assigned_.find({pool, from});
  if (assigned != pool_assigned_.end() &&
      now - assigned->second.last_activity >= settings_.idle_after &&
      !sessions_.is_open(from, assigned->second.member, now)) {
    member_free_since_[assigned->second.member] = now;
    pool_assigned_.erase(assigned);
    assigned = pool_assigned_.end();
  }
  std::optional<std::string> member;
  if (assigned != pool_assigned_.end()) {
    member = assigned->second.member;
  } else if (!holds_.has_waiting(address)) {  // first come first served: nobody waits yet
    member = pick_member(pool, now);
  }
  if (member) {
    xmpp::Element copy = stanza;
    copy.set_attr("from", reserved_address(pool, from));
    copy.set_attr("to", *member);
    pool_assigned_[{pool, from}] = {*member, now};
    ++stats_.relayed;
    out.forward(std::move(copy));
    track_session(stanza, from, *member, now, out);
    return;
  }
  if (!has_body || stanza.child("no-store", "urn:xmpp:hints")) {
    ++stats_.dropped;
    return;
  }
  const auto* per_pool = holds_.of_target(address);
  if ((per_pool && per_pool->size() >= settings_.holds_per_target) ||
      holds_.held_by(from) >= settings_.holds_per_sender) {
    refuse(stanza, Refusal::rate_limited,
           address + " has too many messages waiting; try again later.", out);
    return;
  }
  xmpp::Element held = stanza;
  held.set_attr("from", reserved_address(pool, from));
  held.remove_attr("to");  // set at release, to the member it goes to
  hold(stanza, std::move(held), from, address, HoldReason::queue, now, out);
}

void Router::pool_reply(const xmpp::Element& stanza, const xmpp::Jid& member,
                        const std::string& pool, const std::string& peer, Instant now,
                        Outbox& out) {
  const std::string from = lower(member.bare_string());
  const auto& members = settings_.pools.at(pool);
  if (std::find(members.begin(), members.end(), from) == members.end()) {
    if (stanza.child("body") && stanza.attr("type") != "headline") {
      refuse(stanza, Refusal::target_blocks_sender,
             "Only members of " + pool_jid(pool) + " can answer through this address.", out);
    }
    return;
  }
  xmpp::Element copy = stanza;
  copy.set_attr("from", pool_jid(pool));  // the sender never learns which member answered
  copy.set_attr("to", peer);
  pool_assigned_[{pool, peer}] = {from, now};
  ++stats_.relayed;
  out.forward(std::move(copy));
  track_session(stanza, from, peer, now, out);
}

void Router::try_release_pool(const std::string& pool, Instant now, Outbox& out) {
  const std::string address = pool_jid(pool);
  const auto* ids = holds_.of_target(address);
  if (!online_ || !ids) return;
  std::vector<std::string> order;
  for (std::int64_t id : *ids) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held && !holds_.in_flight(id) &&
        std::find(order.begin(), order.end(), h.sender) == order.end()) {
      order.push_back(h.sender);
    }
  }
  std::vector<std::int64_t> unreadable;  // erased after the loop: it walks `ids`
  for (const auto& sender : order) {
    auto member = pick_member(pool, now);
    if (!member) break;
    std::vector<std::int64_t> released;
    for (std::int64_t id : std::set<std::int64_t>(*ids)) {
      Hold& h = holds_.at(id);
      if (h.sender != sender || h.state != HoldState::held || holds_.in_flight(id)) continue;
      if (!release(h, *member, now, out)) unreadable.push_back(id);
      released.push_back(id);
    }
    expect_delivery(sender, address, released);
    notified_.erase({sender, address});
    pool_assigned_[{pool, sender}] = {*member, now};
    sessions_.reserve(sender, *member, now);
    publish_proxy_status(*member, now, out);
  }
  for (std::int64_t id : unreadable) erase_hold(id);
}

void Router::release_pools_of(const std::string& member, Instant now, Outbox& out) {
  for (const auto& [pool, members] : settings_.pools) {
    if (std::find(members.begin(), members.end(), member) != members.end()) {
      try_release_pool(pool, now, out);
    }
  }
}

}  // namespace concierge::core
