// SPDX-License-Identifier: MIT
#include <component/core/pass_book.hpp>

#include <algorithm>

#include <component/core/text.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {
namespace divert = xmpp::divert;
namespace {

std::string domain_of(const std::string& bare) {
  const auto at = bare.find('@');
  return at == std::string::npos ? bare : bare.substr(at + 1);
}

}  // namespace

void PassBook::reconfigure(const Settings& settings) {
  domain_ = settings.component_domain;
  urgent_prefix_ = settings.urgent_prefix;
  idle_after_ = settings.idle_after;
}

std::optional<Instant> PassBook::any_until(const std::string& target, Instant now,
                                           const Router& router) const {
  const Directory& directory = router.directory();
  if (!directory.enrolled(target) || !directory.senders().blocked_by(target).empty()) {
    return std::nullopt;  // a pass for anyone would pass those they block too
  }
  const Scheduler& scheduler = router.scheduler();
  const TargetState b = scheduler.target_state("", target, now);
  // DESIGN §2's last row, and nothing above it can apply to a plain message from anyone:
  // not paused, on duty, known available and not dnd, a free slot, nobody waiting, and nobody
  // whose answer would start a conversation.
  if (b.paused || b.status != ical::Status::working || b.reach != Reachability::available ||
      b.counted >= b.max_concurrent || b.others_waiting ||
      scheduler.holds().of_target(target) != nullptr ||
      router.presences().sessions().engaged_with_anyone(target, now)) {
    return std::nullopt;
  }
  Instant until = now + kLongest;
  if (const ical::Schedule* schedule = router.availability().schedule_of(target)) {
    const ical::UtcSeconds t = to_utc_seconds(now);
    std::optional<ical::UtcSeconds> change;
    if (schedule->covers(t)) {
      change = schedule->next_change_after(t).value_or(schedule->window_to());
    } else if (t < schedule->window_from()) {
      change = schedule->window_from();
    }
    if (change) until = std::min(until, from_utc_seconds(*change) - kBeforeChange);
  }
  if (until - now < std::chrono::seconds(1)) return std::nullopt;
  return until;
}

std::optional<Instant> PassBook::sender_until(const std::string& sender, const std::string& target,
                                              Instant now, const Router& router) const {
  const Directory& directory = router.directory();
  if (!directory.enrolled(target) || directory.senders().blocks(target, sender)) {
    return std::nullopt;
  }
  // DESIGN §2's third row: a conversation goes unless B paused or is known offline. The
  // conversation lasts idle_after past this message at least, so the pass may too.
  const TargetState b = router.scheduler().target_state(sender, target, now);
  if (b.paused || !b.engaged || b.reach == Reachability::offline) return std::nullopt;
  // The sender's held messages to the target go first (order per sender, DESIGN §2).
  if (const auto* ids = router.scheduler().holds().of_target(target)) {
    for (std::int64_t id : *ids) {
      if (router.scheduler().holds().at(id).sender == sender) return std::nullopt;
    }
  }
  return now + std::min(kLongest, idle_after_);
}

std::optional<divert::Pass> PassBook::grant(const std::string& sender, const std::string& target,
                                            Instant now, const Router& router) {
  using Scope = divert::Pass::Scope;
  const auto ttl = [&](Instant until) {
    return static_cast<std::uint32_t>((until - now).count());
  };
  if (auto until = any_until(target, now, router)) {
    by_target_[target].any = *until;
    return divert::Pass{Scope::any, ttl(*until), urgent_prefix_};
  }
  if (auto until = sender_until(sender, target, now, router)) {
    auto& from = by_target_[target].from;
    if (from.insert_or_assign(sender, *until).second) by_sender_[sender].push_back(target);
    return divert::Pass{Scope::sender, ttl(*until), ""};
  }
  return std::nullopt;
}

bool PassBook::holds(const std::string& sender, const std::string& target, Instant now) const {
  auto it = by_target_.find(target);
  if (it == by_target_.end()) return false;
  if (it->second.any && *it->second.any > now) return true;
  auto s = it->second.from.find(sender);
  return s != it->second.from.end() && s->second > now;
}

void PassBook::forget_sender(const std::string& sender, const std::string& target) {
  auto it = by_sender_.find(sender);
  if (it == by_sender_.end()) return;
  std::erase(it->second, target);
  if (it->second.empty()) by_sender_.erase(it);
}

void PassBook::recheck_target(const std::string& target, const std::string* sender, Instant now,
                              const Router& router, std::vector<divert::Revoke::Revoked>& revoked) {
  auto it = by_target_.find(target);
  if (it == by_target_.end()) return;
  Passes& p = it->second;
  // A pass that still holds, but now for a shorter time than the extension counts, ends too.
  const auto ended = [&](Instant granted, std::optional<Instant> allowed) {
    return granted > now && (!allowed || *allowed < granted);
  };
  if (p.any && !sender) {
    if (*p.any <= now) {
      p.any.reset();
    } else if (ended(*p.any, any_until(target, now, router))) {
      revoked.push_back({target, ""});
      p.any.reset();
    }
  }
  for (auto s = p.from.begin(); s != p.from.end();) {
    if (sender && s->first != *sender) {
      ++s;
      continue;
    }
    const bool expired = s->second <= now;
    if (!expired && !ended(s->second, sender_until(s->first, target, now, router))) {
      ++s;
      continue;
    }
    if (!expired) revoked.push_back({target, s->first});
    forget_sender(s->first, target);
    s = p.from.erase(s);
  }
  if (!p.any && p.from.empty()) by_target_.erase(it);
}

