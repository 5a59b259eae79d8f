// SPDX-License-Identifier: MIT
#include <component/core/refusal.hpp>

namespace concierge::core {

StanzaError stanza_error_for(Refusal refusal) {
  switch (refusal) {
    case Refusal::sender_not_served: return {"cancel", "not-allowed"};
    case Refusal::target_not_enrolled: return {"cancel", "item-not-found"};
    case Refusal::target_blocks_sender: return {"cancel", "not-acceptable"};
    case Refusal::not_a_proxy: return {"modify", "jid-malformed"};
    case Refusal::proxy_loop: return {"cancel", "not-acceptable"};
    case Refusal::to_self: return {"cancel", "not-acceptable"};
    case Refusal::groupchat: return {"modify", "bad-request"};
    case Refusal::body_too_large: return {"modify", "policy-violation"};
    case Refusal::stanza_too_large: return {"modify", "policy-violation"};
    case Refusal::rate_limited: return {"wait", "resource-constraint"};
    case Refusal::feature_not_implemented: return {"cancel", "service-unavailable"};
    case Refusal::bad_request: return {"modify", "bad-request"};
    case Refusal::admins_only: return {"auth", "forbidden"};
    case Refusal::store_unavailable: return {"wait", "resource-constraint"};
  }
  return {"cancel", "undefined-condition"};
}

xmpp::Element make_error_reply(const xmpp::Element& original, Refusal refusal,
                               const std::string& text) {
  const StanzaError e = stanza_error_for(refusal);
  xmpp::Element reply(original.name);
  reply.set_attr("from", original.attr("to"));
  reply.set_attr("to", original.attr("from"));
  reply.set_attr("type", "error");
  if (const auto* id = original.find_attr("id")) reply.set_attr("id", *id);
  xmpp::Element error = xmpp::make("error", {{"type", e.type}});
  error.add_child(xmpp::make(e.condition, {{"xmlns", "urn:ietf:params:xml:ns:xmpp-stanzas"}}));
  if (!text.empty()) {
    error.add_child(xmpp::make_text("text", text,
                                    {{"xmlns", "urn:ietf:params:xml:ns:xmpp-stanzas"},
                                     {"xml:lang", "en"}}));
  }
  reply.add_child(std::move(error));
  return reply;
}

}  // namespace concierge::core
