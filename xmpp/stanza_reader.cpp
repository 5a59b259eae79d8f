// SPDX-License-Identifier: MIT
// libstrophe stanza → Element (see stanza_reader.hpp).
#include <xmpp/stanza_reader.hpp>

#include <xmpp/component_connection.hpp>

namespace concierge::xmpp {
namespace {

// The namespaces a stanza's top level carries on the wire; neither means anything to handlers.
bool is_stream_namespace(std::string_view ns) {
  return ns == "jabber:component:accept" || ns == "jabber:client";
}

}  // namespace

std::string_view StanzaReader::convert_attributes(xmpp_stanza_t* stanza, std::string_view parent_ns,
                                                  int depth, Element& e) {
  const int count = xmpp_stanza_get_attribute_count(stanza);
  // Views into libstrophe's stanza, which outlives the conversion: no copy per element.
  std::string_view ns = parent_ns;
  if (count <= 0) return ns;
  // One scratch buffer for every element: its attributes are read before the recursion.
  std::vector<const char*>& attrs = attribute_scratch_;
  attrs.assign(static_cast<std::size_t>(count) * 2, nullptr);
  const int filled = xmpp_stanza_get_attributes(stanza, attrs.data(), count * 2);
  e.attributes.reserve(static_cast<std::size_t>(filled) / 2);
  for (int i = 0; i + 1 < filled; i += 2) {
    const std::string_view key = attrs[static_cast<std::size_t>(i)];
    const std::string_view value = attrs[static_cast<std::size_t>(i) + 1];
    if (key == "xmlns") {
      // libstrophe's namespace-aware parser sets xmlns on every element, inherited or not;
      // keep only real declarations.
      const bool top_level_stream_ns = depth == 0 && is_stream_namespace(value);
      ns = value;
      if (value == parent_ns || top_level_stream_ns) continue;
    }
    // The parser also strips attribute prefixes; the one that matters in XMPP is xml:lang.
    e.attributes.emplace_back(key == "lang" ? std::string_view("xml:lang") : key, value);
  }
  return ns;
}

std::optional<Element> StanzaReader::convert(xmpp_stanza_t* stanza, std::string_view parent_ns,
                                             int depth) {
  if (depth > kMaxStanzaDepth) return std::nullopt;
  if (xmpp_stanza_is_text(stanza)) {
    const char* text = xmpp_stanza_get_text_ptr(stanza);
    return Element::text_node(text ? text : "");
  }
  const char* name = xmpp_stanza_get_name(stanza);
  Element e(name ? name : "");
  const std::string_view ns = convert_attributes(stanza, parent_ns, depth, e);
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(stanza); c; c = xmpp_stanza_get_next(c)) {
    auto child = convert(c, ns, depth + 1);
    if (!child) return std::nullopt;
    e.children.push_back(std::move(*child));
  }
  return e;
}

}  // namespace concierge::xmpp
