// SPDX-License-Identifier: MIT
#pragma once
// Refusal: every reason the core turns a stanza away, and its one mapping to a stanza error;
// owns no state.

#include <string>

#include <xmpp/element.hpp>

namespace concierge::core {

// Every reason the core turns a stanza away. Mapped to an RFC 6120 stanza error in one table
// (refusal.cpp), so the same reason always reads the same to a user.
enum class Refusal {
  sender_not_served,     // sender's domain is not in served.domains
  target_not_enrolled,   // DESIGN §2 first row
  target_blocks_sender,  // DESIGN §2 first row
  not_a_proxy,           // the localpart is not an escaped bare JID
  proxy_loop,            // a proxy addressed through a proxy
  to_self,               // a user writing to their own proxy address
  groupchat,             // Concierge is no MUC
  body_too_large,        // limits.max_body_bytes
  stanza_too_large,      // the whole stanza is over the bound
  rate_limited,          // limits.messages_per_sender_per_minute
  feature_not_implemented,  // an iq Concierge does not serve
  bad_request,           // an iq without the payload its type needs
  admins_only,           // an admin command from someone not in [admin] jids
  store_unavailable,     // a message to hold while the store cannot commit (DESIGN §6)
};

struct StanzaError {
  const char* type;       // cancel | modify | wait | auth
  const char* condition;  // RFC 6120 §8.3.3 element name
};

StanzaError stanza_error_for(Refusal refusal);

// The error reply to `original`: to/from swapped (`from` is set to `from_override` when given,
// e.g. the proxy JID the sender wrote to), same id and stanza name, type="error", with an
// <error/> holding the condition and a human text. The original payload is not echoed.
xmpp::Element make_error_reply(const xmpp::Element& original, Refusal refusal,
                               const std::string& text);

}  // namespace concierge::core
