// SPDX-License-Identifier: MIT
// Router: the scheduler — DESIGN §2's decision table, holds, notices once per hold episode,
// releases (all together after off-hours/away/offline, one conversation per free slot from the
// queue), confirmation by ping, re-holding bounces, expiry, urgent messages, replies.
#include <algorithm>
#include <cstdio>

#include <component/core/bounce_text.hpp>
#include <component/core/decision.hpp>
#include <component/core/router.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>
#include <component/core/timestamp.hpp>
#include <ical/zone.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kHints = "urn:xmpp:hints";
// A released message the server bounces this often is given up (see rehold_bounce).
constexpr int kMaxBounces = 3;
constexpr std::string_view kDelay = "urn:xmpp:delay";



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

}  // namespace

// --- schedules, pauses, blocklists -----------------------------------------------------------

void Router::set_schedule(const std::string& bare, std::shared_ptr<const ical::Schedule> schedule,
                          Instant now, Outbox& out) {
  wake_base_ = now;
  wake_dirty_ = true;
  if (schedule) {
    schedules_[bare] = std::move(schedule);
  } else {
    schedules_.erase(bare);
  }
  try_release(bare, now, out);
  publish_proxy_status(bare, now, out);
}

void Router::pause(const std::string& bare, Instant until, Instant now, Outbox& out) {
  wake_base_ = now;
  wake_dirty_ = true;
  if (until <= now) {
    pauses_.erase(bare);
  } else {
    pauses_[bare] = until;
  }
  try_release(bare, now, out);
  publish_proxy_status(bare, now, out);
}

void Router::block(const std::string& target, const std::string& sender, bool blocked) {
  if (blocked) {
    blocked_.insert({target, sender});
  } else {
    blocked_.erase({target, sender});
  }
}

bool Router::paused(const std::string& bare, Instant now) const {
  auto pause = pauses_.find(bare);
  return pause != pauses_.end() && pause->second > now;
}

ical::Status Router::status_of(const std::string& bare, Instant now) const {
  if (paused(bare, now)) return ical::Status::busy;
  auto it = schedules_.find(bare);
  const ical::UtcSeconds t = to_utc_seconds(now);
  if (it == schedules_.end() || !it->second->covers(t)) {
    return settings_.unknown_is_working ? ical::Status::working : ical::Status::off_hours;
  }
  return it->second->status_at(t);
}

std::optional<Instant> Router::next_working(const std::string& bare, Instant now) const {
  Instant from = now;
  auto pause = pauses_.find(bare);
  if (pause != pauses_.end() && pause->second > now) from = pause->second;
  auto it = schedules_.find(bare);
  if (it == schedules_.end() || !it->second->covers(to_utc_seconds(from))) {
    if (settings_.unknown_is_working) return from;
    return std::nullopt;
  }
  auto t = it->second->next_working_after(to_utc_seconds(from));
  if (!t) return std::nullopt;
  return std::max(from, from_utc_seconds(*t));
}

// --- the decision table (decision.hpp), fed with the target's state -------------------------

TargetState Router::target_state(const std::string& sender, const std::string& target,
                                 Instant now) const {
  TargetState b;
  b.paused = paused(target, now);
  b.reach = presence_.reachability(target);
  b.engaged = sessions_.engaged(sender, target, now);
  b.status = status_of(target, now);
  b.counted = sessions_.counted(target, now, sender);
  b.max_concurrent = settings_.max_concurrent;
  b.others_waiting = has_waiting(target);
  return b;
}

bool Router::urgent_allowed(const xmpp::Element& stanza, const std::string& sender,
                            const std::string& target, Instant now) const {
  const auto body = stanza.child_text("body");
  const bool prefixed = body && !settings_.urgent_prefix.empty() &&
                        body->starts_with(settings_.urgent_prefix);
  if (!prefixed && !marked_urgent(stanza)) return false;
  // During a pause only the always-through list may interrupt (DESIGN §2).
  const bool allowed = (!paused(target, now) && urgent_from_anyone(target)) ||
                       always_through(target).count(sender);
  if (!allowed) return false;
  auto sent = urgent_sent_.find({sender, target});
  if (sent == urgent_sent_.end()) return true;
  const auto in_last_hour = std::count_if(sent->second.begin(), sent->second.end(),
                                          [&](Instant t) { return now - t < std::chrono::hours(1); });
  return in_last_hour < settings_.urgent_max_per_hour;
}

