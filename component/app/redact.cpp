// SPDX-License-Identifier: MIT
#include <component/app/redact.hpp>

namespace concierge::app {
namespace {

void redact(xmpp::Element& e) {
  if (e.is_text()) {
    e.text = "[" + std::to_string(e.text.size()) + " bytes]";
    return;
  }
  for (auto& c : e.children) redact(c);
}

}  // namespace

std::string redacted_xml(const xmpp::Element& stanza) {
  xmpp::Element copy = stanza;
  redact(copy);
  return copy.to_xml();
}

}  // namespace concierge::app
