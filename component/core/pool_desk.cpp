// SPDX-License-Identifier: MIT
// PoolDesk: a message to helpdesk@component goes to the member who is free and whose last
// pool conversation ended longest ago; the conversation stays with that member until it goes
// idle. The member sees the sender under a reserved per-(pool, sender) address; the sender only
// ever sees the pool's address.
#include <component/core/pool_desk.hpp>

#include <algorithm>
#include <chrono>

#include <component/core/text.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kSeparator = "\\20";

}  // namespace

bool PoolDesk::address(const xmpp::Jid& to, std::string& pool, std::string& peer) const {
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

std::string PoolDesk::reserved_address(const std::string& pool, const std::string& sender) const {
  return pool + std::string(kSeparator) + xmpp::escape_local(sender).value_or("") + "@" +
         settings_.component_domain;
}

bool PoolDesk::is_member(const std::string& pool, const std::string& who) const {
  auto it = settings_.pools.find(pool);
  return it != settings_.pools.end() &&
         std::find(it->second.begin(), it->second.end(), who) != it->second.end();
}

std::vector<std::string> PoolDesk::pools_of(const std::string& member) const {
  std::vector<std::string> pools;
  for (const auto& [pool, members] : settings_.pools) {
    if (std::find(members.begin(), members.end(), member) != members.end()) pools.push_back(pool);
  }
  return pools;
}

std::optional<std::string> PoolDesk::assigned(const std::string& pool, const std::string& sender,
                                              Instant now) {
  auto it = assigned_.find({pool, sender});
  if (it == assigned_.end()) return std::nullopt;
  if (now - it->second.last_activity >= settings_.idle_after &&
      !sessions_.is_open(sender, it->second.member, now)) {
    free_since_[it->second.member] = now;
    assigned_.erase(it);
    return std::nullopt;
  }
  return it->second.member;
}

void PoolDesk::assign(const std::string& pool, const std::string& sender,
                      const std::string& member, Instant now) {
  assigned_[{pool, sender}] = {member, now};
}

std::optional<std::string> PoolDesk::pick(
    const std::string& pool, const std::function<bool(const std::string&)>& free) const {
  auto it = settings_.pools.find(pool);
  if (it == settings_.pools.end()) return std::nullopt;
  std::optional<std::string> best;
  Instant best_since{};
  for (const auto& member : it->second) {
    if (!free(member)) continue;
    auto since = free_since_.find(member);
    const Instant free_since = since == free_since_.end() ? Instant{} : since->second;
    if (!best || free_since < best_since) {
      best = member;
      best_since = free_since;
    }
  }
  return best;
}

void PoolDesk::forget_stale(Instant now) {
  std::erase_if(assigned_, [&](const auto& entry) {
    return now - entry.second.last_activity >= settings_.idle_after &&
           !sessions_.is_open(entry.first.second, entry.second.member, now);
  });
  std::erase_if(free_since_, [&](const auto& entry) {
    return now - entry.second > std::chrono::hours(24 * 7);
  });
}

}  // namespace concierge::core
