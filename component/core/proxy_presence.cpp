// SPDX-License-Identifier: MIT
// PresenceDesk: the stream's presence life cycle (connected: probes and announcements, paced;
// disconnecting: unavailable from every proxy with subscribers), the schedule-derived status
// proxy subscribers see (DESIGN §2 last paragraph: never raw presence), and session tracking
// from relayed traffic and chat states (DESIGN §4).
#include <algorithm>

#include <component/core/presence_desk.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kChatStates = "http://jabber.org/protocol/chatstates";

// The chat state a relayed message carries, and what it means for its session.
Activity activity_of(const xmpp::Element& message, bool& gone) {
  gone = false;
  if (message.child("body")) return Activity::message;
  for (const auto& c : message.children) {
    if (c.is_text() || c.attr("xmlns") != kChatStates) continue;
    if (c.name == "composing") return Activity::composing;
    if (c.name == "active" || c.name == "paused") return Activity::active;
    if (c.name == "gone") gone = true;
  }
  return Activity::other;
}

}  // namespace

void PresenceDesk::connected(std::size_t users, Instant now, Outbox& out) {
  presence_.clear();  // unknown again until the probes (or the server's replay) answer
  subscriptions_.start_pacing(directory_.enrolled_users());
  pace_more(users, out);
  subscriptions_.proxies().forget_published();
  for (const auto& [target, subscribers] : subscriptions_.proxies().all_subscribers()) {
    const ProxyStatus status = proxy_status(target, now);
    subscriptions_.proxies().publish(target, status);
    for (const auto& subscriber : subscribers) {
      out.paced.push_back(proxy_presence(target, subscriber, status, now));
    }
  }
}

bool PresenceDesk::pace_more(std::size_t users, Outbox& out) {
  if (!actions_.online()) subscriptions_.stop_pacing();  // the next connect starts over
  for (const std::string& bare : subscriptions_.next_paced(users)) {
    if (!directory_.enrolled(bare)) continue;  // unenrolled meanwhile
    const Subscriptions::Greeting g = subscriptions_.greeting(bare);
    if (g.presence) out.paced.push_back(component_presence(bare));
    if (g.probe) out.paced.push_back(component_presence(bare, "probe"));
    if (g.ask) out.paced.push_back(component_presence(bare, "subscribe"));
  }
  return subscriptions_.pacing();
}

void PresenceDesk::disconnecting(Outbox& out) {
  for (const auto& [target, subscribers] : subscriptions_.proxies().all_subscribers()) {
    auto proxy = xmpp::Jid::parse(target);
    auto from = proxy ? xmpp::proxy_jid(*proxy, settings_.component_domain) : std::nullopt;
    if (!from) continue;
    for (const auto& subscriber : subscribers) {
      xmpp::Element p("presence");
      p.set_attr("from", from->bare_string());
      p.set_attr("to", subscriber);
      p.set_attr("type", "unavailable");
      out.send(std::move(p));
    }
  }
  for (const auto& bare : subscriptions_.approved()) {
    if (directory_.enrolled(bare)) out.send(component_presence(bare, "unavailable"));
  }
}

ProxyStatus PresenceDesk::proxy_status(const std::string& target, Instant now) const {
  // Only what the schedule and the session state allow others to know (DESIGN §2): never
  // the user's raw presence, show or idle time. dnd counts as "in a conversation" too.
  if (availability_.status_of(target, now) != ical::Status::working) return ProxyStatus::off;
  return session_idle(target, now) ? ProxyStatus::available : ProxyStatus::in_conversation;
}

xmpp::Element PresenceDesk::proxy_presence(const std::string& target, const std::string& subscriber,
                                     ProxyStatus status, Instant now) const {
  xmpp::Element p("presence");
  auto jid = xmpp::Jid::parse(target);
  auto proxy = jid ? xmpp::proxy_jid(*jid, settings_.component_domain) : std::nullopt;
  p.set_attr("from", proxy ? proxy->bare_string() : settings_.component_domain);
  p.set_attr("to", subscriber);
  if (status == ProxyStatus::off) {
    // xa "off until Mon 09:00", in the subscriber's zone when known (DESIGN §2).
    p.add_child(xmpp::make_text("show", "xa"));
    auto back = availability_.next_working(target, now);
    p.add_child(xmpp::make_text(
        "status",
        back ? "off until " + actions_.when(*back, subscriber, target, now) : "off"));
  } else if (status == ProxyStatus::in_conversation) {
    p.add_child(xmpp::make_text("show", "dnd"));
    p.add_child(xmpp::make_text("status", "in a conversation"));
  }
  return p;
}

void PresenceDesk::publish(const std::string& target, Instant now, Outbox& out) {
  const std::set<std::string>& subscribers = subscriptions_.proxies().subscribers(target);
  if (subscribers.empty()) return;
  const ProxyStatus status = proxy_status(target, now);
  if (!subscriptions_.proxies().publish(target, status)) return;
  for (const auto& subscriber : subscribers) {
    out.send(proxy_presence(target, subscriber, status, now));
  }
}

void PresenceDesk::track_session(const xmpp::Element& stanza, const std::string& sender,
                           const std::string& target, Instant now, Outbox& out) {
  bool gone = false;
  const Activity activity = activity_of(stanza, gone);
  if (gone) {
    sessions_.end(sender, target);
    actions_.release(target, now, out);
    actions_.release(sender, now, out);
  } else {
    sessions_.forwarded(sender, target, activity, now);
    // `sender` wrote to `target`: if that answered `target`, what `target` has waiting for
    // `sender` goes now (a new message from `target` would).
    if (activity == Activity::message) actions_.replied(sender, now, out);
  }
  if (directory_.enrolled(sender)) publish(sender, now, out);
  if (directory_.enrolled(target)) publish(target, now, out);
}

}  // namespace concierge::core
