// SPDX-License-Identifier: MIT
#pragma once
// PoolDesk: pools (DESIGN §3) — one address, several people. Owns which member each sender's
// conversation with a pool stays with, and since when each member has been free of pool
// conversations (the one free longest takes the next); it reads the config's [pools] and the
// SessionBook, and, once keep_in() names a store, writes both there (Remembered::Kind::
// pool_reservation, member_free) so that a takeover keeps them (DESIGN §10). It must not touch
// holds, presence, schedules or stanzas: the caller says who is free (pick) and does the relaying.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <component/core/session_book.hpp>
#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

class PoolDesk {
 public:
  // `settings` (may be reassigned on reload) and `sessions` must outlive the desk.
  PoolDesk(const Settings& settings, const SessionBook& sessions)
      : settings_(settings), sessions_(sessions) {}
  // From now on, every change is written to `store` (which must outlive this). A reservation's
  // row is rewritten when its member changes, its time only every idle_after / 8 of activity.
  void keep_in(Store& store) { store_ = &store; }
  // A reservation or a free time as keep_in() wrote it; an idle reservation is forgotten, with
  // its row, by the next assigned() or forget_stale().
  void restore(const Remembered& row);

  bool any() const { return !settings_.pools.empty(); }
  // True when `to` is a pool's address (`peer` empty) or a member's reserved address for one
  // sender of that pool (`peer` = the sender's bare JID).
  bool address(const xmpp::Jid& to, std::string& pool, std::string& peer) const;
  std::string pool_jid(const std::string& pool) const {
    return pool + "@" + settings_.component_domain;
  }
  // "<pool>\20<escaped sender>@component": no escaped bare JID contains \20 (JIDs have no
  // spaces), so this can never collide with a proxy address.
  std::string reserved_address(const std::string& pool, const std::string& sender) const;
  bool is_member(const std::string& pool, const std::string& who) const;
  // The pools `member` belongs to, in config order.
  std::vector<std::string> pools_of(const std::string& member) const;

  // The member `sender`'s conversation with `pool` stays with; nullopt when there is none (one
  // that went idle is forgotten here, its member free from `now`).
  std::optional<std::string> assigned(const std::string& pool, const std::string& sender,
                                      Instant now);
  // `sender`'s conversation with `pool` is with `member`, active at `now`.
  void assign(const std::string& pool, const std::string& sender, const std::string& member,
              Instant now);
  // Of `pool`'s members for whom `free` is true, the one free of pool conversations longest.
  std::optional<std::string> pick(const std::string& pool,
                                  const std::function<bool(const std::string&)>& free) const;
  // A conversation of `who` ended at `now`.
  void session_ended(const std::string& who, Instant now);
  // Forgets idle assignments and week-old free times.
  void forget_stale(Instant now);

 private:
  struct Assignment {
    std::string member;
    Instant last_activity;
    Instant kept{};  // the last activity written to the store
  };
  using Assignments = std::map<std::pair<std::string, std::string>, Assignment>;  // (pool, sender)
  // Forgets a reservation, and its row.
  Assignments::iterator drop(Assignments::iterator it);
  void keep(const std::pair<std::string, std::string>& key, Assignment& assignment,
            bool member_changed);
  const Settings& settings_;
  const SessionBook& sessions_;
  Store* store_ = nullptr;
  Assignments assigned_;
  std::unordered_map<std::string, Instant> free_since_;  // last pool session ended
};

}  // namespace concierge::core