void Router::forward_urgent(const xmpp::Element& stanza, const xmpp::Jid& sender,
                            const xmpp::Jid& target, Instant now, Outbox& out) {
  const std::string from = lower(sender.bare_string());
  const std::string to = lower(target.bare_string());
  auto& sent = urgent_sent_[{from, to}];
  while (!sent.empty() && now - sent.front() >= std::chrono::hours(1)) sent.pop_front();
  sent.push_back(now);
  xmpp::Element urgent = stanza;
  if (auto* body = urgent.child("body");
      body && body->inner_text().starts_with(settings_.urgent_prefix)) {
    const std::string original = body->inner_text();
    std::string text = original.substr(settings_.urgent_prefix.size());
    text.erase(0, text.find_first_not_of(' '));
    *body = xmpp::make_text("body", text);
    shift_offsets(urgent, code_points(original.substr(0, original.size() - text.size())));
  }
  if (!urgent.child("attention", "urn:xmpp:attention:0")) {
    urgent.add_child(xmpp::make("attention", {{"xmlns", "urn:xmpp:attention:0"}}));
  }
  ++stats_.urgent;
  relay(urgent, sender, target, out);
  // It opens no conversation and releases nothing else held (DESIGN §2); if `to` answers,
  // that answer engages the conversation.
  sessions_.delivered(from, to, now);
  out.send(notice(to, from, "Concierge: delivered to " + name_of(to) + " as urgent."));
}

// Decides a message from `sender` to the enrolled `target` (the refusals are done). Returns
// true when it was forwarded now as part of a conversation (the caller tracks its session); an
// urgent message is forwarded but engages nothing, and returns false.
bool Router::schedule_message(const xmpp::Element& stanza, const xmpp::Jid& sender,
                              const xmpp::Jid& target, Instant now, Outbox& out) {
  const std::string from = lower(sender.bare_string());
  const std::string to = lower(target.bare_string());
  const bool has_body = stanza.child("body") != nullptr;
  const bool no_store = stanza.child("no-store", kHints) != nullptr;
  const bool never_held = !has_body || no_store || stanza.attr("type") == "headline";

  if (has_body && apply_to_held(stanza, from, to, out)) return false;

  TargetState b = target_state(from, to, now);
  b.never_held = never_held;
  b.urgent = has_body && !never_held && urgent_allowed(stanza, from, to, now);
  const Decision d = decide(b);
  switch (d.action) {
    case Action::forward_urgent:
      forward_urgent(stanza, sender, target, now, out);
      return false;
    case Action::forward:
      relay(stanza, sender, target, out);
      if (has_body) reply_notice(from, to, now, out);  // `from` replies to `to`
      return true;
    case Action::drop:
      ++stats_.dropped;  // chat states, receipts, no-store: relayed only when a message would go
      return false;
    case Action::hold:
      break;
  }
  auto per_target = target_holds_.find(to);
  if (per_target != target_holds_.end() && per_target->second.size() >= settings_.holds_per_target) {
    refuse(stanza, Refusal::rate_limited,
           name_of(to) + " has too many messages waiting; try again later.", out);
    return false;
  }
  if (auto held = sender_holds_.find(from);
      held != sender_holds_.end() && held->second >= settings_.holds_per_sender) {
    refuse(stanza, Refusal::rate_limited,
           "You have too many messages waiting for delivery; cancel some or wait.", out);
    return false;
  }
  auto from_proxy = xmpp::proxy_jid(sender.bare(), settings_.component_domain);
  if (!from_proxy) return false;
  xmpp::Element relayed = stanza;
  relayed.set_attr("from", from_proxy->bare_string());
  relayed.set_attr("to", target.bare_string());
  hold(stanza, std::move(relayed), from, to, d.reason, now, out);
  return false;
}

