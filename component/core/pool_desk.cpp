// SPDX-License-Identifier: MIT
// PoolDesk: a message to helpdesk@component goes to the member who is free and whose last
// pool conversation ended longest ago; the conversation stays with that member until it goes
// idle. The member sees the sender under a reserved per-(pool, sender) address; the sender only
// ever sees the pool's address.
#include <component/core/pool_desk.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>

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
    session_ended(it->second.member, now);
    drop(it);
    return std::nullopt;
  }
  return it->second.member;
}

void PoolDesk::assign(const std::string& pool, const std::string& sender,
                      const std::string& member, Instant now) {
  auto [it, added] = assigned_.try_emplace({pool, sender});
  const bool member_changed = added || it->second.member != member;
  it->second.member = member;
  it->second.last_activity = now;
  keep(it->first, it->second, member_changed);
}

void PoolDesk::keep(const std::pair<std::string, std::string>& key, Assignment& assignment,
                    bool member_changed) {
  if (store_ == nullptr) return;
  if (!member_changed && assignment.last_activity - assignment.kept < settings_.idle_after / 8) {
    return;
  }
  store_->remember({.kind = Remembered::Kind::pool_reservation,
                    .a = key.first,
                    .b = key.second,
                    .detail = assignment.member,
                    .number = 0,
                    .at = assignment.last_activity});
  assignment.kept = assignment.last_activity;
}

PoolDesk::Assignments::iterator PoolDesk::drop(Assignments::iterator it) {
  if (store_ != nullptr) {
    store_->forget(Remembered::Kind::pool_reservation, it->first.first, it->first.second);
  }
  return assigned_.erase(it);
}

void PoolDesk::session_ended(const std::string& who, Instant now) {
  free_since_[who] = now;
  // Every user's conversations end; only a member's free time matters (and is kept).
  if (store_ == nullptr || pools_of(who).empty()) return;
  store_->remember({.kind = Remembered::Kind::member_free,
                    .a = who,
                    .b = {},
                    .detail = {},
                    .number = 0,
                    .at = now});
}

void PoolDesk::restore(const Remembered& row) {
  if (row.kind == Remembered::Kind::pool_reservation) {
    assigned_.try_emplace({row.a, row.b}, Assignment{row.detail, row.at, row.at});
  } else if (row.kind == Remembered::Kind::member_free) {
    free_since_.try_emplace(row.a, row.at);
  }
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
  for (auto it = assigned_.begin(); it != assigned_.end();) {
    const bool idle = now - it->second.last_activity >= settings_.idle_after &&
                      !sessions_.is_open(it->first.second, it->second.member, now);
    it = idle ? drop(it) : std::next(it);
  }
  for (auto it = free_since_.begin(); it != free_since_.end();) {
    if (now - it->second <= std::chrono::hours(24 * 7)) {
      ++it;
      continue;
    }
    if (store_ != nullptr) store_->forget(Remembered::Kind::member_free, it->first, {});
    it = free_since_.erase(it);
  }
}

}  // namespace concierge::core
