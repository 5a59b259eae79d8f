// SPDX-License-Identifier: MIT
#pragma once
// Router: the core's one entry for stanzas (handle, tick, connected, …). It turns stanzas into
// calls on its rooms and their answers into stanzas: the Directory (enrolments, users' own
// settings, privacy, blocklists), the Pools (pool assignments), RecentWriters, the
// PresenceDesk (presence, subscriptions — the component's and the proxies' — and sessions), the
// Availability (schedules and pauses), the Scheduler (decision, holds, notices) and the
// Releaser, the EnrolmentDesk (a user joining or leaving), the CommandTable and AdminCommands
// (chat and ad-hoc commands) and Registration (XEP-0077). Implemented across router.cpp,
// router_timers.cpp, router_iq.cpp, router_commands.cpp and compile_outcomes.cpp. It must not read
// the clock, open sockets or include a C library header (DESIGN §8); the §2 table is decision.hpp,
// a pure function it only feeds.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <component/core/availability.hpp>
#include <component/core/command_table.hpp>
#include <component/core/directory.hpp>
#include <component/core/enrolment_desk.hpp>
#include <component/core/inbound.hpp>
#include <component/core/message_limits.hpp>
#include <component/core/outbox.hpp>
#include <component/core/pools.hpp>
#include <component/core/presence_desk.hpp>
#include <component/core/proxy_addressing.hpp>
#include <component/core/rate_limiter.hpp>
#include <component/core/recent_writers.hpp>
#include <component/core/refusal.hpp>
#include <component/core/registration.hpp>
#include <component/core/releaser.hpp>
#include <component/core/remembered.hpp>
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

// What the rooms may ask of each other, wired by the Router (router_commands.cpp). The
// references are the Router's members and must outlive what is returned.
// Registration: the commands' own served, enrol and unenrol (the EnrolmentDesk's).
RegistrationActions registration_actions(const CommandActions& commands);
// Presence: releases (through the pools), re-decisions, notice times, the stream's state.
PresenceActions presence_actions(Pools& pools, Scheduler& scheduler, Releaser& releaser);
// Pools: conversations and published presence.
PoolActions pool_actions(PresenceDesk& presences);
// Admin commands: what they read, and dropping and flushing holds.
AdminRooms admin_rooms(const Settings& settings, const Directory& directory,
                       PresenceDesk& presences, Scheduler& scheduler, Releaser& releaser,
                       RouterStats& stats);

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

  // SIGHUP: new users, limits, … take effect for the next stanza; every target's holds are
  // re-decided (limits may have changed). Users no longer under [users] (and not enrolled by
  // themselves) are unenrolled — their held messages bounce to the senders with a notice.
  void reconfigure(Settings settings, Instant now, Outbox& out);
  const Settings& settings() const { return settings_; }

  void handle(const xmpp::Element& stanza, Instant now, Outbox& out);
  // A stanza the connection could not read whole (nested deeper than it converts): its
  // top-level element alone. Answered as a stanza over the bounds (never an error or presence).
  void handle_too_deep(const xmpp::Element& top_level, Outbox& out);
  // Timers: ends silent sessions, forgets expired bookkeeping. Call at scheduler().next_wake() and
  // about once a minute.
  void tick(Instant now, Outbox& out);
  // The stream to the server is up: what we knew of presence is stale (unknown again). Puts
  // the component's presence, subscription requests and probes for enrolled users, and every
  // proxy's status for its subscribers, into `out.paced` (sent at presence.probe_rate) — those
  // of the first kPacedUsersAtOnce users (in JID order) at once, the rest through
  // presences().pace_more().
  void connected(Instant now, Outbox& out);
  static constexpr std::size_t kPacedUsersAtOnce = 1000;

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

  // --- Users' own settings (compile_outcomes.cpp) ----------------------------------------
  // app/ compiled `used` for `bare`: a null schedule means nothing to compile (no calendar, no
  // hours: schedule.unknown applies). A pending calendar becomes the one of record; a user
  // who gave it hears of it only when it differs from what they were told (warnings, no
  // working time: schedule_notes()).
  void schedule_compiled(const std::string& bare, const ScheduleSource& used,
                         std::shared_ptr<const ical::Schedule> schedule, Instant now, Outbox& out);
  // `used` could not be fetched or compiled: the previous schedule stays; the user is told
  // why (always for a new calendar; once per distinct problem for the one in force).
  void schedule_failed(const std::string& bare, const ScheduleSource& used, const std::string& why,
                       Instant now, Outbox& out);

  // The rooms, for what is theirs alone: what the directory says of a user (directory.hpp, also
  // what a schedule is compiled from), schedules and pauses (availability.hpp); presence,
  // conversations and subscriptions (presence_desk.hpp); holds, commits and the next wake-up
  // (scheduler.hpp); releases and their confirmation (releaser.hpp).
  const Directory& directory() const { return directory_; }
  const Availability& availability() const { return availability_; }
  PresenceDesk& presences() { return presences_; }
  const PresenceDesk& presences() const { return presences_; }
  Scheduler& scheduler() { return scheduler_; }
  const Scheduler& scheduler() const { return scheduler_; }
  Releaser& releaser() { return releaser_; }
  const RouterStats& stats() const { return stats_; }

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

  Settings settings_;
  Store& store_;
  RateLimiter limiter_;
  ProxyAddressing proxy_;      // the proxy way in: how what goes out is addressed
  Directory directory_;        // enrolments, users' own settings, privacy and blocklists
  Availability availability_;  // schedules and pauses
  RecentWriters writers_;      // who wrote to whom lately, from which resource
  RouterStats stats_;
  // Presence, conversations and presence subscriptions (presence_desk.hpp).
  PresenceDesk presences_{settings_,
                          store_,
                          directory_,
                          availability_,
                          limiter_,
                          stats_,
                          presence_actions(pools_, scheduler_, releaser_)};
  // The decision, holds and notices (scheduler.hpp); releasing them (releaser.hpp).
  Scheduler scheduler_{SchedulerRooms{settings_, store_, directory_, availability_,
                                      presences_.book(), presences_.sessions(), proxy_,
                                      presences_.subscriptions(), limiter_, stats_}};
  Releaser releaser_{
      SchedulerRooms{settings_, store_, directory_, availability_, presences_.book(),
                     presences_.sessions(), proxy_, presences_.subscriptions(), limiter_, stats_},
      scheduler_};
  // Pools' stanzas and assignments; where every target's holds are re-decided (pools.hpp).
  Pools pools_{settings_,
               store_,
               presences_.sessions(),
               directory_,
               availability_,
               presences_.book(),
               scheduler_,
               releaser_,
               stats_,
               pool_actions(presences_)};
  // A user joining or leaving, across the rooms above (enrolment_desk.hpp).
  EnrolmentDesk enrolments_{settings_, store_, directory_, availability_, presences_, scheduler_};
  // Commands (chat and ad-hoc), admin commands and registration: they hold references to the
  // rooms above and call back through the actions (router_commands.cpp).
  AdminCommands admin_{
      admin_rooms(settings_, directory_, presences_, scheduler_, releaser_, stats_)};
  CommandTable commands_{settings_, directory_, availability_, admin_, command_actions(), stats_};
  Registration registration_{settings_, directory_, registration_actions(command_actions()),
                             stats_};
};

}  // namespace concierge::core