// XEP-0308 corrections and XEP-0424 retractions of a message that is still held apply to the
// held copy; the correction/retraction itself is then not relayed.
bool Router::apply_to_held(const xmpp::Element& stanza, const std::string& sender,
                           const std::string& target, Outbox& out) {
  auto ref = applies_to(stanza);
  if (!ref || ref->first.empty()) return false;
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return false;
  for (std::int64_t id : ids->second) {
    Hold& h = holds_.at(id);
    if (h.sender != sender || h.stanza_id != ref->first || h.state != HoldState::held ||
        in_flight_.count(id)) {
      continue;
    }
    if (ref->second) {
      erase_hold(id);
      out.log(LogLevel::debug, "a retraction removed a held message");
    } else if (auto held = xmpp::parse_xml(h.stanza)) {
      held->remove_children("body");
      held->add_child(xmpp::make_text("body", stanza.child_text("body").value_or("")));
      h.stanza = held->to_xml();
      store_.put_hold(h);
    }
    return true;
  }
  return false;
}

void Router::hold(const xmpp::Element& original, xmpp::Element relayed, const std::string& sender,
                  const std::string& target, HoldReason reason, Instant now, Outbox& out,
                  std::optional<Instant> received) {
  if (refuse_unstorable(original, target, out)) return;
  Hold h;
  h.id = next_hold_id_++;
  h.sender = sender;
  h.target = target;
  h.stanza_id = std::string(relayed.attr("id"));
  h.stanza = relayed.to_xml();
  h.received = received.value_or(now);
  h.reason = reason;
  store_.put_hold(h);
  commits_.held(h.id, make_error_reply(original, Refusal::store_unavailable, unstorable_text(target)));
  target_holds_[target].insert(h.id);
  count_held(h, +1);
  holds_.emplace(h.id, std::move(h));
  ++stats_.held;
  notify(sender, target, reason, now, out);
}

// --- notices ---------------------------------------------------------------------------------

Settings::Privacy Router::privacy_for(const std::string& target, const std::string& sender) const {
  // DESIGN §7: the target's choice (else privacy.default) for senders of the target's own
  // domain; at most "wait" for senders of other served domains.
  auto chosen = privacy_.find(target);
  const Settings::Privacy own =
      chosen != privacy_.end() ? chosen->second : settings_.privacy_default;
  auto sj = xmpp::Jid::parse(sender);
  auto tj = xmpp::Jid::parse(target);
  if (sj && tj && sj->domain() == tj->domain()) return own;
  return own == Settings::Privacy::none ? Settings::Privacy::none : Settings::Privacy::wait;
}

std::string Router::name_of(const std::string& bare) const { return bare; }

std::string Router::when_text(Instant t, const std::string& sender,
                              const std::string& target) const {
  // The sender's zone when known (they are enrolled), else the target's, named.
  std::string zone_name;
  bool named = false;
  zone_name = zone_of(sender);
  if (zone_name.empty()) {
    zone_name = zone_of(target);
    named = true;
  }
  auto zone = zone_name.empty() ? ical::Zone::utc() : ical::find_zone(zone_name);
  if (!zone) zone = ical::Zone::utc();
  const ical::LocalSeconds local = zone->to_local(to_utc_seconds(t));
  const std::int64_t days = ical::floor_days(local);
  const ical::CivilDate d = ical::civil_from_days(days);
  const std::int64_t secs = local - days * ical::kSecondsPerDay;
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  char buf[64];
  if (t - now_hint_ < std::chrono::days(6)) {
    std::snprintf(buf, sizeof buf, "%s %02d:%02d", kDays[ical::weekday_from_days(days)],
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%s %04d-%02d-%02d %02d:%02d", kDays[ical::weekday_from_days(days)],
                  d.year, d.month, d.day, static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60));
  }
  std::string text = buf;
  if (named || zone_name.empty()) text += " (" + (zone_name.empty() ? "UTC" : zone_name) + ")";
  return text;
}

xmpp::Element Router::notice(const std::string& target, const std::string& to,
                             const std::string& text) const {
  auto jid = xmpp::Jid::parse(target);
  const bool pool = jid && jid->domain() == settings_.component_domain;  // a pool's own address
  auto proxy = jid && !pool ? xmpp::proxy_jid(*jid, settings_.component_domain) : std::nullopt;
  // In proxy mode a notice comes from the target's proxy address, into the conversation the
  // sender is looking at: the "Concierge:" prefix says it is not the target speaking, and the
  // XEP-0334 no-store hint keeps it out of archives and offline storage (DESIGN §2).
  constexpr std::string_view kPrefix = "Concierge: ";
  return chat_message(pool ? target : proxy ? proxy->bare_string() : settings_.component_domain, to,
                      text.starts_with(kPrefix) ? text : std::string(kPrefix) + text, true);
}

