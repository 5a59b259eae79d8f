// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <component/core/time.hpp>

namespace concierge::core {

// What a relayed message says about the conversation it belongs to.
enum class Activity {
  message,    // a message with a body
  composing,  // XEP-0085 composing: counts as "has written" (DESIGN §1)
  active,     // XEP-0085 active/paused: keeps the session alive
  other,      // receipts, markers, …: neither
};

// Conversations between two bare JIDs through Concierge (DESIGN §1). Pure and in memory:
// sessions are not stored (a restart starts with none).
//
// A session *opens* when a message is delivered to an available resource of its target; it
// *counts* against each participant once both have written (a body or `composing`) — or from
// the moment it was released from a queue; it *ends* after `idle_after` of silence, on `gone`,
// or on an explicit end.
class SessionBook {
 public:
  explicit SessionBook(Duration idle_after) : idle_after_(idle_after) {}
  void set_idle_after(Duration idle_after) { idle_after_ = idle_after; }

  // A message from `from` to `to` was forwarded at `now`; `to_available` tells whether `to`
  // had an available resource (a session opens only then; an open one goes on regardless).
  void forwarded(const std::string& from, const std::string& to, Activity activity, Instant now,
                 bool to_available);
  // A conversation released from `target`'s queue: open and counted from now on.
  void open_released(const std::string& sender, const std::string& target, Instant now);
  // `gone`, or the "end conversation" command. Returns whether a session was open.
  bool end(const std::string& a, const std::string& b);

  bool is_open(const std::string& a, const std::string& b, Instant now) const;
  // Sessions of `user` that count against it, with anyone other than `except`.
  int counted(const std::string& user, Instant now, const std::string& except = {}) const;
  // Peers of `user` in open sessions.
  std::vector<std::string> peers(const std::string& user, Instant now) const;

  // Ends every session silent for idle_after by `now`; returns their participant pairs.
  std::vector<std::pair<std::string, std::string>> expire(Instant now);
  // When the next session would expire; nullopt when none is open.
  std::optional<Instant> next_expiry() const;
  std::size_t size() const { return sessions_.size(); }

 private:
  using Key = std::pair<std::string, std::string>;  // sorted
  struct Session {
    Instant last_activity;
    bool first_wrote = false;   // key.first has written
    bool second_wrote = false;  // key.second has written
    bool released = false;      // opened by a release: counts from the start
    bool counts() const { return released || (first_wrote && second_wrote); }
  };
  static Key key_of(const std::string& a, const std::string& b);
  void touch(const Key& key, Session& s, Instant now);
  void erase(const Key& key);
  std::map<Key, Session>::iterator open(const Key& key, Instant now);
  static const std::string& other(const Key& key, const std::string& user) {
    return key.first == user ? key.second : key.first;
  }
  bool live(const Session& s, Instant now) const { return now - s.last_activity < idle_after_; }

  Duration idle_after_;
  // Map nodes never move, so the indexes below point at the keys instead of copying them
  // (DESIGN §9: at most 1 KiB per tracked user for presence and sessions).
  std::map<Key, Session> sessions_;
  std::set<std::pair<Instant, const Key*>> expiries_;  // (last_activity + idle_after, key)
  std::unordered_map<std::string, std::vector<const Key*>> peers_;  // user → their sessions
};

}  // namespace concierge::core
