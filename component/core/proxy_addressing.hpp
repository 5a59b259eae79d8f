// SPDX-License-Identifier: MIT
#pragma once
// ProxyAddressing: how the proxy way in (DESIGN §1 "proxy JID") addresses what the core sends.
// A message from A relayed or held for B comes from proxy(A); a notice to A about B comes from
// proxy(B) — a pool's own address for a pool, the component for anything else — into the
// conversation A is looking at, prefixed "Concierge:" with a no-store hint (DESIGN §2). Owns
// only the component domain; must not touch any state of users, holds or sessions. A second
// way in (transparent delivery) is a second addressing beside this one, not edits to it.

#include <optional>
#include <string>

#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

class ProxyAddressing {
 public:
  explicit ProxyAddressing(std::string component_domain) : domain_(std::move(component_domain)) {}

  // `stanza` as it goes from `sender` (through their proxy) to `to` (a full or bare JID);
  // nullopt when the sender has no proxy address (not escapable).
  std::optional<xmpp::Element> relayed(const xmpp::Element& stanza, const xmpp::Jid& sender,
                                       const std::string& to) const;
  // A notice to `to` about `target` (a user's or a pool's bare JID), reading `text`.
  xmpp::Element notice(const std::string& target, const std::string& to,
                       const std::string& text) const;

 private:
  std::string domain_;
};

}  // namespace concierge::core
