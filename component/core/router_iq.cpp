// SPDX-License-Identifier: MIT
// Router: an iq to the component or a proxy — registration (registration.hpp) and ad-hoc
// commands (command_table.hpp) on the component's bare JID, else disco, version and ping
// (service_info.cpp).
#include <component/core/router.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>

namespace concierge::core {

void Router::handle_iq(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out) {
  const std::string_view type = stanza.attr("type");
  if (type != "get" && type != "set") {
    ++stats_.dropped;  // results and errors for iqs we did not send, or that app/ did not claim
    return;
  }
  if (!a.to.has_local() && registration_.handle(stanza, a.from, now, out)) return;
  if (!a.to.has_local() && commands_.adhoc(stanza, a.from, now, out)) return;
  std::optional<xmpp::Jid> target;
  if (a.to.has_local()) {
    if (!settings_.serves(a.from.domain())) {
      refuse_stanza(stanza, Refusal::sender_not_served,
             "Concierge serves only users of its own server's domains.", stats_, out);
      return;
    }
    target = xmpp::user_from_proxy(a.to, settings_.component_domain);
    if (!target || target->domain() == settings_.component_domain) {
      refuse_stanza(stanza, Refusal::not_a_proxy, "This is not a Concierge address.", stats_, out);
      return;
    }
    if (!directory_.enrolled(lower(target->bare_string()))) {
      refuse_stanza(stanza, Refusal::target_not_enrolled,
             target->bare_string() + " does not use Concierge.", stats_, out);
      return;
    }
  }
  IqAnswer answer = answer_iq(stanza, target ? &*target : nullptr, settings_);
  if (answer.refusal) {
    refuse_stanza(stanza, *answer.refusal, answer.text, stats_, out);
    return;
  }
  ++stats_.answered;
  out.send(std::move(answer.reply));
}

}  // namespace concierge::core