std::size_t Router::queue_position(const std::string& sender, const std::string& target) const {
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return 1;
  std::vector<std::string> order;
  for (std::int64_t id : ids->second) {
    const Hold& h = holds_.at(id);
    if (h.state != HoldState::held || h.reason != HoldReason::queue || in_flight_.count(id)) {
      continue;  // released (on its way out) is no longer in line
    }
    if (std::find(order.begin(), order.end(), h.sender) == order.end()) order.push_back(h.sender);
  }
  auto it = std::find(order.begin(), order.end(), sender);
  return static_cast<std::size_t>(it - order.begin()) + 1;
}

void Router::notify(const std::string& sender, const std::string& target, HoldReason reason,
                    Instant now, Outbox& out) {
  auto [it, inserted] = notified_.try_emplace({sender, target}, reason);
  if (!inserted) {
    if (it->second == reason) return;  // once per hold episode, again only if the reason changes
    it->second = reason;
  }
  // Privacy (DESIGN §7): exact times for the target's own domain by default; others only
  // learn that the message waits.
  const Settings::Privacy privacy = privacy_for(target, sender);
  const std::string who = name_of(target);
  const bool pool = target.ends_with("@" + settings_.component_domain);
  std::string text;
  if (pool) {  // a pool's line: no one's schedule to protect
    text = "Concierge: everyone at " + target + " is busy; you are #" +
           std::to_string(queue_position(sender, target)) + " in line.";
  } else if (privacy == Settings::Privacy::none) {
    text = "Concierge: your message to " + who + " will be delivered later.";
  } else if (privacy == Settings::Privacy::wait) {
    text = "Concierge: " + who + " can't take messages right now; your message will wait and "
           "be delivered later.";
  } else if (reason == HoldReason::queue) {
    // "in another conversation" only when there is one: dnd alone, a slot kept for a
    // conversation released from the line, or a line that has not moved yet is "busy" — just
    // as private, and true.
    const auto peers = sessions_.peers(target, now);
    const bool conversing =
        std::any_of(peers.begin(), peers.end(), [&](const std::string& p) { return p != sender; });
    text = "Concierge: " + who + (conversing ? " is in another conversation" : " is busy") +
           "; you are #" + std::to_string(queue_position(sender, target)) + " in line.";
  } else if (reason == HoldReason::offline) {
    text = "Concierge: " + who + " is offline; your message will be delivered when they are back.";
  } else {
    const char* state = reason == HoldReason::away ? "away" : reason == HoldReason::busy ? "busy" : "off";
    now_hint_ = now;
    auto when = next_working(target, now);
    text = "Concierge: " + who + " is " + state +
           (when ? " until " + when_text(*when, sender, target) + "; your message will be delivered then."
                 : " for now; your message will be delivered when they are back at work.");
  }
  out.after_commit.push_back(notice(target, sender, text));
}

void Router::reply_notice(const std::string& replier, const std::string& to, Instant now,
                          Outbox& out) {
  if (!enrolled(replier)) return;
  // The patent's last step: B answers A outside B's working time, or shortly before it ends:
  // A learns once when B is next available.
  const ical::Status status = status_of(replier, now);
  std::optional<Instant> ends;
  if (status == ical::Status::working) {
    auto it = schedules_.find(replier);
    if (it == schedules_.end()) return;
    auto change = it->second->next_change_after(to_utc_seconds(now));
    if (!change || from_utc_seconds(*change) - now > settings_.notice_before_end) return;
    ends = from_utc_seconds(*change);
  }
  auto back = next_working(replier, ends.value_or(now) + std::chrono::seconds(1));
  if (!back) return;
  auto& told = reply_noticed_[{to, replier}];
  if (told == *back) return;
  told = *back;
  if (privacy_for(replier, to) != Settings::Privacy::exact) return;  // times only if allowed
  now_hint_ = now;
  const std::string when = when_text(*back, to, replier);
  out.send(notice(replier, to,
                  ends ? "Concierge: " + name_of(replier) + "'s working time ends soon; back " + when + "."
                       : "Concierge: " + name_of(replier) + " answered outside working time; back " +
                             when + "."));
}