void PassBook::recheck(const std::vector<std::string>& users, Instant now, const Router& router,
                       Outbox& out) {
  if (by_target_.empty()) return;
  std::vector<divert::Revoke::Revoked> revoked;
  for (const std::string& user : users) {
    recheck_target(user, nullptr, now, router, revoked);
    if (auto it = by_sender_.find(user); it != by_sender_.end()) {
      const std::vector<std::string> targets = it->second;  // recheck_target edits the index
      for (const std::string& target : targets) recheck_target(target, &user, now, router, revoked);
    }
  }
  send(std::move(revoked), out);
}

void PassBook::recheck_all(Instant now, const Router& router, Outbox& out) {
  std::vector<std::string> targets;
  targets.reserve(by_target_.size());
  for (const auto& [target, passes] : by_target_) targets.push_back(target);
  std::vector<divert::Revoke::Revoked> revoked;
  for (const std::string& target : targets) recheck_target(target, nullptr, now, router, revoked);
  send(std::move(revoked), out);
}

void PassBook::touched(const xmpp::Element& stanza, Instant now, const Router& router,
                       Outbox& out, std::size_t at) {
  if (by_target_.empty()) return;
  std::vector<std::string> users;
  if (auto from = xmpp::Jid::parse(stanza.attr("from")); from && from->has_local()) {
    users.push_back(lower(from->bare_string()));
  }
  Outbox revokes;
  if (auto to = xmpp::Jid::parse(stanza.attr("to"))) {
    if (auto user = xmpp::user_from_proxy(to->bare(), domain_)) {
      users.push_back(lower(user->bare_string()));
    } else if (to->has_local()) {
      users.push_back(lower(to->bare_string()));
    }  // a command to the component: its sender here, everyone after it (enrolment_may_have_changed)
  }
  if (!users.empty()) recheck(users, now, router, revokes);
  if (revokes.stanzas.empty()) return;
  at = std::min(at, out.stanzas.size());
  const std::size_t n = revokes.stanzas.size();
  out.stanzas.insert(out.stanzas.begin() + static_cast<std::ptrdiff_t>(at),
                     std::make_move_iterator(revokes.stanzas.begin()),
                     std::make_move_iterator(revokes.stanzas.end()));
  for (std::size_t& i : out.forwarded) {
    if (i >= at) i += n;
  }
}

void PassBook::sweep(Instant now) {
  for (auto it = by_target_.begin(); it != by_target_.end();) {
    Passes& p = it->second;
    if (p.any && *p.any <= now) p.any.reset();
    for (auto s = p.from.begin(); s != p.from.end();) {
      if (s->second > now) {
        ++s;
        continue;
      }
      forget_sender(s->first, it->first);
      s = p.from.erase(s);
    }
    it = (!p.any && p.from.empty()) ? by_target_.erase(it) : std::next(it);
  }
}

void PassBook::recheck_changed(Instant now, const Router& router, Outbox& out) {
  // Passes nobody rechecked end by their ttl alone: forgotten once a minute.
  if (now >= next_sweep_) {
    sweep(now);
    next_sweep_ = now + kLongest;
  }
  const HoldBook& holds = router.scheduler().holds();
  const std::uint64_t times = router.availability().version();
  if (by_target_.empty()) {
    newest_hold_ = holds.newest_id();
    times_seen_ = times;
    return;
  }
  // A schedule or a pause set: rare (a calendar batch, a command), so everyone is rechecked.
  if (times != times_seen_) {
    times_seen_ = times;
    newest_hold_ = holds.newest_id();
    recheck_all(now, router, out);
    return;
  }
  std::vector<std::string> users;
  // A release marks its sender as having written and may reserve its target's slot (a pool).
  for (const auto& r : out.releases) {
    if (auto h = holds.all().find(r.hold_id); h != holds.all().end()) {
      users.push_back(h->second.sender);
      users.push_back(h->second.target);
    }
  }
  if (holds.newest_id() <= newest_hold_) {
    if (!users.empty()) recheck(users, now, router, out);
    return;
  }
  for (auto it = holds.all().upper_bound(newest_hold_); it != holds.all().end(); ++it) {
    users.push_back(it->second.target);
  }
  newest_hold_ = holds.newest_id();
  recheck(users, now, router, out);
}

void PassBook::clear() {
  by_target_.clear();
  by_sender_.clear();
}

void PassBook::send(std::vector<divert::Revoke::Revoked> revoked, Outbox& out) {
  // One revoke per extension: the target's server's.
  std::sort(revoked.begin(), revoked.end(), [](const auto& a, const auto& b) {
    return domain_of(a.to) < domain_of(b.to);
  });
  for (std::size_t i = 0; i < revoked.size();) {
    const std::string domain = domain_of(revoked[i].to);
    divert::Revoke r{{domain_, domain, "cr-" + std::to_string(++next_id_)}, {}};
    for (; i < revoked.size() && domain_of(revoked[i].to) == domain; ++i) {
      r.passes.push_back(std::move(revoked[i]));
    }
    out.send(divert::encode(r));
  }
}

}  // namespace concierge::core
