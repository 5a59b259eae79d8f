// SPDX-License-Identifier: MIT
// Router: what the command tables (command_table.hpp, admin_commands.hpp) and registration
// (registration.hpp) may ask of it — releases, pauses, conversations, enrolment — as the small
// sets of callbacks they hold; and enrolling and unenrolling a user (DESIGN §4), which reach
// into holds, presence and proxy subscriptions.
#include <component/core/router.hpp>
#include <component/core/service_info.hpp>

namespace concierge::core {

namespace {

// `target`'s proxy address on `domain` is withdrawn from `subscribers` (unenrolled, or no
// longer allowed to see it): `unavailable`, then `unsubscribed`, to each.
template <typename Subscribers>
void withdraw_proxy(const std::string& domain, const std::string& target,
                    const Subscribers& subscribers, Outbox& out) {
  if (subscribers.empty()) return;
  auto jid = xmpp::Jid::parse(target);
  auto proxy = jid ? xmpp::proxy_jid(*jid, domain) : std::nullopt;
  for (const auto& subscriber : subscribers) {
    for (const char* type : {"unavailable", "unsubscribed"}) {
      xmpp::Element p("presence");
      p.set_attr("from", proxy ? proxy->bare_string() : domain);
      p.set_attr("to", subscriber);
      p.set_attr("type", type);
      out.send(std::move(p));
    }
  }
}

}  // namespace

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
                   Outbox& out) { enrol(user, zone, url, now, out); };
  a.unenrol = [this](const std::string& user, Outbox& out) { unenrol(user, out); };
  a.subscribers_changed = [this](const std::string& user, Outbox& out) {
    const std::vector<std::string> dropped = presences_.subscriptions().proxies().drop_subscribers(
        user,
        [&](const std::string& subscriber) { return directory_.may_subscribe(user, subscriber); });
    if (dropped.empty()) return dropped.size();
    withdraw_proxy(settings_.component_domain, user, dropped, out);
    scheduler_.changed();  // their schedule's changes may matter no longer
    return dropped.size();
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

void Router::enrol(const std::string& bare, const std::string& timezone,
                   const std::optional<std::string>& url, Instant now, Outbox& out) {
  const bool inserted = directory_.enrol(bare, timezone, url, now);
  ask_to_compile(directory_, bare, out);
  out.log(LogLevel::info, std::string(inserted ? "enrolled " : "updated the enrolment of ") + bare);
  // XEP-0100: the gateway asks for the user's presence once registration succeeds.
  if (presences_.subscriptions().ask(bare))
    out.send(presences_.component_presence(bare, "subscribe"));
}

void Router::unenrol(const std::string& bare, Outbox& out) {
  scheduler_.bounce_holds(bare, "they no longer use Concierge.", out);
  availability_.forget(bare);
  keep_pause(availability_, store_, bare);
  presences_.book().forget(bare);
  const std::set<std::string> subscribers = presences_.subscriptions().forget(bare);
  withdraw_proxy(settings_.component_domain, bare, subscribers, out);
  // Removing the user's data removes both directions of the subscription (XEP-0100 §4.3).
  out.send(presences_.component_presence(bare, "unsubscribe"));
  out.send(presences_.component_presence(bare, "unsubscribed"));
  directory_.unenrol(bare);
  out.log(LogLevel::info, "unenrolled " + bare);
}

}  // namespace concierge::core
