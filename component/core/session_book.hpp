// SPDX-License-Identifier: MIT
#pragma once
// SessionBook: owns the conversations between pairs of bare JIDs (opened, counted, reserved,
// idle) and their rows in the store; must not touch presence, schedules or holds.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <component/core/store_port.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

// What a relayed message says about the conversation it belongs to.
enum class Activity {
  message,    // a message with a body: "has written" (DESIGN §1)
  composing,  // XEP-0085 composing: keeps a conversation alive, opens none
  active,     // XEP-0085 active/paused: keeps it alive
  other,      // receipts, markers, …: neither
};

// Conversations between two bare JIDs through Concierge (DESIGN §1). In memory, and, once
// keep_in() names a store, written to it (Remembered::Kind::session) so that a takeover or a
// restart resumes them (DESIGN §10). A conversation's row is rewritten when what it records
// changes, but its time only every idle_after / 8 of activity (not on every message): a
// resumed conversation may end up to idle_after / 8 early.
//
// One entry per pair that exchanged something within `idle_after`. It records who has written
// to whom (a body delivered live, released from a hold, or urgent). A session *opens* — and
// *counts* against both participants — only when the one written to writes back live (the
// target answers the sender): a released or urgent message opens nothing. A conversation
// released from a target's queue *reserves* the target's slot (counts against the target)
// until the target answers or `idle_after` passes. Everything ends after `idle_after` of
// silence, on `gone`, or on an explicit end.
class SessionBook {
 public:
  explicit SessionBook(Duration idle_after) : idle_after_(idle_after) {}
  void set_idle_after(Duration idle_after) { idle_after_ = idle_after; }
  // From now on, every change is written to `store` (which must outlive this).
  void keep_in(Store& store) { store_ = &store; }
  // A conversation as keep_in() wrote it (a row of Kind::session); one past idle_after is
  // ended by the next expire(), its row forgotten then.
  void restore(const Remembered& row);

  // A message from `from` to `to` was relayed live at `now`. A body from `from` answering
  // what `to` wrote to `from` within idle_after opens the session.
  void forwarded(const std::string& from, const std::string& to, Activity activity, Instant now);
  // `from`'s body reached `to` without engaging anything (a release, an urgent message): if
  // `to` writes back, that opens the session.
  void delivered(const std::string& from, const std::string& to, Instant now);
  // A conversation released from `target`'s queue: `target`'s slot is reserved for `sender`
  // from now until `target` answers (then the session counts) or idle_after passes.
  void reserve(const std::string& sender, const std::string& target, Instant now);
  // `gone`, or the "end conversation" command. Returns whether a session was open.
  bool end(const std::string& a, const std::string& b);

  // Both have written: a conversation (no direction).
  bool is_open(const std::string& a, const std::string& b, Instant now) const;
  // A message from `sender` to `target` now belongs to a conversation: the session is open,
  // or `target` wrote to `sender` within idle_after (this message answers it and opens it), or
  // `target`'s slot is reserved for `sender`.
  bool engaged(const std::string& sender, const std::string& target, Instant now) const;
  // Whether a message from someone to `user` could belong to a conversation (engaged() for
  // some sender): `user` wrote to them, they talk, or `user`'s slot is kept for them.
  bool engaged_with_anyone(const std::string& user, Instant now) const;
  // Sessions of `user` that count against it (open, or its slot reserved), with anyone other
  // than `except`.
  int counted(const std::string& user, Instant now, const std::string& except = {}) const;
  // Peers of `user`, sorted: in open sessions (reservations are not conversations yet), or
  // with `counting`, also those `user`'s slot is kept for.
  enum class Peers { open, counting };
  std::vector<std::string> peers(const std::string& user, Instant now,
                                 Peers which = Peers::open) const;

  // Ends every entry silent for idle_after by `now`; returns their participant pairs.
  std::vector<std::pair<std::string, std::string>> expire(Instant now);
  // When the next entry would expire; nullopt when none is tracked.
  std::optional<Instant> next_expiry() const;
  std::size_t size() const { return sessions_.size(); }

 private:
  using Key = std::pair<std::string, std::string>;  // sorted
  struct Session {
    Instant last_activity;
    bool first_wrote = false;      // key.first has written to key.second
    bool second_wrote = false;     // key.second has written to key.first
    bool open = false;             // one answered the other live
    bool first_reserved = false;   // key.first's slot is reserved for key.second
    bool second_reserved = false;  // key.second's slot is reserved for key.first
    bool reserves(bool first) const { return first ? first_reserved : second_reserved; }
    bool counts_for(bool first) const { return open || reserves(first); }
    Instant kept{};                  // the last activity written to the store
    std::uint8_t kept_flags = 0xFF;  // the flags written to the store (none yet)
  };
  static std::uint8_t flags_of(const Session& s);
  // Writes `s` to the store when its flags changed or its time moved on enough.
  void keep(const Key& key, Session& s);
  static Key key_of(const std::string& a, const std::string& b);
  void touch(const Key& key, Session& s, Instant now);
  void erase(const Key& key);
  std::map<Key, Session>::iterator open(const Key& key, Instant now);
  // The live entry of (a, b), a stale one ended first; creates one when `create`.
  Session* live_entry(const Key& key, Instant now, bool create);
  static const std::string& other(const Key& key, const std::string& user) {
    return key.first == user ? key.second : key.first;
  }
  bool live(const Session& s, Instant now) const { return now - s.last_activity < idle_after_; }

  Duration idle_after_;
  Store* store_ = nullptr;
  // Map nodes never move, so the indexes below point at the keys instead of copying them
  // (DESIGN §9: at most 1 KiB per tracked user for presence and sessions).
  std::map<Key, Session> sessions_;
  std::set<std::pair<Instant, const Key*>> expiries_;  // (last_activity + idle_after, key)
  std::unordered_map<std::string, std::vector<const Key*>> peers_;  // user → their sessions
};

}  // namespace concierge::core