// --- release ---------------------------------------------------------------------------------

void Router::set_reason(const std::vector<std::int64_t>& ids, const std::string& sender,
                        const std::string& target, HoldReason reason, Instant now, Outbox& out) {
  for (std::int64_t id : ids) {
    Hold& h = holds_.at(id);
    if (h.state == HoldState::held && h.reason != reason) {
      h.reason = reason;
      store_.put_hold(h);
    }
  }
  // The notice follows the store write: both go out after this turn's commit.
  notify(sender, target, reason, now, out);
}

bool Router::release(Hold& h, const std::string& to, Instant now, Outbox& out) {
  auto stanza = xmpp::parse_xml(h.stanza);
  if (!stanza) {
    out.log(LogLevel::error, "a held message could not be read back; dropped it");
    return false;  // the caller erases it once it is done iterating
  }
  stanza->set_attr("to", to);  // the target; for a pool, the member it goes to
  stanza->add_child(xmpp::make("delay", {{"xmlns", std::string(kDelay)},
                                         {"from", settings_.component_domain},
                                         {"stamp", format_xmpp_datetime(h.received)}}));
  in_flight_.insert(h.id);
  count_release(now);
  sessions_.delivered(h.sender, to, now);  // opens nothing: only `to` answering does
  out.releases.push_back({h.id, std::move(*stanza)});
  return true;
}

bool Router::has_waiting(const std::string& target) const {
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return false;
  for (std::int64_t id : ids->second) {
    if (holds_.at(id).state == HoldState::held && !in_flight_.count(id)) return true;
  }
  return false;
}

