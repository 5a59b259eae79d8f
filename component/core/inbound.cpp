// SPDX-License-Identifier: MIT
#include <component/core/inbound.hpp>

#include <component/core/text.hpp>

namespace concierge::core {

Inbound inbound_of(const xmpp::Element& stanza, const xmpp::Jid& sender, const xmpp::Jid& target) {
  Inbound m{stanza, sender, target, lower(sender.bare_string()), lower(target.bare_string())};
  m.has_body = stanza.child("body") != nullptr;
  m.never_held = !m.has_body || stanza.child("no-store", "urn:xmpp:hints") != nullptr ||
                 stanza.attr("type") == "headline";
  return m;
}

}  // namespace concierge::core
