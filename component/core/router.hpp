// SPDX-License-Identifier: MIT
#pragma once
// Router: the core's one entry for stanzas (handle, tick, connected, …). It turns stanzas into
// calls on its rooms and their answers into stanzas: the Directory (enrolments, users' own
// settings, privacy, blocklists), the Pools (pool assignments), RecentWriters, the
// PresenceDesk (presence, subscriptions — the component's and the proxies' — and sessions), the
// Availability (schedules and pauses), the Scheduler (decision, holds, notices) and the
// Releaser, the CommandTable and AdminCommands (chat and ad-hoc commands) and Registration
// (XEP-0077). Implemented across router.cpp,
// router_timers.cpp, router_iq.cpp, router_commands.cpp, remembered.cpp and
// compile_outcomes.cpp. It must not read the clock, open sockets or include a C
// library header (DESIGN §8); the §2 table is decision.hpp, a pure function it only feeds.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <string>
#include <utility>
#include <vector>

#include <component/core/availability.hpp>
#include <component/core/command_table.hpp>
#include <component/core/directory.hpp>
#include <component/core/inbound.hpp>
#include <component/core/message_limits.hpp>
#include <component/core/proxy_addressing.hpp>
#include <component/core/outbox.hpp>
#include <component/core/pools.hpp>
#include <component/core/presence_desk.hpp>
#include <component/core/rate_limiter.hpp>
#include <component/core/recent_writers.hpp>
#include <component/core/refusal.hpp>
#include <component/core/registration.hpp>
#include <component/core/releaser.hpp>
#include <component/core/router_types.hpp>
#include <component/core/scheduler.hpp>
#include <component/core/session_book.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/subscriptions.hpp>
#include <component/core/time.hpp>
#include <ical/schedule.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

// The decision point for every stanza that reaches the component (DESIGN §2, §7). Pure: the
// caller passes each stanza with the instant it arrived and sends what lands in the outbox.
// The table itself is decision.hpp, fed by the Scheduler with plain values.
class Router {
 public:
  // `store` must outlive the router; it is read once here and written as things change.
  Router(Settings settings, Store& store);
  // Its rooms hold references to its settings and sessions: never copied.
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // SIGHUP: new users, limits, … take effect for the next stanza.
  void reconfigure(Settings settings);
  // The same, for a running component: users no longer under [users] (and not enrolled by
  // themselves) are unenrolled — their held messages bounce to the senders with a notice.
  void reconfigure(Settings settings, Instant now, Outbox& out);
  const Settings& settings() const { return settings_; }

  void handle(const xmpp::Element& stanza, Instant now, Outbox& out);
  // A stanza the connection could not read whole (nested deeper than it converts): its
  // top-level element alone. Answered as a stanza over the bounds (never an error or presence).
  void handle_too_deep(const xmpp::Element& top_level, Outbox& out);
  // Timers: ends silent sessions, forgets expired bookkeeping. Call at next_wake() and about
  // once a minute.
  void tick(Instant now, Outbox& out);
  // When tick() has work next (a session's idle_after running out); nullopt: nothing pending.
  std::optional<Instant> next_wake() const { return scheduler_.next_wake(); }

  // The stream to the server is up: what we knew of presence is stale (unknown again). Puts
  // the component's presence, subscription requests and probes for enrolled users, and every
  // proxy's status for its subscribers, into `out.paced` (sent at presence.probe_rate) — those
  // of the first kPacedUsersAtOnce users (in JID order) at once, the rest through pace_more().
  void connected(Instant now, Outbox& out);
  // The paced stanzas of up to `users` more enrolled users into `out.paced` (a million users'
  // probes would otherwise wait in memory for hours at presence.probe_rate). True while users
  // are left; nothing once disconnected.
  bool pace_more(std::size_t users, Outbox& out) { return presences_.pace_more(users, out); }
  static constexpr std::size_t kPacedUsersAtOnce = 1000;
  // Shutting down: `unavailable` from every proxy with subscribers and from the component.
  void disconnecting(Outbox& out) { presences_.disconnecting(out); }

