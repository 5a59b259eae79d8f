// SPDX-License-Identifier: MIT
#include <component/core/session_book.hpp>

#include <algorithm>

namespace concierge::core {

SessionBook::Key SessionBook::key_of(const std::string& a, const std::string& b) {
  return a < b ? Key{a, b} : Key{b, a};
}

void SessionBook::touch(const Key& key, Session& s, Instant now) {
  const Key* stable = &sessions_.find(key)->first;
  expiries_.erase({s.last_activity + idle_after_, stable});
  s.last_activity = std::max(s.last_activity, now);
  expiries_.insert({s.last_activity + idle_after_, stable});
  keep(key, s);
}

std::uint8_t SessionBook::flags_of(const Session& s) {
  return static_cast<std::uint8_t>(s.first_wrote | s.second_wrote << 1 | s.open << 2 |
                                   s.first_reserved << 3 | s.second_reserved << 4);
}

void SessionBook::keep(const Key& key, Session& s) {
  if (store_ == nullptr) return;
  const std::uint8_t flags = flags_of(s);
  if (flags == s.kept_flags && s.last_activity - s.kept < idle_after_ / 8) return;
  store_->remember({.kind = Remembered::Kind::session,
                    .a = key.first,
                    .b = key.second,
                    .detail = {},
                    .number = flags,
                    .at = s.last_activity});
  s.kept = s.last_activity;
  s.kept_flags = flags;
}

void SessionBook::restore(const Remembered& row) {
  const Key key = key_of(row.a, row.b);
  if (sessions_.count(key)) return;
  Session& s = open(key, row.at)->second;
  const auto flags = static_cast<std::uint8_t>(row.number);
  s.first_wrote = flags & 1;
  s.second_wrote = flags & 2;
  s.open = flags & 4;
  s.first_reserved = flags & 8;
  s.second_reserved = flags & 16;
  s.kept = row.at;
  s.kept_flags = flags;
}

std::map<SessionBook::Key, SessionBook::Session>::iterator SessionBook::open(const Key& key,
                                                                             Instant now) {
  auto it = sessions_.emplace(key, Session{now}).first;
  const Key* stable = &it->first;
  expiries_.insert({now + idle_after_, stable});
  peers_[key.first].push_back(stable);
  peers_[key.second].push_back(stable);
  return it;
}

void SessionBook::erase(const Key& key) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  const Key* stable = &it->first;
  expiries_.erase({it->second.last_activity + idle_after_, stable});
  for (const std::string* user : {&stable->first, &stable->second}) {
    auto p = peers_.find(*user);
    if (p == peers_.end()) continue;
    std::erase(p->second, stable);
    if (p->second.empty()) peers_.erase(p);
  }
  if (store_ != nullptr) store_->forget(Remembered::Kind::session, key.first, key.second);
  sessions_.erase(it);
}

SessionBook::Session* SessionBook::live_entry(const Key& key, Instant now, bool create) {
  auto it = sessions_.find(key);
  if (it != sessions_.end() && !live(it->second, now)) {
    erase(key);  // silent too long: what follows is a new conversation
    it = sessions_.end();
  }
  if (it == sessions_.end()) {
    if (!create) return nullptr;
    it = open(key, now);
  }
  return &it->second;
}

void SessionBook::forwarded(const std::string& from, const std::string& to, Activity activity,
                            Instant now) {
  const Key key = key_of(from, to);
  // Chat states and receipts keep a conversation alive; only a body starts an entry.
  Session* s = live_entry(key, now, activity == Activity::message);
  if (s == nullptr) return;
  const bool from_first = from == key.first;
  if (activity == Activity::message) {
    (from_first ? s->first_wrote : s->second_wrote) = true;
    // `from` answers what `to` wrote: the conversation is engaged (DESIGN §2).
    if (from_first ? s->second_wrote : s->first_wrote) {
      s->open = true;
      s->first_reserved = s->second_reserved = false;
    }
  }
  if (activity != Activity::other) touch(key, *s, now);
}

void SessionBook::delivered(const std::string& from, const std::string& to, Instant now) {
  const Key key = key_of(from, to);
  Session* s = live_entry(key, now, true);
  (from == key.first ? s->first_wrote : s->second_wrote) = true;
  touch(key, *s, now);
}

void SessionBook::reserve(const std::string& sender, const std::string& target, Instant now) {
  const Key key = key_of(sender, target);
  Session* s = live_entry(key, now, true);
  (sender == key.first ? s->first_wrote : s->second_wrote) = true;
  if (!s->open) (target == key.first ? s->first_reserved : s->second_reserved) = true;
  touch(key, *s, now);
}

bool SessionBook::end(const std::string& a, const std::string& b) {
  const Key key = key_of(a, b);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return false;
  const bool was_open = it->second.open;
  erase(key);
  return was_open;
}

bool SessionBook::is_open(const std::string& a, const std::string& b, Instant now) const {
  auto it = sessions_.find(key_of(a, b));
  return it != sessions_.end() && live(it->second, now) && it->second.open;
}

bool SessionBook::engaged(const std::string& sender, const std::string& target, Instant now) const {
  const Key key = key_of(sender, target);
  auto it = sessions_.find(key);
  if (it == sessions_.end() || !live(it->second, now)) return false;
  const Session& s = it->second;
  const bool target_first = target == key.first;
  return s.open || (target_first ? s.first_wrote : s.second_wrote) || s.reserves(target_first);
}

bool SessionBook::engaged_with_anyone(const std::string& user, Instant now) const {
  auto p = peers_.find(user);
  if (p == peers_.end()) return false;
  for (const Key* key : p->second) {
    const Session& s = sessions_.find(*key)->second;
    const bool first = key->first == user;
    if (live(s, now) && (s.open || (first ? s.first_wrote : s.second_wrote) || s.reserves(first))) {
      return true;
    }
  }
  return false;
}

int SessionBook::counted(const std::string& user, Instant now, const std::string& except) const {
  auto p = peers_.find(user);
  if (p == peers_.end()) return 0;
  int n = 0;
  for (const Key* key : p->second) {
    if (other(*key, user) == except) continue;
    const Session& s = sessions_.find(*key)->second;
    if (live(s, now) && s.counts_for(key->first == user)) ++n;
  }
  return n;
}

std::vector<std::string> SessionBook::peers(const std::string& user, Instant now,
                                            Peers which) const {
  std::vector<std::string> out;
  auto p = peers_.find(user);
  if (p == peers_.end()) return out;
  for (const Key* key : p->second) {
    const Session& s = sessions_.find(*key)->second;
    const bool counts = which == Peers::counting ? s.counts_for(key->first == user) : s.open;
    if (live(s, now) && counts) out.push_back(other(*key, user));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, std::string>> SessionBook::expire(Instant now) {
  std::vector<std::pair<std::string, std::string>> ended;
  while (!expiries_.empty() && expiries_.begin()->first <= now) {
    const Key key = *expiries_.begin()->second;
    ended.push_back(key);
    erase(key);
  }
  return ended;
}

std::optional<Instant> SessionBook::next_expiry() const {
  if (expiries_.empty()) return std::nullopt;
  return expiries_.begin()->first;
}

}  // namespace concierge::core
