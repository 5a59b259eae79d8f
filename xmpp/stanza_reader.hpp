// SPDX-License-Identifier: MIT
#pragma once
// Internal to xmpp/: a received libstrophe stanza as an Element. StanzaReader owns one scratch
// buffer for attributes, reused on every stanza (the relay path allocates nothing for it once
// warm); it borrows the stanza and never keeps, changes or frees it.
#include <optional>
#include <string_view>
#include <vector>

#include <strophe.h>

#include <xmpp/element.hpp>

namespace concierge::xmpp {

class StanzaReader {
 public:
  // The stanza and its children; nullopt when nested deeper than kMaxStanzaDepth. libstrophe
  // sets xmlns on every element: only real declarations are kept, and the stream namespaces at
  // the top level are dropped.
  std::optional<Element> convert(xmpp_stanza_t* stanza, std::string_view parent_ns, int depth);
  // Copies the attributes into `e`; returns the namespace in force for its children.
  std::string_view convert_attributes(xmpp_stanza_t* stanza, std::string_view parent_ns, int depth,
                                      Element& e);

 private:
  std::vector<const char*> attribute_scratch_;
};

}  // namespace concierge::xmpp
