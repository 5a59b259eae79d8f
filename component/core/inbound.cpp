// SPDX-License-Identifier: MIT
#include <component/core/inbound.hpp>

#include <utility>

#include <component/core/text.hpp>
#include <xmpp/divert.hpp>

namespace concierge::core {

bool diverted(const xmpp::Element& stanza) {
  return stanza.child(kDivertedMark, xmpp::divert::kNamespace) != nullptr;
}

bool carries_content(const xmpp::Element& stanza) {
  if (stanza.child("body")) return true;
  if (!diverted(stanza)) return false;
  static constexpr std::pair<std::string_view, std::string_view> kPayloads[] = {
      {"attention", "urn:xmpp:attention:0"},
      {"encrypted", "eu.siacs.conversations.axolotl"},
      {"encrypted", "urn:xmpp:omemo:2"},
      {"openpgp", "urn:xmpp:openpgp:0"},
      {"x", "jabber:x:encrypted"},
      {"replace", "urn:xmpp:message-correct:0"},
      {"retract", "urn:xmpp:message-retract:1"},
  };
  for (const auto& [name, ns] : kPayloads) {
    if (stanza.child(name, ns)) return true;
  }
  const auto* fasten = stanza.child("apply-to", "urn:xmpp:fasten:0");
  return fasten && fasten->child("retract", "urn:xmpp:message-retract:0");
}

Inbound inbound_of(const xmpp::Element& stanza, const xmpp::Jid& sender, const xmpp::Jid& target) {
  Inbound m{stanza, sender, target, lower(sender.bare_string()), lower(target.bare_string())};
  m.has_body = carries_content(stanza);
  m.limits_when_held = diverted(stanza);
  m.never_held = !m.has_body || stanza.child("no-store", "urn:xmpp:hints") != nullptr ||
                 stanza.attr("type") == "headline";
  return m;
}

}  // namespace concierge::core