void Router::try_release(const std::string& target, Instant now, Outbox& out) {
  if (!online_) return;
  if (target.ends_with("@" + settings_.component_domain)) {
    try_release_pool(target.substr(0, target.find('@')), now, out);
    return;
  }
  // A member who became free may take a pool's waiting conversation first.
  if (!settings_.pools.empty()) release_pools_of(target, now, out);
  auto it = target_holds_.find(target);
  if (it == target_holds_.end() || it->second.empty()) return;
  // Waiting conversations in the order of their first held message, each with its holds:
  // grouped once, so every step below is linear in the target's holds.
  struct Conversation {
    std::string sender;
    HoldReason reason;
    std::vector<std::int64_t> ids;
  };
  std::vector<Conversation> waiting;
  std::unordered_map<std::string, std::size_t> index;
  for (std::int64_t id : it->second) {
    const Hold& h = holds_.at(id);
    if (h.state != HoldState::held || in_flight_.count(id)) continue;
    auto [pos, fresh] = index.try_emplace(h.sender, waiting.size());
    if (fresh) waiting.push_back({h.sender, h.reason, {}});
    waiting[pos->second].ids.push_back(id);
  }
  if (waiting.empty()) return;
  std::vector<std::int64_t> unreadable;
  auto release_conversation = [&](Conversation& c) {
    for (std::int64_t id : c.ids) {
      if (!release(holds_.at(id), target, now, out)) unreadable.push_back(id);
    }
    expect_delivery(c.sender, target, c.ids);
    c.ids.clear();
    notified_.erase({c.sender, target});
  };
  auto finish = [&] {
    for (std::int64_t id : unreadable) erase_hold(id);
  };

  // The "while you were away" summary, before the conversations it lists. Their holds stay
  // in summarised_ until the server confirms their release: if the stream is cut first, the
  // summary may be lost with them, and it goes again when they are released again.
  auto summarise = [&](const std::vector<Conversation*>& listed) {
    std::size_t total = 0;
    std::string list;
    now_hint_ = now;
    for (const Conversation* c : listed) {
      total += c->ids.size();
      list += (list.empty() ? "" : ", ") + name_of(c->sender) + " (" +
              std::to_string(c->ids.size()) + " since " +
              when_text(holds_.at(c->ids.front()).received, target, target) + ")";
      summarised_.insert(c->ids.begin(), c->ids.end());
    }
    const std::string summary =
        "Concierge: while you were away, " + std::to_string(listed.size()) +
        (listed.size() == 1 ? " person" : " people") + " wrote " + std::to_string(total) +
        (total == 1 ? " message: " : " messages: ") + list + ". Here they come.";
    out.send(chat_message(settings_.component_domain, target, summary, true));
  };

  // The conversation row of the table: held messages of a conversation the target engaged in
  // since go now, whatever waits — unless a pause holds everything or the target is offline —
  // with their summary again when an unconfirmed release of them had one.
  const Reachability reach = presence_.reachability(target);
  std::vector<Conversation*> reopened, unconfirmed;
  if (!paused(target, now) && reach != Reachability::offline) {
    for (auto& c : waiting) {
      if (!sessions_.engaged(c.sender, target, now)) continue;
      reopened.push_back(&c);
      if (std::ranges::any_of(c.ids, [&](std::int64_t id) { return summarised_.count(id) != 0; })) {
        unconfirmed.push_back(&c);
      }
    }
  }
  if (!unconfirmed.empty()) summarise(unconfirmed);
  for (Conversation* c : reopened) release_conversation(*c);
  const ical::Status status = status_of(target, now);
  if (status != ical::Status::working || reach == Reachability::offline) {
    const HoldReason reason =
        status != ical::Status::working ? hold_reason_for(status) : HoldReason::offline;
    for (auto& c : waiting) {
      if (!c.ids.empty()) set_reason(c.ids, c.sender, target, reason, now, out);
    }
    finish();
    return;
  }
  const bool dnd = reach == Reachability::dnd;
  // Off-hours / away / busy / offline holds: released together, with one summary first —
  // when the target is free to take them.
  std::vector<Conversation*> batch;
  for (auto& c : waiting) {
    if (!c.ids.empty() && c.reason != HoldReason::queue) batch.push_back(&c);
  }
  if (!batch.empty()) {
    if (!dnd && sessions_.counted(target, now) < settings_.max_concurrent) {
      summarise(batch);
      for (Conversation* c : batch) release_conversation(*c);
      finish();
      return;
    }
    for (Conversation* c : batch) {
      set_reason(c->ids, c->sender, target, HoldReason::queue, now, out);
      c->reason = HoldReason::queue;
    }
  }
  // The queue: one conversation per free slot, first come first served; a released
  // conversation holds its slot until its session ends.
  int free = dnd ? 0 : settings_.max_concurrent - sessions_.counted(target, now);
  for (auto& c : waiting) {
    if (free <= 0) break;
    if (c.ids.empty()) continue;
    release_conversation(c);
    sessions_.reserve(c.sender, target, now);
    --free;
  }
  finish();
}

void Router::expect_delivery(const std::string& sender, const std::string& target,
                             const std::vector<std::int64_t>& ids) {
  if (!notified_.count({sender, target})) return;  // never told of a hold: nothing to close
  if (privacy_for(target, sender) == Settings::Privacy::none) return;
  delivering_[{sender, target}].insert(ids.begin(), ids.end());
}

void Router::release_confirmed(const std::vector<std::int64_t>& ids, Instant now, Outbox& out) {
  wake_dirty_ = true;  // their confirm windows now end
  std::set<std::pair<std::string, std::string>> touched;
  for (std::int64_t id : ids) {
    summarised_.erase(id);
    if (!in_flight_.erase(id)) continue;
    auto it = holds_.find(id);
    if (it == holds_.end()) continue;
    it->second.state = HoldState::sent;
    it->second.sent_at = now;
    store_.put_hold(it->second);
    count_held(it->second, -1);
    touched.insert({it->second.sender, it->second.target});
  }
  // Once per hold episode: the sender was told their messages were held, and none is any more.
  for (const auto& pair : touched) {
    auto d = delivering_.find(pair);
    if (d == delivering_.end() || pair_held_.count(pair)) continue;
    const std::size_t n = d->second.size();
    delivering_.erase(d);
    const std::string& target = pair.second;
    out.send(notice(target, pair.first,
                    n == 1 ? "Concierge: your held message to " + name_of(target) + " was delivered."
                           : "Concierge: your " + std::to_string(n) + " held messages to " +
                                 name_of(target) + " were delivered."));
  }
}

