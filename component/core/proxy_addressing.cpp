// SPDX-License-Identifier: MIT
#include <component/core/proxy_addressing.hpp>

#include <string_view>

#include <component/core/service_info.hpp>

namespace concierge::core {

std::optional<xmpp::Element> ProxyAddressing::relayed(const xmpp::Element& stanza,
                                                      const xmpp::Jid& sender,
                                                      const std::string& to) const {
  auto from_proxy = xmpp::proxy_jid(sender.bare(), domain_);
  if (!from_proxy) return std::nullopt;
  xmpp::Element copy = stanza;
  copy.set_attr("from", from_proxy->bare_string());
  copy.set_attr("to", to);
  return copy;
}

xmpp::Element ProxyAddressing::notice(const std::string& target, const std::string& to,
                                      const std::string& text) const {
  auto jid = xmpp::Jid::parse(target);
  const bool pool = jid && jid->domain() == domain_;  // a pool's own address
  auto proxy = jid && !pool ? xmpp::proxy_jid(*jid, domain_) : std::nullopt;
  // The "Concierge:" prefix says it is not the target speaking, and the XEP-0334 no-store
  // hint keeps it out of archives and offline storage.
  constexpr std::string_view kPrefix = "Concierge: ";
  return chat_message(pool ? target : proxy ? proxy->bare_string() : domain_, to,
                      text.starts_with(kPrefix) ? text : std::string(kPrefix) + text, true);
}

}  // namespace concierge::core
