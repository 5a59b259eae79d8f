// SPDX-License-Identifier: MIT
#pragma once
// PresenceDesk: what is known of each user's reachability and conversations, and who may see
// what of it (DESIGN §2 last paragraph, §4). Owns the PresenceBook (enrolled users' presence), the
// SessionBook (conversations), the Subscriptions (the component's and the proxies') and the
// foreign domains already logged. Takes in presence stanzas and relayed traffic (chat states end
// or open conversations), greets the server on connect (paced), and publishes the
// schedule-derived status proxy subscribers see. Reads the directory and schedules. Must not touch
// holds, pools, users' settings or commands: re-deciding holds, the wake-up cache and the
// notices' time wording are the caller's (PresenceActions).

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include <component/core/availability.hpp>
#include <component/core/directory.hpp>
#include <component/core/outbox.hpp>
#include <component/core/presence_book.hpp>
#include <component/core/rate_limiter.hpp>
#include <component/core/router_types.hpp>
#include <component/core/session_book.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/subscriptions.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

// What the presence desk asks of the rest of the core.
struct PresenceActions {
  // `bare`'s reachability or conversations changed: their holds are re-decided.
  std::function<void(const std::string& bare, Instant now, Outbox& out)> release;
  // `bare` sent a message: what they have waiting (for whom they answered) is re-decided.
  std::function<void(const std::string& bare, Instant now, Outbox& out)> replied;
  // A proxy subscription came or went: the wake-up cache is stale.
  std::function<void()> changed;
  // `t` in words for `reader`, about `about` ("Mon 09:00"), as notices say it.
  std::function<std::string(Instant t, const std::string& reader, const std::string& about,
                            Instant now)>
      when;
  // The stream is up.
  std::function<bool()> online;
};

class PresenceDesk {
 public:
  // Everything referenced must outlive the desk; conversations and subscriptions are kept in
  // (and read from) `store`.
  PresenceDesk(const Settings& settings, Store& store, const Directory& directory,
               const Availability& availability, RateLimiter& limiter, RouterStats& stats,
               PresenceActions actions);
  PresenceDesk(const PresenceDesk&) = delete;
  PresenceDesk& operator=(const PresenceDesk&) = delete;

  PresenceBook& book() { return presence_; }
  const PresenceBook& book() const { return presence_; }
  SessionBook& sessions() { return sessions_; }
  const SessionBook& sessions() const { return sessions_; }
  Subscriptions& subscriptions() { return subscriptions_; }
  const Subscriptions& subscriptions() const { return subscriptions_; }

  // A presence stanza from `from` to `to` (the component or a proxy), addresses checked.
  void handle(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
              Instant now, Outbox& out);
  // XEP-0356: the server says which presence privileges it grants.
  void handle_privilege(const xmpp::Element& privilege, Outbox& out);
  // Not in more conversations than max_concurrent, and not dnd.
  bool session_idle(const std::string& bare, Instant now) const;
  // `stanza` went from `sender` to `target`: their conversation is opened, kept or ended.
  void track_session(const xmpp::Element& stanza, const std::string& sender,
                     const std::string& target, Instant now, Outbox& out);
  // `target`'s proxy status to their subscribers, when it changed.
  void publish(const std::string& target, Instant now, Outbox& out);
  // The component's presence (of `type`) to `to`.
  xmpp::Element component_presence(const std::string& to, std::string_view type = {}) const;

  // The stream is up: what was known is stale; greetings for the first `users` enrolled users
  // and every proxy's status into `out.paced` (Router::connected()).
  void connected(std::size_t users, Instant now, Outbox& out);
  // The paced greetings of up to `users` more enrolled users; true while users are left.
  bool pace_more(std::size_t users, Outbox& out);
  // Shutting down: `unavailable` from every proxy with subscribers and from the component.
  void disconnecting(Outbox& out);

 private:
  void to_component(const xmpp::Element& stanza, const xmpp::Jid& from, Instant now,
                    Outbox& out);
  void to_proxy(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                Instant now, Outbox& out);
  ProxyStatus proxy_status(const std::string& target, Instant now) const;
  xmpp::Element proxy_presence(const std::string& target, const std::string& subscriber,
                               ProxyStatus status, Instant now) const;

  const Settings& settings_;
  const Directory& directory_;
  const Availability& availability_;
  RateLimiter& limiter_;  // subscriptions and probes to proxies are limited like messages
  RouterStats& stats_;
  PresenceActions actions_;
  PresenceBook presence_;
  SessionBook sessions_;
  Subscriptions subscriptions_;
  std::set<std::string> logged_foreign_domains_;  // presence floods from elsewhere: log once
};

}  // namespace concierge::core