  // Queries of the scheduler's inputs (DESIGN §1).
  bool enrolled(const std::string& bare) const { return directory_.enrolled(bare); }
  bool session_idle(const std::string& bare, Instant now) const {
    return presences_.session_idle(bare, now);
  }
  // Who may see whose presence: the component's subscriptions, the proxies' subscribers.
  const Subscriptions& subscriptions() const { return presences_.subscriptions(); }

  // --- The scheduler (DESIGN §2, §5, §6) -------------------------------------------------
  // The latest good schedule of a user (nullptr: none, `schedule.unknown` applies). Held
  // messages are re-decided at once.
  void set_schedule(const std::string& bare, std::shared_ptr<const ical::Schedule> schedule,
                    Instant now, Outbox& out);
  // "I'm busy until …": status busy until `until`; an `until` <= now ends the pause.
  void pause(const std::string& bare, Instant until, Instant now, Outbox& out);
  // The target's blocklist (DESIGN §4): messages from `sender` are refused.
  void block(const std::string& target, const std::string& sender, bool blocked) {
    directory_.senders().set_blocked(target, sender, blocked, false);
  }
  // The server confirmed (ping answer) that it took these released messages. A sender whose
  // last held message to a target was confirmed is told once that it was delivered.
  void release_confirmed(const std::vector<std::int64_t>& ids, Instant now, Outbox& out) {
    releaser_.release_confirmed(ids, now, out);
  }
  // The stream is gone: releases not yet confirmed stay held (they still are in the store).
  void disconnected() { releaser_.disconnected(); }
  // An unconfirmed forward after a reconnect: held behind its sender's earlier held messages
  // to that target (true), else false and sent again — order per sender (DESIGN §2).
  bool hold_behind(const xmpp::Element& forwarded, Instant received, Instant now, Outbox& out) {
    return scheduler_.hold_behind(forwarded, received, now, out);
  }
  std::size_t holds_count() const { return scheduler_.holds().size(); }
  // Held (not yet confirmed) messages for `target`, in arrival order.
  std::vector<Hold> holds_for(const std::string& target) const {
    return scheduler_.holds_for(target);
  }

  // --- For a way in other than proxy addresses (transparent_way.hpp) ------
  // The id of the newest hold (0: none): a message handed to handle() was held when it grew.
  std::int64_t newest_hold_id() const {
    const auto& all = scheduler_.holds().all();
    return all.empty() ? 0 : all.rbegin()->first;
  }
  // Forgets hold `id` while it is still waiting (not on its way out, not sent): true if so.
  bool drop_hold(std::int64_t id) { return scheduler_.drop_hold(id); }

  // --- When the store cannot commit (store_faults.cpp, DESIGN §6) --------------------------
  // app/ reports the outcome of every loop turn's commit from now on; until this is called,
  // every write counts as committed at once (the core's tests, on a MemoryStore).
  void report_commits() { scheduler_.commits().watch(); }
  // Success: the turn's holds are durable (their notices may go out), and a store that had
  // failed is back.
  void commit_succeeded(Outbox& out) { scheduler_.commit_succeeded(out); }
  // Failure: the holds the commit lacked are dropped and refused to their senders
  // (resource-constraint, type wait), and until a commit succeeds every message that would be
  // held is refused at once; messages that go through at once still go. Returns (from, to) of
  // the hold notices that must now not go out, their holds being refused.
  std::set<std::pair<std::string, std::string>> commit_failed(Outbox& out) {
    return scheduler_.commit_failed(out);
  }
  bool store_failing() const { return scheduler_.store_failing(); }

  // --- Users' own settings (compile_outcomes.cpp) -------------------------------------------------
  // app/ compiled `used` for `bare`: a null schedule means nothing to compile (no calendar, no
  // hours: schedule.unknown applies). A pending calendar becomes the one of record; a user
  // who gave it hears of it only when it differs from what they were told (warnings, no
  // working time: schedule_notes()).
  void schedule_compiled(const std::string& bare, const ScheduleSource& used,
                         std::shared_ptr<const ical::Schedule> schedule, Instant now, Outbox& out);
  // `used` could not be fetched or compiled: the previous schedule stays; the user is told
  // why (always for a new calendar; once per distinct problem for the one in force).
  void schedule_failed(const std::string& bare, const ScheduleSource& used,
                       const std::string& why, Instant now, Outbox& out);
  // The rooms' own accessors (read-only): what the directory says of a user (directory.hpp,
  // also what a schedule is compiled from), presence (presence_book.hpp), conversations
  // (session_book.hpp), schedules and pauses (availability.hpp).
  const Directory& directory() const { return directory_; }
  const PresenceBook& presence() const { return presences_.book(); }
  const SessionBook& sessions() const { return presences_.sessions(); }
  const Availability& availability() const { return availability_; }

