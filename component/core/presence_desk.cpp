// SPDX-License-Identifier: MIT
// PresenceDesk: presence of enrolled users, the XEP-0100 subscription with the component and
// proxy presence subscriptions (DESIGN §2 last paragraph, §4).
#include <algorithm>
#include <charconv>

#include <component/core/presence_desk.hpp>
#include <component/core/text.hpp>
#include <component/core/timestamp.hpp>

namespace concierge::core {
namespace {


Show parse_show(const xmpp::Element& presence) {
  const auto show = presence.child_text("show");
  if (!show) return Show::online;
  if (*show == "away") return Show::away;
  if (*show == "xa") return Show::xa;
  if (*show == "dnd") return Show::dnd;
  return Show::online;  // "chat" or anything unknown
}

std::int8_t parse_priority(const xmpp::Element& presence) {
  const auto text = presence.child_text("priority");
  if (!text) return 0;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size()) return 0;
  return static_cast<std::int8_t>(std::clamp(value, -128, 127));
}

// XEP-0319 <idle since/>, or legacy XEP-0256 <query xmlns="jabber:iq:last" seconds/>.
std::optional<Instant> parse_idle(const xmpp::Element& presence, Instant now) {
  if (const auto* idle = presence.child("idle", "urn:xmpp:idle:1")) {
    auto since = parse_xmpp_datetime(idle->attr("since"));
    if (since && *since <= now) return since;
    return std::nullopt;
  }
  if (const auto* last = presence.child("query", "jabber:iq:last")) {
    const std::string_view text = last->attr("seconds");
    long seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc{} && end == text.data() + text.size() && seconds >= 0 &&
        seconds < 10L * 365 * 24 * 3600) {
      return now - std::chrono::seconds(seconds);
    }
  }
  return std::nullopt;
}


}  // namespace

PresenceDesk::PresenceDesk(const Settings& settings, Store& store, const Directory& directory,
                           const Availability& availability, RateLimiter& limiter,
                           RouterStats& stats, PresenceActions actions)
    : settings_(settings),
      directory_(directory),
      availability_(availability),
      limiter_(limiter),
      stats_(stats),
      actions_(std::move(actions)),
      sessions_(settings.idle_after),
      subscriptions_(store) {
  sessions_.keep_in(store);
}

bool PresenceDesk::session_idle(const std::string& bare, Instant now) const {
  return sessions_.counted(bare, now) < settings_.max_concurrent &&
         presence_.reachability(bare) != Reachability::dnd;
}

xmpp::Element PresenceDesk::component_presence(const std::string& to, std::string_view type) const {
  xmpp::Element p("presence");
  p.set_attr("from", settings_.component_domain);
  p.set_attr("to", to);
  if (!type.empty()) p.set_attr("type", type);
  return p;
}

void PresenceDesk::handle(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                          Instant now, Outbox& out) {
  if (!settings_.serves(from.domain()) || !from.has_local()) {
    ++stats_.dropped;
    // Floods from elsewhere: one log line per domain, not per stanza.
    if (logged_foreign_domains_.size() < 1000 &&
        logged_foreign_domains_.insert(from.domain()).second) {
      out.log(LogLevel::info, "ignoring presence from " + from.domain() +
                                  ", which is not a served domain");
    }
    return;
  }
  if (to.has_local()) {
    // Subscriptions and probes to proxies come from anyone of the served domains: a flood of
    // them is limited like messages (presence of enrolled users to the component is not).
    if (!limiter_.allow(lower(from.bare_string()), now)) {
      ++stats_.dropped;
      return;
    }
    to_proxy(stanza, from, to, now, out);
  } else {
    to_component(stanza, from, now, out);
  }
}

