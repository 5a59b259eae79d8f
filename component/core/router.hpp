// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <string>
#include <utility>

#include <component/core/outbox.hpp>
#include <component/core/presence_book.hpp>
#include <component/core/rate_limiter.hpp>
#include <component/core/refusal.hpp>
#include <component/core/session_book.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

// Counters an admin can read (stats command, logs on shutdown).
struct RouterStats {
  std::uint64_t relayed = 0;        // messages forwarded between users
  std::uint64_t refused = 0;        // stanzas answered with an error
  std::uint64_t dropped = 0;        // stanzas dropped without an answer (errors, bad from, …)
  std::uint64_t answered = 0;       // iqs and commands answered by the component itself
  std::uint64_t presences = 0;      // presence updates of enrolled users taken in
};

// What subscribers of a proxy JID see (DESIGN §2, proxy presence): derived status only,
// never the user's raw presence or idle time.
enum class ProxyStatus : std::uint8_t { available, in_conversation };

// The decision point for every stanza that reaches the component (DESIGN §2, §7). Pure: the
// caller passes each stanza with the instant it arrived and sends what lands in the outbox.
//
// Today every enrolled target is treated as free, so the decision table reduces to its first
// row (refuse what may not pass) and its last (forward now); holds come with the scheduler.
class Router {
 public:
  // `store` must outlive the router; it is read once here and written as things change.
  Router(Settings settings, Store& store);

  // SIGHUP: new users, limits, … take effect for the next stanza.
  void reconfigure(Settings settings);
  const Settings& settings() const { return settings_; }

  void handle(const xmpp::Element& stanza, Instant now, Outbox& out);
  // Timers: ends silent sessions, forgets expired bookkeeping. Call at next_wake() and about
  // once a minute.
  void tick(Instant now, Outbox& out);
  // When tick() has work next (a session's idle_after running out); nullopt: nothing pending.
  std::optional<Instant> next_wake() const;

  // The stream to the server is up: what we knew of presence is stale (unknown again). Puts
  // the component's presence, subscription requests and probes for enrolled users, and every
  // proxy's status for its subscribers, into `out.paced` (sent at presence.probe_rate).
  void connected(Instant now, Outbox& out);
  // Shutting down: `unavailable` from every proxy with subscribers and from the component.
  void disconnecting(Outbox& out);

  // Queries of the scheduler's inputs (DESIGN §1).
  bool enrolled(const std::string& bare) const;
  Reachability reachability(const std::string& bare) const { return presence_.reachability(bare); }
  bool session_idle(const std::string& bare, Instant now) const;
  bool session_open(const std::string& a, const std::string& b, Instant now) const {
    return sessions_.is_open(a, b, now);
  }
  std::size_t proxy_subscribers(const std::string& target) const;
  bool presence_privilege() const { return presence_privilege_; }

  const RouterStats& stats() const { return stats_; }

 private:
  struct Addressing {
    xmpp::Jid from;  // the real sender, as the server stamped it
    xmpp::Jid to;    // the address on the component
  };

  void handle_message(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void handle_bounce(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void handle_command(const xmpp::Element& stanza, Outbox& out);
  void handle_iq(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void handle_presence(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void presence_to_component(const xmpp::Element& stanza, const Addressing& a, Instant now,
                             Outbox& out);
  void presence_to_proxy(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void handle_privilege(const xmpp::Element& privilege, Outbox& out);
  // XEP-0077 on the component; nullopt when `stanza` is no registration request.
  bool handle_registration(const xmpp::Element& stanza, const Addressing& a, Instant now,
                           Outbox& out);
  void enrol(const std::string& bare, const std::string& timezone, const std::string& url,
             Instant now, Outbox& out);
  void unenrol(const std::string& bare, Outbox& out);
  void ask_subscription(const std::string& bare, Outbox& out, bool paced);
  void track_session(const xmpp::Element& stanza, const std::string& sender,
                     const std::string& target, Instant now, Outbox& out);
  ProxyStatus proxy_status(const std::string& target, Instant now) const;
  void publish_proxy_status(const std::string& target, Instant now, Outbox& out);
  xmpp::Element proxy_presence(const std::string& target, const std::string& subscriber,
                               ProxyStatus status) const;
  xmpp::Element component_presence(const std::string& to, std::string_view type = {}) const;
  SubscriptionState& subscription(const std::string& bare);
  void refuse(const xmpp::Element& stanza, Refusal refusal, const std::string& text, Outbox& out);
  void relay(const xmpp::Element& stanza, const xmpp::Jid& sender, const xmpp::Jid& target,
             Outbox& out, Instant now);

  bool served(const xmpp::Jid& jid) const;
  bool enrolled(const xmpp::Jid& jid) const;
  bool config_user(const std::string& bare) const { return settings_.enrolled.count(bare) != 0; }
  // B wrote to A through Concierge within idle_after: A may answer B even if B is not enrolled.
  bool wrote_recently(const std::string& writer, const std::string& reader, Instant now) const;

  Settings settings_;
  Store& store_;
  RateLimiter limiter_;
  PresenceBook presence_;
  SessionBook sessions_;
  std::unordered_map<std::string, Enrolment> self_enrolled_;       // by bare JID
  std::unordered_map<std::string, SubscriptionState> subscriptions_;  // by bare JID
  std::map<std::string, std::set<std::string>> proxy_subscribers_;  // target → subscribers
  std::unordered_map<std::string, ProxyStatus> published_;          // last status sent
  bool presence_privilege_ = false;
  std::set<std::string> logged_foreign_domains_;  // presence floods from elsewhere: log once
  // (writer, reader) bare JIDs → when writer last wrote to reader through Concierge.
  std::map<std::pair<std::string, std::string>, Instant> last_written_;
  // "target\nsender\nid" → the sender's full JID, for messages relayed with an id: a server
  // bounce comes back to the sender's bare proxy and must reach the resource that sent it
  // (servers drop errors addressed to a bare JID). Forgotten after idle_after.
  struct SentBy {
    std::string full_jid;
    Instant at;
  };
  std::unordered_map<std::string, SentBy> sent_by_;
  RouterStats stats_;
};

// Size of a stanza as the bound sees it: names, attributes and text summed; and its depth.
std::size_t stanza_weight(const xmpp::Element& element, std::size_t max_depth, bool& too_deep);

}  // namespace concierge::core
