// SPDX-License-Identifier: MIT
#pragma once
// Pools: the pools' way in (DESIGN §3) — a message to helpdesk@component goes to the member who
// is working, reachable and free longest, or waits in the pool's queue; members' answers go back
// from the pool's address. Owns the PoolDesk (which member each sender's conversation stays with,
// since when each member is free). Holds through the Scheduler, releases through the Releaser,
// and is where every target's holds are re-decided (release(): a member who became free takes a
// pool's waiting conversation before their own holds go). Reads the directory, schedules and
// presence; reserves a member's queue slot in the SessionBook. Must not touch users' settings,
// presence subscriptions or commands: tracking conversations and publishing proxy status are the
// caller's (PoolActions).

#include <functional>
#include <optional>
#include <string>

#include <component/core/availability.hpp>
#include <component/core/directory.hpp>
#include <component/core/outbox.hpp>
#include <component/core/pool_desk.hpp>
#include <component/core/presence_book.hpp>
#include <component/core/releaser.hpp>
#include <component/core/router_types.hpp>
#include <component/core/scheduler.hpp>
#include <component/core/session_book.hpp>
#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

// What the pools ask of the rest of the core.
struct PoolActions {
  // No more conversations for `who` than max_concurrent, and not dnd.
  std::function<bool(const std::string& who, Instant now)> session_idle;
  // `stanza` went from `sender` to `target`: their conversation is tracked.
  std::function<void(const xmpp::Element& stanza, const std::string& sender,
                     const std::string& target, Instant now, Outbox& out)>
      track_session;
  // `member` took a conversation: their proxy status may have changed.
  std::function<void(const std::string& member, Instant now, Outbox& out)> publish;
};

class Pools {
 public:
  // Everything referenced must outlive the pools; the desk keeps its rows in `store`.
  Pools(const Settings& settings, Store& store, SessionBook& sessions, const Directory& directory,
        const Availability& availability, const PresenceBook& presence, Scheduler& scheduler,
        Releaser& releaser, RouterStats& stats, PoolActions actions);
  Pools(const Pools&) = delete;
  Pools& operator=(const Pools&) = delete;

  PoolDesk& desk() { return desk_; }
  const PoolDesk& desk() const { return desk_; }

  // A message to a pool's address or a member's reserved address (relayed, held or refused):
  // true; false when `to` is no pool's.
  bool message(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
               Instant now, Outbox& out);
  // A bounce to a member's reserved address: held again if it was a release, else back to the
  // sender from the pool's address (never naming the member). False when `to` is no such address.
  bool bounce(const xmpp::Element& stanza, const xmpp::Jid& to, bool from_served, Instant now,
              Outbox& out);
  // Re-decides `target`'s holds: a pool's through its members, a user's through the Releaser
  // (after the pools whose member they are). Nothing while offline.
  void release(const std::string& target, Instant now, Outbox& out);

 private:
  void from_sender(const xmpp::Element& stanza, const xmpp::Jid& sender, const std::string& pool,
                   Instant now, Outbox& out);
  void from_member(const xmpp::Element& stanza, const xmpp::Jid& member, const std::string& pool,
                   const std::string& peer, Instant now, Outbox& out);
  std::optional<std::string> pick_member(const std::string& pool, Instant now) const;
  void release_pool(const std::string& pool, Instant now, Outbox& out);

  const Settings& settings_;
  SessionBook& sessions_;
  const Directory& directory_;
  const Availability& availability_;
  const PresenceBook& presence_;
  Scheduler& scheduler_;
  Releaser& releaser_;
  RouterStats& stats_;
  PoolActions actions_;
  PoolDesk desk_;
};

}  // namespace concierge::core