void PresenceDesk::to_component(const xmpp::Element& stanza, const xmpp::Jid& from, Instant now,
                                Outbox& out) {
  const std::string bare = lower(from.bare_string());
  const std::string_view type = stanza.attr("type");
  const bool is_enrolled = directory_.enrolled(bare);

  if (type.empty() || type == "unavailable") {
    if (!is_enrolled) {
      ++stats_.dropped;
      return;
    }
    // Presence counts only by right (DESIGN §4): a subscription the user granted, or XEP-0356
    // (the server forwards each resource's presence, from its full JID).
    if (!subscriptions_.believe_presence(bare, from.has_resource(), type.empty())) {
      ++stats_.dropped;
      out.log(LogLevel::debug, "ignored a presence of " + bare +
                                   ", who has not granted a subscription: unknown, not offline");
      return;
    }
    ++stats_.presences;
    if (type.empty()) {
      ResourceState r;
      r.resource = from.resource();
      r.show = parse_show(stanza);
      r.priority = parse_priority(stanza);
      r.idle_since = parse_idle(stanza, now);
      r.updated = now;
      // A replayed presence (XEP-0203 <delay/>, e.g. mod_privilege on connect) is still the
      // resource's current one; the stamp only says since when.
      if (const auto* delay = stanza.child("delay", "urn:xmpp:delay")) {
        if (auto stamp = parse_xmpp_datetime(delay->attr("stamp")); stamp && *stamp <= now) {
          r.updated = *stamp;
        }
      }
      presence_.available(bare, std::move(r));
    } else {
      presence_.unavailable(bare, from.resource(), now);
    }
    actions_.release(bare, now, out);
    publish(bare, now, out);
    return;
  }
  if (type == "subscribe") {
    if (!is_enrolled) {
      // XEP-0100: register first; the subscription follows the registration.
      out.send(component_presence(bare, "unsubscribed"));
      return;
    }
    out.send(component_presence(bare, "subscribed"));
    out.send(component_presence(from.full_string()));
    if (subscriptions_.approve(bare)) out.send(component_presence(bare, "subscribe"));
    return;
  }
  if (type == "subscribed") {
    subscriptions_.granted(bare);
    return;
  }
  if (type == "unsubscribe") {
    out.send(component_presence(bare, "unsubscribed"));
    subscriptions_.unsubscribed(bare);
    return;
  }
  if (type == "unsubscribed") {
    // The user refused or revoked: remembered, and not asked again on every connect. What we
    // knew of their presence no longer holds: unknown, not offline (DESIGN §4).
    // With XEP-0356 their presence still comes by right (only the denial's echoes are ignored).
    if (subscriptions_.denied(bare, is_enrolled) &&
        presence_.reachability(bare) != Reachability::unknown) {
      presence_.forget(bare);
      actions_.release(bare, now, out);
      publish(bare, now, out);
    }
    return;
  }
  if (type == "probe") {
    if (is_enrolled) out.send(component_presence(from.full_string()));
    return;
  }
  ++stats_.dropped;  // presence errors (a probe that bounced, …): nothing to answer
}

void PresenceDesk::to_proxy(const xmpp::Element& stanza, const xmpp::Jid& from, const xmpp::Jid& to,
                            Instant now, Outbox& out) {
  const std::string_view type = stanza.attr("type");
  const std::string subscriber = lower(from.bare_string());
  auto target_jid = xmpp::user_from_proxy(to, settings_.component_domain);
  const std::string target = target_jid ? lower(target_jid->bare_string()) : std::string();
  const auto proxy = target_jid ? xmpp::proxy_jid(target_jid->bare(), settings_.component_domain)
                                : std::nullopt;
  auto reply = [&](std::string_view reply_type) {
    xmpp::Element p("presence");
    p.set_attr("from", proxy ? proxy->bare_string() : std::string(stanza.attr("to")));
    p.set_attr("to", subscriber);
    p.set_attr("type", reply_type);
    out.send(std::move(p));
  };
  const bool known = target_jid && target_jid->domain() != settings_.component_domain &&
                     directory_.enrolled(target);
  if (type == "subscribe") {
    // Privacy (DESIGN §7): by default only senders of the target's own domain may subscribe;
    // the target may widen or narrow that ("subscribers …").
    if (!known || !directory_.may_subscribe(target, subscriber)) {
      reply("unsubscribed");
      return;
    }
    if (subscriptions_.proxies().add_subscriber(target, subscriber)) {
      actions_.changed();  // the target's schedule changes now matter (proxy presence)
    }
    reply("subscribed");
    const ProxyStatus status = proxy_status(target, now);
    subscriptions_.proxies().publish(target, status);
    out.send(proxy_presence(target, subscriber, status, now));
    return;
  }
  if (type == "unsubscribe") {
    subscriptions_.proxies().remove_subscriber(target, subscriber);
    reply("unsubscribed");
    reply("unavailable");
    return;
  }
  if (type == "probe") {
    if (known && subscriptions_.proxies().subscribed(target, subscriber)) {
      out.send(proxy_presence(target, subscriber, subscriptions_.proxies().published(target), now));
    } else {
      reply("unsubscribed");
    }
    return;
  }
  ++stats_.dropped;  // directed presence, `subscribed`/`unsubscribed` to a proxy: nothing to do
}

void PresenceDesk::handle_privilege(const xmpp::Element& privilege, Outbox& out) {
  const std::string_view ns = privilege.attr("xmlns");
  if (ns != "urn:xmpp:privilege:1" && ns != "urn:xmpp:privilege:2") return;
  for (const auto& perm : privilege.children) {
    if (perm.name != "perm" || perm.attr("access") != "presence") continue;
    const bool granted = perm.attr("type") == "managed_entity" || perm.attr("type") == "roster";
    if (subscriptions_.set_presence_privilege(granted)) {
      out.log(LogLevel::info, std::string("the server ") + (granted ? "grants" : "withdraws") +
                                  " presence access (XEP-0356, " + std::string(ns) + ")");
    }
  }
}

}  // namespace concierge::core
