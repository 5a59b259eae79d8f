// SPDX-License-Identifier: MIT
// Router: what the command tables (command_table.hpp, admin_commands.hpp) and registration
// (registration.hpp) may ask of it — releases, pauses, conversations, enrolment (the
// EnrolmentDesk's) — as the small sets of callbacks they hold.
#include <component/core/router.hpp>
#include <component/core/service_info.hpp>

namespace concierge::core {

CommandActions Router::command_actions() {
  CommandActions a;
  a.allow = [this](const std::string& user, Instant now) { return limiter_.allow(user, now); };
  a.served = [this](const xmpp::Jid& jid) { return settings_.serves(jid.domain()); };
  a.holds_for = [this](const std::string& target) { return scheduler_.holds_for(target); };
  a.held_from = [this](const std::string& sender) { return scheduler_.held_from(sender); };
  a.cancel = [this](const std::vector<std::int64_t>& ids) {
    for (std::int64_t id : ids) scheduler_.erase_hold(id);
  };
  a.when = [this](Instant t, const std::string& reader, const std::string& about, Instant now) {
    return scheduler_.notices().when(t, reader, about, now);
  };
  a.reachable = [this](const std::string& who, Instant now) {
    return presences_.session_idle(who, now) &&
           presences_.book().reachability(who) != Reachability::offline;
  };
  a.peers = [this](const std::string& user, Instant now) {
    return presences_.sessions().peers(user, now);
  };
  a.pause = [this](const std::string& user, Instant until, Instant now, Outbox& out) {
    pause(user, until, now, out);
  };
  a.end_conversations = [this](const std::string& user, Instant now, Outbox& out) {
    const std::vector<std::string> peers =
        presences_.sessions().peers(user, now, SessionBook::Peers::counting);
    for (const auto& peer : peers) presences_.sessions().end(user, peer);
    for (const auto& peer : peers) pools_.release(peer, now, out);
    pools_.release(user, now, out);
    presences_.publish(user, now, out);
    return peers;
  };
  a.enrol = [this](const std::string& user, const std::string& zone,
                   const std::optional<std::string>& url, Instant now,
                   Outbox& out) { enrolments_.enrol(user, zone, url, now, out); };
  a.unenrol = [this](const std::string& user, Outbox& out) { enrolments_.unenrol(user, out); };
  a.subscribers_changed = [this](const std::string& user, Outbox& out) {
    return enrolments_.subscribers_changed(user, out);
  };
  return a;
}

PresenceActions presence_actions(Pools& pools, Scheduler& scheduler, Releaser& releaser) {
  PresenceActions a;
  a.release = [&](const std::string& bare, Instant now, Outbox& out) {
    pools.release(bare, now, out);
  };
  a.replied = [&](const std::string& bare, Instant now, Outbox& out) {
    if (scheduler.holds().of_target(bare)) pools.release(bare, now, out);
  };
  a.changed = [&] { scheduler.changed(); };
  a.when = [&](Instant t, const std::string& reader, const std::string& about, Instant now) {
    return scheduler.notices().when(t, reader, about, now);
  };
  a.online = [&] { return releaser.online(); };
  return a;
}

PoolActions pool_actions(PresenceDesk& presences) {
  PoolActions a;
  a.session_idle = [&](const std::string& who, Instant now) {
    return presences.session_idle(who, now);
  };
  a.track_session = [&](const xmpp::Element& stanza, const std::string& sender,
                        const std::string& target, Instant now,
                        Outbox& out) { presences.track_session(stanza, sender, target, now, out); };
  a.publish = [&](const std::string& member, Instant now, Outbox& out) {
    presences.publish(member, now, out);
  };
  return a;
}

AdminRooms admin_rooms(const Settings& settings, const Directory& directory,
                       PresenceDesk& presences, Scheduler& scheduler, Releaser& releaser,
                       RouterStats& stats) {
  AdminActions a;
  a.holds_for = [&](const std::string& target) { return scheduler.holds_for(target); };
  a.drop = [&](const std::string& target, const std::string& why, Outbox& out) {
    scheduler.bounce_holds(target, why, out);
  };
  a.flush = [&](const std::string& target, Instant now, Outbox& out) {
    releaser.flush(target, now, out);
  };
  return AdminRooms{settings,          directory, presences.sessions(), scheduler.holds(),
                    releaser.counts(), stats,     std::move(a)};
}

RegistrationActions registration_actions(const CommandActions& commands) {
  return RegistrationActions{commands.served, commands.enrol, commands.unenrol};
}

}  // namespace concierge::core