  const RouterStats& stats() const { return stats_; }
  // For the metrics: users enrolled by [users] and by themselves, conversations not yet idle.
  std::size_t enrolled_by_config() const { return settings_.enrolled.size(); }
  std::size_t enrolled_by_themselves() const { return directory_.self_enrolled_count(); }
  std::size_t open_conversations() const { return presences_.sessions().size(); }

 private:
  struct Addressing {
    xmpp::Jid from;  // the real sender, as the server stamped it
    xmpp::Jid to;    // the address on the component
  };

  void handle_message(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void handle_bounce(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void handle_iq(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  // What the command tables and registration may ask of the router (router_commands.cpp).
  CommandActions command_actions();
  AdminRooms admin_rooms();
  PresenceActions presence_actions();
  PoolActions pool_actions();
  RegistrationActions registration_actions();
  // `url`: nullopt keeps the calendar; empty removes the URL; another URL becomes pending.
  void enrol(const std::string& bare, const std::string& timezone,
             const std::optional<std::string>& url,
             Instant now, Outbox& out);
  void unenrol(const std::string& bare, Outbox& out);

  // What a takeover must not lose (DESIGN §10, remembered.cpp): keep_pause() writes `bare`'s
  // pause as it is in memory (forgets it when gone; the other kinds are written by the classes
  // that own them); load_remembered() reads every kind back.
  void keep_pause(const std::string& bare);
  void load_remembered();

  void refuse(const xmpp::Element& stanza, Refusal refusal, const std::string& text, Outbox& out);
  void refuse_oversized(const xmpp::Element& stanza, Outbox& out);
  void relay(const xmpp::Element& stanza, const xmpp::Jid& sender, const xmpp::Jid& target,
             Outbox& out);

  bool served(const xmpp::Jid& jid) const;
  bool enrolled(const xmpp::Jid& jid) const;

  Settings settings_;
  Store& store_;
  RateLimiter limiter_;
  ProxyAddressing proxy_;  // the proxy way in: how what goes out is addressed
  Directory directory_;  // enrolments, users' own settings, privacy and blocklists
  Availability availability_;  // schedules and pauses
  RecentWriters writers_;  // who wrote to whom lately, from which resource
  RouterStats stats_;
  // Presence, conversations and presence subscriptions (presence_desk.hpp).
  PresenceDesk presences_{settings_, store_, directory_, availability_, limiter_, stats_,
                          presence_actions()};
  // The decision, holds and notices (scheduler.hpp); releasing them (releaser.hpp).
  Scheduler scheduler_{SchedulerRooms{settings_, store_, directory_, availability_, presences_.book(),
                                      presences_.sessions(), proxy_, presences_.subscriptions(), limiter_, stats_}};
  Releaser releaser_{SchedulerRooms{settings_, store_, directory_, availability_, presences_.book(),
                                    presences_.sessions(), proxy_, presences_.subscriptions(), limiter_, stats_},
                     scheduler_};
  // Pools' stanzas and assignments; where every target's holds are re-decided (pools.hpp).
  Pools pools_{settings_, store_, presences_.sessions(), directory_, availability_, presences_.book(), scheduler_,
               releaser_, stats_, pool_actions()};
  // Commands (chat and ad-hoc), admin commands and registration: they hold references to the
  // rooms above and call back through the actions (router_commands.cpp).
  AdminCommands admin_{admin_rooms()};
  CommandTable commands_{settings_, directory_, availability_, admin_, command_actions(), stats_};
  Registration registration_{settings_, directory_, registration_actions(), stats_};
};

}  // namespace concierge::core
