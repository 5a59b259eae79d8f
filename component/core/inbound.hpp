// SPDX-License-Identifier: MIT
#pragma once
// Inbound: a message on its way to an enrolled target, as the scheduler sees it — who wrote
// to whom and what kind of message it is, not how it was addressed. The proxy adapter
// (router.cpp) builds it from a stanza sent to proxy(target); a server extension's divert
// (DESIGN §10, transparent delivery) is to build it from the original stanza. Owns nothing:
// `stanza` is borrowed for the one call.

#include <string>

#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

struct Inbound {
  const xmpp::Element& stanza;  // the payload as received: id, origin-id, body, extensions
  const xmpp::Jid& sender;      // the real sender, as the server stamped it
  const xmpp::Jid& target;      // the user it is for (their real JID)
  std::string from;             // the sender's bare JID, lower-case
  std::string to;               // the target's bare JID, lower-case
  bool has_body = false;
  // Bodiless (chat states, receipts), `no-store` and `headline`: relayed only when a message
  // would go now, never held (DESIGN §2).
  bool never_held = false;
};

// The Inbound for `stanza` from `sender` to `target`.
Inbound inbound_of(const xmpp::Element& stanza, const xmpp::Jid& sender, const xmpp::Jid& target);

}  // namespace concierge::core
