// SPDX-License-Identifier: MIT
#pragma once
// Subscriptions: who may see whose presence. Owns the XEP-0100 subscription between each user
// and the component (asked, granted, approved) and the denials whose echoes are not believed,
// whether the server grants the component presence by right (XEP-0356), the pacing of the
// connect's greetings — and the store rows of those subscriptions (it writes them where they
// change). It holds the ProxySubscribers (proxy_subscribers.hpp: each proxy JID's subscribers
// and the status each was last sent, DESIGN §2 last paragraph, §4), and forgets both of a user
// who leaves. It must not touch presence itself, sessions, schedules or holds, and knows no
// stanzas: it answers with plain values (whom to ask, greet or tell), and the Router builds
// and addresses the presence stanzas.

#include <cstddef>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <component/core/proxy_subscribers.hpp>
#include <component/core/store_port.hpp>

namespace concierge::core {

class Subscriptions {
 public:
  // `store` must outlive this; its subscription rows (the proxies' too) are read here.
  explicit Subscriptions(Store& store);

  // --- The user and the component (XEP-0100) -------------------------------------------
  // What is known of `bare`'s subscription (all false when nothing is).
  SubscriptionState of(const std::string& bare) const;
  // An available (or, `available` false, unavailable) presence of enrolled `bare` arrived,
  // from one of their resources (`from_resource`) or the bare JID: whether it says anything
  // about them (DESIGN §4: presence by right — they granted their subscription, or the server
  // grants presence access and forwards each resource's). Unavailables just after a denial
  // while privileged are not believed; an available one that is ends that.
  bool believe_presence(const std::string& bare, bool from_resource, bool available);
  // Enrolled `bare` asked for the component's presence (`subscribe`) and is approved. True
  // when the component asks for theirs in turn (never asked, not granted): marked asked.
  bool approve(const std::string& bare);
  // `bare` approved the component's request (`subscribed`).
  void granted(const std::string& bare);
  // `bare` no longer wants the component's presence (`unsubscribe`).
  void unsubscribed(const std::string& bare);
  // `bare` refused or revoked the component's subscription (`unsubscribed`): remembered, and
  // not asked again on every connect. True when what was known of their presence no longer
  // holds (no presence access by right); with it, the unavailables that servers send after a
  // denial are ignored for an `enrolled` user until their next available presence.
  bool denied(const std::string& bare, bool enrolled);
  // The component asks for `bare`'s presence (enrolment) unless it is granted: marked asked,
  // true when the request goes out.
  bool ask(const std::string& bare);
  // Users who receive the component's presence (they approved), in no particular order.
  std::vector<std::string> approved() const;

  // --- Presence access by right (XEP-0356) ----------------------------------------------
  // What the server's <privilege/> says of presence access: true when it changed.
  bool set_presence_privilege(bool granted);
  bool presence_privilege() const { return presence_privilege_; }

  // --- Proxy JIDs' subscribers (DESIGN §2, §7) ------------------------------------------
  ProxySubscribers& proxies() { return proxies_; }
  const ProxySubscribers& proxies() const { return proxies_; }

  // `bare` is unenrolled: their subscription, subscribers and published status are forgotten
  // here (the store forgets its rows with the enrolment). Returns the subscribers, sorted, who
  // are to be told the proxy is gone.
  std::set<std::string> forget(const std::string& bare);

  // --- The connect's greetings, paced (Router::connected, Router::pace_more) -------------
  // What the component sends enrolled `bare` when the stream comes up: its own presence when
  // they approved, a probe when they granted, else a request when never asked (marked asked).
  struct Greeting {
    bool presence = false;
    bool probe = false;
    bool ask = false;
  };
  Greeting greeting(const std::string& bare);
  // Starts pacing the greetings of `users` (sorted), from the first.
  void start_pacing(std::vector<std::string> users);
  // Up to `count` more users to greet, in order; empty when none are left.
  std::vector<std::string> next_paced(std::size_t count);
  bool pacing() const { return paced_next_ < paced_users_.size(); }
  // Disconnected: the rest are not greeted (the next connect starts over).
  void stop_pacing();

 private:
  SubscriptionState& entry(const std::string& bare);

  Store& store_;
  std::unordered_map<std::string, SubscriptionState> users_;  // by bare JID
  // Users who just denied or revoked the component's subscription while XEP-0356 gives us
  // their presence: servers follow a denial with `unavailable` from every online resource,
  // which says nothing about the user, so unavailables are ignored until their next available
  // presence (or an approval).
  std::set<std::string> declined_;
  bool presence_privilege_ = false;
  ProxySubscribers proxies_;
  std::vector<std::string> paced_users_;  // enrolled at the connect, sorted
  std::size_t paced_next_ = 0;            // the next one to greet
};

}  // namespace concierge::core