void Router::disconnected() {
  online_ = false;
  in_flight_.clear();  // still `held` in the store: they go out again once conditions allow
}

bool Router::hold_behind(const xmpp::Element& forwarded, Instant received, Instant now,
                         Outbox& out) {
  const auto from = xmpp::Jid::parse(forwarded.attr("from"));
  const auto to = xmpp::Jid::parse(forwarded.attr("to"));
  if (!from || !to) return false;
  // A pool member's per-sender address is no proxy address: pools keep their own order.
  const auto sender_jid = xmpp::user_from_proxy(from->bare(), settings_.component_domain);
  if (!sender_jid) return false;
  const std::string sender = lower(sender_jid->bare_string());
  const std::string target = lower(to->bare_string());
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return false;
  std::optional<HoldReason> reason;
  for (std::int64_t id : ids->second) {
    const Hold& h = holds_.at(id);
    if (h.sender == sender && h.state == HoldState::held) {
      reason = h.reason;
      break;
    }
  }
  if (!reason) return false;
  auto target_proxy = xmpp::proxy_jid(to->bare(), settings_.component_domain);
  if (!target_proxy) return false;
  // As the sender wrote it: a refusal (the store failing) goes back to them.
  xmpp::Element original = forwarded;
  original.set_attr("from", sender);
  original.set_attr("to", target_proxy->bare_string());
  // The episode's notice went already; the same reason tells nothing new.
  hold(original, forwarded, sender, target, *reason, now, out, received);
  return true;
}

bool Router::rehold_bounce(const xmpp::Element& stanza, const std::string& target,
                           const std::string& sender, Instant now, Outbox& out) {
  const std::string_view id = stanza.attr("id");
  auto ids = target_holds_.find(target);
  if (id.empty() || ids == target_holds_.end()) return false;
  for (std::int64_t hid : ids->second) {
    Hold& h = holds_.at(hid);
    if (h.sender != sender || h.stanza_id != id) continue;
    if (h.state == HoldState::sent && now - h.sent_at > settings_.confirm_window) continue;
    if (h.state != HoldState::sent && !in_flight_.count(hid)) continue;
    in_flight_.erase(hid);
    if (h.state == HoldState::sent) count_held(h, +1);
    h.state = HoldState::held;
    h.reason = HoldReason::offline;
    if (++bounces_[hid] > kMaxBounces) {
      // The server keeps refusing it (the target blocks the proxy, the account is gone…):
      // give up rather than retry for max_hold_age, and tell the sender.
      const std::string to = h.sender, about = h.target;
      delivering_.erase({to, about});
      bounces_.erase(hid);
      erase_hold(hid);
      out.send(notice(about, to,
                      "Concierge: your message to " + name_of(about) +
                          " could not be delivered: the server refused it."));
      return true;
    }
    store_.put_hold(h);
    out.log(LogLevel::info, "a released message bounced; it is held again");
    return true;
  }
  return false;
}

void Router::count_held(const Hold& h, int delta) {
  wake_dirty_ = true;  // a hold appeared, changed state or went: its expiry timer with it
  auto& per_sender = sender_holds_[h.sender];
  per_sender = static_cast<std::size_t>(static_cast<long long>(per_sender) + delta);
  if (per_sender == 0) sender_holds_.erase(h.sender);
  const auto pair = std::pair{h.sender, h.target};
  auto& per_pair = pair_held_[pair];
  per_pair += delta;
  if (per_pair <= 0) {
    pair_held_.erase(pair);
    // The hold episode ends when none of this sender's messages to this target is held.
    notified_.erase(pair);
  }
}

void Router::erase_hold(std::int64_t id) {
  auto it = holds_.find(id);
  if (it == holds_.end()) return;
  wake_dirty_ = true;
  bounces_.erase(id);
  const Hold& h = it->second;
  if (auto t = target_holds_.find(h.target); t != target_holds_.end()) {
    t->second.erase(id);
    if (t->second.empty()) target_holds_.erase(t);
  }
  if (h.state == HoldState::held) {
    count_held(h, -1);
    // Gone undelivered (cancelled, expired, bounced, unreadable): not "delivered" later.
    if (auto d = delivering_.find({h.sender, h.target}); d != delivering_.end()) {
      d->second.erase(id);
      if (d->second.empty()) delivering_.erase(d);
    }
  }
  in_flight_.erase(id);
  summarised_.erase(id);
  store_.remove_hold(id);
  holds_.erase(it);
}

