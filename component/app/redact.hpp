// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include <xmpp/element.hpp>

namespace concierge::app {

// The stanza as XML with every text node replaced by "[N bytes]": what debug logging may show
// (DESIGN §7: stanzas without bodies — subjects, XHTML and attachment URLs are private too).
std::string redacted_xml(const xmpp::Element& stanza);

}  // namespace concierge::app
