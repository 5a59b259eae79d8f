// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concierge::xmpp {

// An XML element as a plain value: the whole of a stanza, with no library type behind it.
// A node whose `name` is empty is a text node and carries only `text`; an element node keeps
// `text` empty and holds its character data in text-node children, in document order, so
// mixed content (XHTML-IM) survives a round trip. Attribute order is kept as received.
// Namespace declarations are ordinary attributes ("xmlns", "xmlns:foo").
struct Element {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<Element> children;
  std::string text;  // only for text nodes

  static Element text_node(std::string content);
  explicit Element(std::string element_name = {}) : name(std::move(element_name)) {}

  bool is_text() const { return name.empty(); }

  // Attributes. `attr` returns "" when absent; `find_attr` tells absent from empty.
  const std::string* find_attr(std::string_view key) const;
  std::string_view attr(std::string_view key) const;
  void set_attr(std::string_view key, std::string_view value);  // replaces or appends
  void remove_attr(std::string_view key);

  // Children. `child` finds the first element child with this name and, when `xmlns` is given,
  // that namespace (declared on the child itself). Returns nullptr when absent.
  const Element* child(std::string_view child_name, std::string_view xmlns = {}) const;
  Element* child(std::string_view child_name, std::string_view xmlns = {});
  Element& add_child(Element child);
  // Removes every element child with this name (and namespace, when given); returns how many.
  std::size_t remove_children(std::string_view child_name, std::string_view xmlns = {});

  // The concatenated character data of this element's direct text children.
  std::string inner_text() const;
  // The text of the first child element `child_name`, or nullopt when that child is absent.
  std::optional<std::string> child_text(std::string_view child_name,
                                        std::string_view xmlns = {}) const;

  // Serialises to XML with &, <, >, " and ' escaped (in text only & < > need it; quotes stay
  // as they are there). No XML declaration. What XML 1.0 cannot carry is never written, since
  // it would make the server close the stream: C0 controls other than tab, LF and CR are
  // dropped, invalid UTF-8 bytes become U+FFFD. CR (and tab and LF inside attribute values)
  // are written as character references, so a parser gives them back unchanged.
  // Element and attribute names are written as they are.
  std::string to_xml() const;
  void append_xml(std::string& out) const;

  friend bool operator==(const Element&, const Element&) = default;
};

// Builds an element from a small helper chain: Element e = make("message", {{"to", "a@b"}}).
Element make(std::string name, std::vector<std::pair<std::string, std::string>> attributes = {},
             std::vector<Element> children = {});
// An element with one text child.
Element make_text(std::string name, std::string content,
                  std::vector<std::pair<std::string, std::string>> attributes = {});

// Parses one XML element (a stanza as text, with no XML declaration needed). Returns nullopt
// and sets `error` (when non-null) on malformed input. Uses expat. Received stanzas do not come
// through here (the connection converts libstrophe's tree directly); held messages do, once
// each, when they are released.
std::optional<Element> parse_xml(std::string_view text, std::string* error = nullptr);

}  // namespace concierge::xmpp