void Router::expire_holds(Instant now, Outbox& out) {
  std::vector<std::int64_t> done;
  std::map<std::pair<std::string, std::string>, int> expired;
  for (auto& [id, h] : holds_) {
    if (h.state == HoldState::sent && now - h.sent_at >= settings_.confirm_window) {
      done.push_back(id);
    } else if (h.state == HoldState::held && !in_flight_.count(id) &&
               now - h.received >= settings_.max_hold_age) {
      done.push_back(id);
      ++expired[{h.sender, h.target}];
    }
  }
  for (std::int64_t id : done) erase_hold(id);
  for (const auto& [pair, n] : expired) {
    stats_.expired += static_cast<std::uint64_t>(n);
    out.send(notice(pair.second, pair.first,
                    "Concierge: " + std::to_string(n) + (n == 1 ? " message" : " messages") +
                        " you sent to " + name_of(pair.second) +
                        " waited too long and expired undelivered."));
  }
}

void Router::bounce_holds(const std::string& target, const std::string& why, Outbox& out) {
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return;
  // Each sender learns which messages came back: their texts, quoted and shortened, in the
  // order they were sent (the held copies are gone afterwards).
  std::map<std::string, std::vector<std::string>> per_sender;
  for (std::int64_t id : std::set<std::int64_t>(ids->second)) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held) {
      auto held = xmpp::parse_xml(h.stanza);
      per_sender[h.sender].push_back(held ? held->child_text("body").value_or("") : "");
    }
    erase_hold(id);
  }
  for (const auto& [sender, bodies] : per_sender) {
    out.send(notice(target, sender, bounce_text(name_of(target), why, bodies)));
  }
}

std::vector<Hold> Router::holds_for(const std::string& target) const {
  std::vector<Hold> out;
  auto ids = target_holds_.find(target);
  if (ids == target_holds_.end()) return out;
  for (std::int64_t id : ids->second) {
    const Hold& h = holds_.at(id);
    if (h.state == HoldState::held && !in_flight_.count(id) && !commits_.uncommitted(id)) {
      out.push_back(h);
    }
  }
  return out;
}

// "held" lists what the sender has waiting; "cancel [jid]" drops it (DESIGN §2).
std::optional<std::string> Router::hold_command(const std::string& sender,
                                                std::string_view command, Instant now) {
  const bool list = command == "held";
  const bool cancel = command == "cancel" || command.starts_with("cancel ");
  if (!list && !cancel) return std::nullopt;
  std::string only;
  if (cancel && command.size() > 7) only = lower(command.substr(7));
  std::map<std::string, std::vector<std::int64_t>> mine;
  std::map<std::string, Instant> oldest;
  for (const auto& [id, h] : holds_) {
    if (h.sender == sender && h.state == HoldState::held && !in_flight_.count(id) &&
        !commits_.uncommitted(id) && (only.empty() || h.target == only)) {
      if (mine[h.target].empty()) oldest[h.target] = h.received;  // ids rise with arrival
      mine[h.target].push_back(id);
    }
  }
  std::string text;
  if (mine.empty()) {
    text = only.empty() ? "Nothing you sent is held." : "Nothing you sent to " + only + " is held.";
  } else if (list) {
    text = "Held for delivery:";
    for (const auto& [target, ids] : mine) {
      text += "\n  " + target + ": " + std::to_string(ids.size()) +
              (ids.size() == 1 ? " message" : " messages") + ", oldest " +
              age_text(now - oldest[target]) + " old";
    }
    text += "\nSend \"cancel\" (or \"cancel user@domain\") to withdraw them.";
  } else {
    std::size_t n = 0;
    for (const auto& [target, ids] : mine) {
      for (std::int64_t id : ids) erase_hold(id);
      n += ids.size();
    }
    text = "Cancelled " + std::to_string(n) + (n == 1 ? " held message." : " held messages.");
  }
  return text;
}

}  // namespace concierge::core
