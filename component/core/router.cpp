// SPDX-License-Identifier: MIT
#include <component/core/router.hpp>
#include <component/core/text.hpp>

#include <algorithm>
#include <cctype>

#include <component/core/service_info.hpp>

namespace concierge::core {

std::size_t stanza_weight(const xmpp::Element& element, std::size_t max_depth, bool& too_deep) {
  if (max_depth == 0) {
    too_deep = true;
    return 0;
  }
  std::size_t weight = element.name.size() + element.text.size();
  for (const auto& [k, v] : element.attributes) weight += k.size() + v.size();
  for (const auto& c : element.children) weight += stanza_weight(c, max_depth - 1, too_deep);
  return weight;
}

namespace {

// An oversized stanza: refused, unless it is an error or a presence (dropped).
void refuse_oversized(const xmpp::Element& stanza, RouterStats& stats, Outbox& out) {
  if (stanza.attr("type") == "error" || stanza.name == "presence") {
    ++stats.dropped;
    out.log(LogLevel::warn, "dropped an oversized <" + stanza.name + ">");
    return;
  }
  refuse_stanza(stanza, Refusal::stanza_too_large, "This stanza is too large or too deeply nested.",
                stats, out);
}

}  // namespace

Router::Router(Settings settings, Store& store)
    : settings_(std::move(settings)),
      store_(store),
      limiter_(settings_.messages_per_sender_per_minute),
      proxy_(settings_.component_domain),
      directory_(settings_, store_),
      availability_(settings_),
      writers_(settings_.idle_after) {
  writers_.keep_in(store_);
  load_remembered(
      store_, availability_, scheduler_.notices().book(), presences_.sessions(), writers_,
      pools_.desk());  // pauses, told notices, conversations, …: a takeover resumes them
}

void Router::reconfigure(Settings settings, Instant now, Outbox& out) {
  const std::vector<std::string> removed = enrolments_.leaving(settings);
  scheduler_.changed();
  settings_ = std::move(settings);
  proxy_ = ProxyAddressing(settings_.component_domain);
  limiter_.set_rate(settings_.messages_per_sender_per_minute);
  presences_.sessions().set_idle_after(settings_.idle_after);
  writers_.set_idle_after(settings_.idle_after);
  for (const auto& user : removed) enrolments_.removed_from_users(user, out);
  for (const auto& target : scheduler_.holds().targets()) {
    pools_.release(target, now, out);  // limits may have changed
  }
}

void Router::handle(const xmpp::Element& stanza, Instant now, Outbox& out) {
  // Not marking the wake-up dirty here: most stanzas change no timer, and next_wake() is asked
  // every loop turn. Holds, schedules, pauses and proxy subscriptions mark it where they change.
  scheduler_.at(now);
  const bool known = stanza.name == "message" || stanza.name == "presence" || stanza.name == "iq";
  if (!known) {
    ++stats_.dropped;
    out.log(LogLevel::debug, "dropped a <" + stanza.name + "> that is not a stanza");
    return;
  }
  bool too_deep = false;
  if (stanza_weight(stanza, settings_.max_depth, too_deep) > settings_.max_stanza_bytes ||
      too_deep) {
    refuse_oversized(stanza, stats_, out);
    return;
  }
  auto from = xmpp::Jid::parse(stanza.attr("from"));
  auto to = xmpp::Jid::parse(stanza.attr("to"));
  if (!from || !to || to->domain() != settings_.component_domain) {
    ++stats_.dropped;
    out.log(LogLevel::warn, "dropped a <" + stanza.name + "> with a missing or malformed address");
    return;
  }
  if (from->domain() == settings_.component_domain) {
    ++stats_.dropped;  // our own stanza routed back to us: never relay it again
    out.log(LogLevel::warn, "dropped a <" + stanza.name + "> from the component's own domain");
    return;
  }
  const Addressing a{std::move(*from), std::move(*to)};
  if (stanza.name == "message") {
    handle_message(stanza, a, now, out);
  } else if (stanza.name == "iq") {
    handle_iq(stanza, a, now, out);
  } else {
    presences_.handle(stanza, a.from, a.to, now, out);
  }
}

void Router::handle_too_deep(const xmpp::Element& top_level, Outbox& out) {
  if (top_level.name != "message" && top_level.name != "iq" && top_level.name != "presence") {
    ++stats_.dropped;
    out.log(LogLevel::debug, "dropped a <" + top_level.name + "> that is not a stanza");
    return;
  }
  refuse_oversized(top_level, stats_, out);
}

void Router::handle_message(const xmpp::Element& stanza, const Addressing& a, Instant now,
                            Outbox& out) {
  const std::string_view type = stanza.attr("type");
  if (type == "error") {
    handle_bounce(stanza, a, now, out);
    return;
  }
  // Chat states, receipts, markers and headlines are never answered with an error.
  const bool answerable = carries_content(stanza) && type != "headline";
  auto refuse_or_drop = [&](Refusal refusal, const std::string& text) {
    if (answerable) {
      refuse_stanza(stanza, refusal, text, stats_, out);
    } else {
      ++stats_.dropped;
    }
  };

  // Senders of other servers only diverted, with served.remote (DESIGN §11): the divert's
  // mark is the transparent way's alone (it strips forged ones). The mark is looked for only
  // then: a served sender's relay pays nothing for it.
  if (!settings_.serves(a.from.domain()) && !(settings_.schedules_remote() && diverted(stanza))) {
    refuse_or_drop(Refusal::sender_not_served,
                   "Concierge serves only users of its own server's domains.");
    return;
  }
  if (!a.to.has_local()) {
    if (!a.from.has_local()) {
      // From the server itself: XEP-0356 tells which privileges it grants us.
      for (const auto& c : stanza.children) {
        if (c.name == "privilege") presences_.handle_privilege(c, out);
      }
      return;
    }
    commands_.chat(stanza, now, out);
    return;
  }
  if (type == "groupchat") {
    refuse_or_drop(Refusal::groupchat, "Concierge relays one-to-one chats, not group chats.");
    return;
  }
  // A pool (DESIGN §3): "helpdesk@component", or a member's reserved address for one sender.
  // Limits first: a flood is refused whatever it is addressed to.
  // (A diverted message meets them only where it would be held: schedule_message.)
  const std::string sender_key = lower(a.from.bare_string());
  if (!diverted(stanza)) {
    if (auto over = limit_exceeded(limiter_, settings_, stanza, sender_key, now)) {
      refuse_or_drop(over->first, over->second);
      return;
    }
  }
  if (pools_.message(stanza, a.from, a.to, now, out)) return;
  auto target = xmpp::user_from_proxy(a.to, settings_.component_domain);
  if (!target) {
    refuse_or_drop(Refusal::not_a_proxy,
                   "This is not a Concierge address: write to user\\40domain@" +
                       settings_.component_domain + ".");
    return;
  }
  if (target->domain() == settings_.component_domain) {
    refuse_or_drop(Refusal::proxy_loop, "A Concierge address cannot be reached through itself.");
    return;
  }
  const std::string target_key = lower(target->bare_string());
  if (target_key == sender_key) {
    refuse_or_drop(Refusal::to_self, "You cannot send to yourself through Concierge.");
    return;
  }
  const bool target_enrolled = directory_.enrolled(target_key);
  // A target who is not enrolled may be answered while they talk to the sender (DESIGN §2's
  // first row): they wrote within idle_after, or a conversation with them is still open.
  const bool may_answer = target_enrolled || writers_.wrote_recently(target_key, sender_key, now) ||
                          presences_.sessions().is_open(sender_key, target_key, now);
  switch (admit(target_enrolled, may_answer, directory_.senders().blocks(target_key, sender_key))) {
    case Admission::refuse_not_enrolled:
      refuse_or_drop(Refusal::target_not_enrolled,
                     target->bare_string() + " does not use Concierge.");
      return;
    case Admission::refuse_blocked:
      refuse_or_drop(Refusal::target_blocks_sender,
                     target->bare_string() + " does not accept messages from you.");
      return;
    case Admission::pass:
      break;
  }
  writers_.wrote(sender_key, target_key, a.from.has_resource() ? a.from.full_string() : "", now);
  if (target_enrolled) {
    if (scheduler_.schedule_message(inbound_of(stanza, a.from, *target), now, out)) {
      presences_.track_session(stanza, sender_key, target_key, now, out);
    }
    return;
  }
  relay_stanza(proxy_, stats_, stanza, a.from, *target, out);
  presences_.track_session(stanza, sender_key, target_key, now, out);
}

void Router::handle_bounce(const xmpp::Element& stanza, const Addressing& a, Instant now,
                           Outbox& out) {
  // An error the server returned for a message we relayed: it comes from the target to the
  // sender's proxy, and goes back to the sender from the target's proxy. Never answered.
  // A bounce for a message relayed to a pool member: the pool's (never naming the member).
  if (pools_.bounce(stanza, a.to, settings_.serves(a.from.domain()), now, out)) return;
  auto original_sender =
      a.to.has_local() ? xmpp::user_from_proxy(a.to, settings_.component_domain) : std::nullopt;
  // A sender of another server (served.remote) has only diverted messages held: a bounce of
  // one of their releases holds it again, and nothing else reaches them from a proxy address.
  const bool remote = original_sender && !settings_.serves(original_sender->domain()) &&
                      settings_.schedules_remote();
  if (!original_sender || (!settings_.serves(original_sender->domain()) && !remote) ||
      !settings_.serves(a.from.domain())) {
    ++stats_.dropped;
    out.log(LogLevel::debug, "dropped an error message that answers nothing we relayed");
    return;
  }
  if (releaser_.rehold_bounce(stanza, lower(a.from.bare_string()),
                              lower(original_sender->bare_string()), now, out)) {
    return;  // a released message the server refused: held again, not bounced to the sender
  }
  if (remote) {
    ++stats_.dropped;
    return;
  }
  const std::string writer_full =
      writers_.writer_full(lower(original_sender->bare_string()), lower(a.from.bare_string()));
  if (!writer_full.empty() && !original_sender->has_resource()) {
    if (auto full = xmpp::Jid::parse(writer_full)) original_sender = std::move(full);
  }
  relay_stanza(proxy_, stats_, stanza, a.from, *original_sender, out);
}

}  // namespace concierge::core
