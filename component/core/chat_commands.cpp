// SPDX-License-Identifier: MIT
// Router: a chat message to the component's bare JID is a command (DESIGN §7): one table of
// commands, tried in turn, serves chat and ad-hoc (adhoc.cpp runs the same run_command), and
// an iq to the component or a proxy is answered (disco, version, ping; service_info.cpp).
#include <component/core/router.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>

namespace concierge::core {

void Router::handle_command(const xmpp::Element& stanza, Instant now, Outbox& out) {
  auto body = stanza.child_text("body");
  if (!body) {
    ++stats_.dropped;  // a chat state or receipt to the component itself
    return;
  }
  std::optional<std::string> text;
  std::string domain;
  if (auto from = xmpp::Jid::parse(stanza.attr("from"))) {
    const std::string user = lower(from->bare_string());
    if (served(*from)) domain = from->domain();
    // Commands count against the sender's rate like messages: each may fetch or compile.
    text = limiter_.allow(user, now) ? run_command(user, from->full_string(), *body, now, out)
                                     : std::optional<std::string>(std::string(kTooFast));
  }
  ++stats_.answered;
  xmpp::Element answer = command_answer(
      stanza, text ? std::move(*text) : help_or_unknown(*body, settings_, domain), settings_);
  // From the address written to: a chat to the component's full JID is answered from it.
  answer.set_attr("from", stanza.attr("to"));
  out.send(std::move(answer));
}

std::optional<std::string> Router::run_command(const std::string& user, const std::string& full,
                                               std::string_view text, Instant now, Outbox& out) {
  // Settings keep the case of what follows the word (URLs, zones, an .ics); the other
  // commands take addresses and words, which compare in lower case.
  const std::string command = trim(text);
  auto answer = profile_command(user, command, now, out);
  if (answer) return answer;
  const std::string lowered = lower(command);
  answer = not_an_address(user, lowered);
  if (!answer) answer = hold_command(user, lowered, now);
  if (!answer) answer = user_command(user, lowered, now, out);
  if (!answer) answer = admin_command(user, full, lowered, now, out);
  return answer;
}

void Router::handle_iq(const xmpp::Element& stanza, const Addressing& a, Instant now,
                       Outbox& out) {
  const std::string_view type = stanza.attr("type");
  if (type != "get" && type != "set") {
    ++stats_.dropped;  // results and errors for iqs we did not send, or that app/ did not claim
    return;
  }
  if (!a.to.has_local() && handle_registration(stanza, a, now, out)) return;
  if (!a.to.has_local() && handle_adhoc(stanza, a, now, out)) return;
  std::optional<xmpp::Jid> target;
  if (a.to.has_local()) {
    if (!served(a.from)) {
      refuse(stanza, Refusal::sender_not_served,
             "Concierge serves only users of its own server's domains.", out);
      return;
    }
    target = xmpp::user_from_proxy(a.to, settings_.component_domain);
    if (!target || target->domain() == settings_.component_domain) {
      refuse(stanza, Refusal::not_a_proxy, "This is not a Concierge address.", out);
      return;
    }
    if (!enrolled(*target)) {
      refuse(stanza, Refusal::target_not_enrolled,
             target->bare_string() + " does not use Concierge.", out);
      return;
    }
  }
  IqAnswer answer = answer_iq(stanza, target ? &*target : nullptr, settings_);
  if (answer.refusal) {
    refuse(stanza, *answer.refusal, answer.text, out);
    return;
  }
  ++stats_.answered;
  out.send(std::move(answer.reply));
}

}  // namespace concierge::core
