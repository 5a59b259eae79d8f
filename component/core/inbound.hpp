// SPDX-License-Identifier: MIT
#pragma once
// Inbound: a message on its way to an enrolled target, as the scheduler sees it — who wrote
// to whom and what kind of message it is, not how it was addressed. The proxy adapter
// (router.cpp) builds it from a stanza sent to proxy(target); a server extension's divert
// (DESIGN §10, transparent delivery) is to build it from the original stanza. Owns nothing:
// `stanza` is borrowed for the one call.

#include <string>
#include <string_view>

#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

struct Inbound {
  const xmpp::Element& stanza;  // the payload as received: id, origin-id, body, extensions
  const xmpp::Jid& sender;      // the real sender, as the server stamped it
  const xmpp::Jid& target;      // the user it is for (their real JID)
  std::string from;             // the sender's bare JID, lower-case
  std::string to;               // the target's bare JID, lower-case
  // A body — or, in a diverted message, what stands for one (carries_content()).
  bool has_body = false;
  // Diverted (transparent delivery): messages_per_sender_per_minute and max_body_bytes apply
  // only where it would be held; what goes at once the server already limits (issue 10).
  bool limits_when_held = false;
  // Bodiless (chat states, receipts), `no-store` and `headline`: relayed only when a message
  // would go now, never held (DESIGN §2).
  bool never_held = false;
};

// The mark (namespace xmpp::divert::kNamespace) the transparent way puts on a diverted message
// before handing it to the Router; it rides along in the held copy.
inline constexpr std::string_view kDivertedMark = "diverted";
bool diverted(const xmpp::Element& stanza);
// A body; or, in a diverted message, any content the server extension diverts for (DESIGN
// §10): <attention/>, an encrypted payload (OMEMO legacy and :2, XEP-0373, XEP-0027), a
// correction or a retraction — held and released like a body, never dropped as a chat state.
bool carries_content(const xmpp::Element& stanza);

// The Inbound for `stanza` from `sender` to `target`.
Inbound inbound_of(const xmpp::Element& stanza, const xmpp::Jid& sender, const xmpp::Jid& target);

}  // namespace concierge::core
