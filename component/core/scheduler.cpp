// SPDX-License-Identifier: MIT
// Scheduler (scheduler.hpp): the target's state fed to DESIGN §2's decision (decision.hpp),
// urgent messages, and holding a message (corrections and retractions apply to the held copy).
// Notices are notice_writer.cpp's, releases the Releaser's (releaser.cpp), the holds'
// bookkeeping holds.cpp, the store's faults store_faults.cpp.
#include <algorithm>

#include <component/core/decision.hpp>
#include <component/core/message_limits.hpp>
#include <component/core/scheduler.hpp>
#include <component/core/text.hpp>
#include <xmpp/divert.hpp>

namespace concierge::core {
namespace {

// XEP-0224 attention, or XEP-0131 Urgency: high.
bool marked_urgent(const xmpp::Element& m) {
  if (m.child("attention", "urn:xmpp:attention:0")) return true;
  if (const auto* headers = m.child("headers", "http://jabber.org/protocol/shim")) {
    for (const auto& h : headers->children) {
      if (h.name == "header" && lower(h.attr("name")) == "urgency" &&
          lower(h.inner_text()) == "high") {
        return true;
      }
    }
  }
  return false;
}

std::int64_t code_points(std::string_view utf8) {
  std::int64_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

// The prefix was cut from the body: XEP-0394 markup spans and XEP-0461 fallback ranges count
// Unicode code points from the body's start, so they move left by as many (never below 0).
void shift_offsets(xmpp::Element& message, std::int64_t removed) {
  auto shift = [&](xmpp::Element& e, const char* key) {
    const std::string_view value = e.attr(key);
    if (value.empty()) return;
    std::int64_t v = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return;
      v = v * 10 + (c - '0');
    }
    e.set_attr(key, std::to_string(std::max<std::int64_t>(0, v - removed)));
  };
  auto walk = [&](auto& self, xmpp::Element& e) -> void {
    for (auto& c : e.children) {
      if (c.is_text()) continue;
      shift(c, "start");
      shift(c, "end");
      self(self, c);
    }
  };
  for (auto& c : message.children) {
    const std::string_view ns = c.attr("xmlns");
    if (ns == "urn:xmpp:markup:0" || ns == "urn:xmpp:fallback:0") walk(walk, c);
  }
}

// The id a XEP-0308 correction or XEP-0424 retraction refers to, and which it is.
std::optional<std::pair<std::string, bool>> applies_to(const xmpp::Element& m) {
  if (const auto* r = m.child("replace", "urn:xmpp:message-correct:0")) {
    return std::pair{std::string(r->attr("id")), false};
  }
  if (const auto* r = m.child("retract", "urn:xmpp:message-retract:1")) {
    return std::pair{std::string(r->attr("id")), true};
  }
  if (const auto* f = m.child("apply-to", "urn:xmpp:fasten:0")) {
    if (f->child("retract", "urn:xmpp:message-retract:0")) {
      return std::pair{std::string(f->attr("id")), true};
    }
  }
  return std::nullopt;
}

// A body or an encrypted payload (OMEMO, OpenPGP, XEP-0027): what a XEP-0308 correction must
// carry to replace a held copy's.
bool has_payload(const xmpp::Element& m) {
  return m.child("body") || m.child("encrypted", "eu.siacs.conversations.axolotl") ||
         m.child("encrypted", "urn:xmpp:omemo:2") || m.child("openpgp", "urn:xmpp:openpgp:0") ||
         m.child("x", "jabber:x:encrypted");
}

// What a held copy keeps when it is corrected: when it was stamped, its ids and how it arrived
// (the diverted mark with the original's release token); a correction's own are not taken.
bool keeps_when_corrected(const xmpp::Element& c) {
  const std::string_view ns = c.attr("xmlns");
  return (c.name == "delay" && ns == "urn:xmpp:delay") || ns == "urn:xmpp:sid:0" ||
         (c.name == kDivertedMark && ns == xmpp::divert::kNamespace) ||
         (c.name == "replace" && ns == "urn:xmpp:message-correct:0");
}

// XEP-0308: the correction's whole payload (its body, an encrypted element, ...) in place of
// the held copy's, not just the body.
void take_payload(xmpp::Element& held, const xmpp::Element& correction) {
  std::erase_if(held.children,
                [](const xmpp::Element& c) { return c.is_text() || !keeps_when_corrected(c); });
  for (const auto& c : correction.children) {
    if (!c.is_text() && !keeps_when_corrected(c)) held.children.push_back(c);
  }
}

}  // namespace

void refuse_stanza(const xmpp::Element& stanza, Refusal refusal, const std::string& text,
                   RouterStats& stats, Outbox& out) {
  ++stats.refused;
  out.send(make_error_reply(stanza, refusal, text));
}

void relay_stanza(const ProxyAddressing& proxy, RouterStats& stats, const xmpp::Element& stanza,
                  const xmpp::Jid& sender, const xmpp::Jid& target, Outbox& out) {
  auto copy = proxy.relayed(stanza, sender, target.full_string());
  if (!copy) {
    ++stats.dropped;
    out.log(LogLevel::warn, "dropped a message whose sender has no proxy address");
    return;
  }
  ++stats.relayed;
  out.forward(std::move(*copy));
}

Scheduler::Scheduler(const SchedulerRooms& rooms)
    : rooms_(rooms),
      holds_(
          rooms.store,
          [this](const std::string& sender, const std::string& target) {
            notices_.book().episode_ended(sender, target);
          },
          [this] { wake_dirty_ = true; }),
      notices_(rooms_, holds_) {
  holds_.load([this](const Hold& h) {
    // A notice already went out for these (they were committed before it): no new episode.
    notices_.book().told_before(h.sender, h.target, h.reason);
  });
}

// --- the decision table (decision.hpp), fed with the target's state -------------------------

TargetState Scheduler::target_state(const std::string& sender, const std::string& target,
                                    Instant now) const {
  TargetState b;
  b.paused = rooms_.availability.paused(target, now);
  b.reach = rooms_.presence.reachability(target);
  b.engaged = rooms_.sessions.engaged(sender, target, now);
  b.status = rooms_.availability.status_of(target, now);
  b.counted = rooms_.sessions.counted(target, now, sender);
  b.max_concurrent = rooms_.settings.max_concurrent;
  b.others_waiting = holds_.has_waiting(target);
  return b;
}

bool Scheduler::urgent_allowed(const xmpp::Element& stanza, const std::string& sender,
                               const std::string& target, Instant now) const {
  const auto body = stanza.child_text("body");
  const bool prefixed = body && !rooms_.settings.urgent_prefix.empty() &&
                        body->starts_with(rooms_.settings.urgent_prefix);
  if (!prefixed && !marked_urgent(stanza)) return false;
  // During a pause only the always-through list may interrupt (DESIGN §2).
  const bool allowed =
      (!rooms_.availability.paused(target, now) && rooms_.directory.urgent_from_anyone(target)) ||
      rooms_.directory.always_through(target).count(sender);
  if (!allowed) return false;
  return urgent_sent_.sent_last_hour(sender, target, now) < rooms_.settings.urgent_max_per_hour;
}

void Scheduler::forward_urgent(const Inbound& m, Instant now, Outbox& out) {
  urgent_sent_.record(m.from, m.to, now);
  xmpp::Element urgent = m.stanza;
  if (auto* body = urgent.child("body");
      body && body->inner_text().starts_with(rooms_.settings.urgent_prefix)) {
    const std::string original = body->inner_text();
    std::string text = original.substr(rooms_.settings.urgent_prefix.size());
    text.erase(0, text.find_first_not_of(' '));
    *body = xmpp::make_text("body", text);
    shift_offsets(urgent, code_points(original.substr(0, original.size() - text.size())));
  }
  if (!urgent.child("attention", "urn:xmpp:attention:0")) {
    urgent.add_child(xmpp::make("attention", {{"xmlns", "urn:xmpp:attention:0"}}));
  }
  ++rooms_.stats.urgent;
  relay_stanza(rooms_.proxy, rooms_.stats, urgent, m.sender, m.target, out);
  // It opens no conversation and releases nothing else held (DESIGN §2); if `to` answers,
  // that answer engages the conversation.
  rooms_.sessions.delivered(m.from, m.to, now);
  out.send(
      notices_.notice(m.to, m.from, "Concierge: delivered to " + name_of(m.to) + " as urgent."));
}

// An urgent message is forwarded but engages nothing, and returns false.
bool Scheduler::schedule_message(const Inbound& m, Instant now, Outbox& out) {
  if (apply_to_held(m.stanza, m.from, m.to, out)) return false;

  TargetState b = target_state(m.from, m.to, now);
  b.never_held = m.never_held;
  b.urgent = m.has_body && !m.never_held && urgent_allowed(m.stanza, m.from, m.to, now);
  const Decision d = decide(b);
  switch (d.action) {
    case Action::forward_urgent:
      forward_urgent(m, now, out);
      return false;
    case Action::forward:
      relay_stanza(rooms_.proxy, rooms_.stats, m.stanza, m.sender, m.target, out);
      if (m.has_body) notices_.reply_notice(m.from, m.to, now, out);  // `from` replies to `to`
      return true;
    case Action::drop:
      ++rooms_.stats
            .dropped;  // chat states, receipts, no-store: relayed only when a message would go
      return false;
    case Action::hold:
      break;
  }
  if (m.limits_when_held) {  // a diverted message: only what would be held meets the limits
    if (auto over = limit_exceeded(rooms_.limiter, rooms_.settings, m.stanza, m.from, now)) {
      refuse_stanza(m.stanza, over->first, over->second, rooms_.stats,
                    out);  // it has content: never dropped
      return false;
    }
  }
  if (const auto* per_target = holds_.of_target(m.to);
      per_target && per_target->size() >= rooms_.settings.holds_per_target) {
    refuse_stanza(m.stanza, Refusal::rate_limited,
                  name_of(m.to) + " has too many messages waiting; try again later.", rooms_.stats,
                  out);
    return false;
  }
  if (holds_.held_by(m.from) >= rooms_.settings.holds_per_sender) {
    refuse_stanza(m.stanza, Refusal::rate_limited,
                  "You have too many messages waiting for delivery; cancel some or wait.",
                  rooms_.stats, out);
    return false;
  }
  // The copy release sends, as this way in addresses it (`to` is set again at release).
  auto relayed = rooms_.proxy.relayed(m.stanza, m.sender, m.target.bare_string());
  if (!relayed) return false;
  hold(m.stanza, std::move(*relayed), m.from, m.to, d.reason, now, out);
  return false;
}

// XEP-0308 corrections and XEP-0424 retractions of a message that is still held apply to the
// held copy; the correction/retraction itself is then not relayed.
bool Scheduler::apply_to_held(const xmpp::Element& stanza, const std::string& sender,
                              const std::string& target, Outbox& out) {
  auto ref = applies_to(stanza);
  // A retraction needs no body (XEP-0424 makes its fallback optional); a correction without a
  // payload would empty the held copy, so it is not applied (it goes its way after it).
  if (!ref || ref->first.empty() || (!ref->second && !has_payload(stanza))) return false;
  const auto* ids = holds_.of_target(target);
  if (!ids) return false;
  for (std::int64_t id : *ids) {
    Hold& h = holds_.at(id);
    if (h.sender != sender || h.stanza_id != ref->first || h.state != HoldState::held ||
        holds_.in_flight(id)) {
      continue;
    }
    if (ref->second) {
      erase_hold(id);
      out.log(LogLevel::debug, "a retraction removed a held message");
    } else if (auto held = xmpp::parse_xml(h.stanza)) {
      take_payload(*held, stanza);
      h.stanza = held->to_xml();
      holds_.write(h);
    }
    return true;
  }
  return false;
}

void Scheduler::hold(const xmpp::Element& original, xmpp::Element relayed,
                     const std::string& sender, const std::string& target, HoldReason reason,
                     Instant now, Outbox& out, std::optional<Instant> received) {
  if (commits_.refused(original, target, out)) return;
  Hold h;
  h.sender = sender;
  h.target = target;
  h.stanza_id = std::string(relayed.attr("id"));
  h.stanza = relayed.to_xml();
  h.received = received.value_or(now);
  h.reason = reason;
  const std::int64_t id = holds_.add(std::move(h));
  commits_.held(id, original, target);
  ++rooms_.stats.held;
  notices_.hold_notice(sender, target, reason, now, out);
}

bool Scheduler::hold_behind(const xmpp::Element& forwarded, Instant received, Instant now,
                            Outbox& out) {
  const auto from = xmpp::Jid::parse(forwarded.attr("from"));
  const auto to = xmpp::Jid::parse(forwarded.attr("to"));
  if (!from || !to) return false;
  // A pool member's per-sender address is no proxy address: pools keep their own order.
  const auto sender_jid = xmpp::user_from_proxy(from->bare(), rooms_.settings.component_domain);
  if (!sender_jid) return false;
  const std::string sender = lower(sender_jid->bare_string());
  const std::string target = lower(to->bare_string());
  const auto* ids = holds_.of_target(target);
  if (ids == nullptr) return false;
  std::optional<HoldReason> reason;
  for (std::int64_t id : *ids) {
    const Hold& h = holds_.at(id);
    if (h.sender == sender && h.state == HoldState::held) {
      reason = h.reason;
      break;
    }
  }
  if (!reason) return false;
  auto target_proxy = xmpp::proxy_jid(to->bare(), rooms_.settings.component_domain);
  if (!target_proxy) return false;
  // As the sender wrote it: a refusal (the store failing) goes back to them.
  xmpp::Element original = forwarded;
  original.set_attr("from", sender);
  original.set_attr("to", target_proxy->bare_string());
  // The episode's notice went already; the same reason tells nothing new.
  hold(original, forwarded, sender, target, *reason, now, out, received);
  return true;
}

}  // namespace concierge::core
