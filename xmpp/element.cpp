// SPDX-License-Identifier: MIT
#include <xmpp/element.hpp>
#include <xmpp/utf8.hpp>

#include <expat.h>

#include <algorithm>
#include <limits>

namespace concierge::xmpp {
namespace {

bool matches(const Element& e, std::string_view name, std::string_view xmlns) {
  if (e.is_text() || e.name != name) return false;
  return xmlns.empty() || e.attr("xmlns") == xmlns;
}

// Length of the valid UTF-8 sequence at s[i] that XML 1.0 allows (no surrogates, no
// U+FFFE/U+FFFF), or 0.
std::size_t xml_utf8_length(std::string_view s, std::size_t i) {
  char32_t cp = 0;
  const std::size_t len = utf8::decode(s, i, cp);
  return len == 0 || cp == 0xFFFE || cp == 0xFFFF ? 0 : len;
}

// Escapes markup characters. What XML 1.0 cannot carry at all (control characters other than
// tab, LF and CR; invalid UTF-8) would make the server close the whole stream, so it is
// dropped or replaced by U+FFFD instead. Whitespace that parsers would normalise (CR
// anywhere; tab and LF in attribute values) is written as a character reference.
void append_escaped(std::string& out, std::string_view s, bool attribute) {
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      const std::size_t len = xml_utf8_length(s, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\'':
        out += attribute ? "&apos;" : "'";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        if (u >= 0x20) out += c;  // other C0 controls cannot appear in XML 1.0
        break;
    }
  }
}

}  // namespace

Element Element::text_node(std::string content) {
  Element e;
  e.text = std::move(content);
  return e;
}

const std::string* Element::find_attr(std::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string_view Element::attr(std::string_view key) const {
  const std::string* value = find_attr(key);
  return value ? std::string_view(*value) : std::string_view();
}

void Element::set_attr(std::string_view key, std::string_view value) {
  for (auto& [k, v] : attributes) {
    if (k == key) {
      v = value;
      return;
    }
  }
  attributes.emplace_back(std::string(key), std::string(value));
}

void Element::remove_attr(std::string_view key) {
  std::erase_if(attributes, [key](const auto& kv) { return kv.first == key; });
}

const Element* Element::child(std::string_view child_name, std::string_view xmlns) const {
  for (const Element& c : children) {
    if (matches(c, child_name, xmlns)) return &c;
  }
  return nullptr;
}

Element* Element::child(std::string_view child_name, std::string_view xmlns) {
  for (Element& c : children) {
    if (matches(c, child_name, xmlns)) return &c;
  }
  return nullptr;
}

Element& Element::add_child(Element child) {
  children.push_back(std::move(child));
  return children.back();
}

std::size_t Element::remove_children(std::string_view child_name, std::string_view xmlns) {
  return std::erase_if(children, [&](const Element& c) { return matches(c, child_name, xmlns); });
}

std::string Element::inner_text() const {
  std::string out;
  for (const Element& c : children) {
    if (c.is_text()) out += c.text;
  }
  return out;
}

std::optional<std::string> Element::child_text(std::string_view child_name,
                                               std::string_view xmlns) const {
  const Element* c = child(child_name, xmlns);
  if (!c) return std::nullopt;
  return c->inner_text();
}

std::string Element::to_xml() const {
  std::string out;
  append_xml(out);
  return out;
}

void Element::append_xml(std::string& out) const {
  if (is_text()) {
    append_escaped(out, text, false);
    return;
  }
  out += '<';
  out += name;
  for (const auto& [k, v] : attributes) {
    out += ' ';
    out += k;
    out += "=\"";
    append_escaped(out, v, true);
    out += '"';
  }
  if (children.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  for (const Element& c : children) c.append_xml(out);
  out += "</";
  out += name;
  out += '>';
}

Element make(std::string name, std::vector<std::pair<std::string, std::string>> attributes,
             std::vector<Element> children) {
  Element e(std::move(name));
  e.attributes = std::move(attributes);
  e.children = std::move(children);
  return e;
}

Element make_text(std::string name, std::string content,
                  std::vector<std::pair<std::string, std::string>> attributes) {
  Element e(std::move(name));
  e.attributes = std::move(attributes);
  if (!content.empty()) e.children.push_back(Element::text_node(std::move(content)));
  return e;
}

namespace {

// Builds the tree while expat parses without namespace processing, so "xmlns" and
// "xmlns:x" arrive as ordinary attributes and prefixed names stay as written.
struct TreeBuilder {
  std::optional<Element> root;
  std::vector<Element*> stack;
  bool done = false;
  std::string error;

  static void on_start(void* user, const XML_Char* name, const XML_Char** attrs) noexcept {
    auto* self = static_cast<TreeBuilder*>(user);
    try {
      Element e(name);
      for (int i = 0; attrs[i] != nullptr; i += 2)
        e.attributes.emplace_back(attrs[i], attrs[i + 1]);
      if (self->stack.empty()) {
        if (self->root) {
          self->error = "more than one root element";
          return;
        }
        self->root = std::move(e);
        self->stack.push_back(&*self->root);
      } else {
        self->stack.push_back(&self->stack.back()->add_child(std::move(e)));
      }
    } catch (...) {
      self->error = "out of memory";
    }
  }

  static void on_end(void* user, const XML_Char* /*name*/) noexcept {
    auto* self = static_cast<TreeBuilder*>(user);
    if (!self->stack.empty()) self->stack.pop_back();
  }

  static void on_text(void* user, const XML_Char* s, int len) noexcept {
    auto* self = static_cast<TreeBuilder*>(user);
    if (self->stack.empty()) return;  // whitespace around the root
    try {
      Element& parent = *self->stack.back();
      // expat splits character data at line breaks and entities; join adjacent pieces.
      if (!parent.children.empty() && parent.children.back().is_text()) {
        parent.children.back().text.append(s, static_cast<std::size_t>(len));
      } else {
        parent.children.push_back(
            Element::text_node(std::string(s, static_cast<std::size_t>(len))));
      }
    } catch (...) {
      self->error = "out of memory";
    }
  }
};

}  // namespace

std::optional<Element> parse_xml(std::string_view text, std::string* error) {
  auto fail = [error](std::string message) -> std::optional<Element> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail("input too large");
  }
  XML_Parser parser = XML_ParserCreate("UTF-8");
  if (!parser) return fail("cannot create XML parser");
  TreeBuilder builder;
  XML_SetUserData(parser, &builder);
  XML_SetElementHandler(parser, &TreeBuilder::on_start, &TreeBuilder::on_end);
  XML_SetCharacterDataHandler(parser, &TreeBuilder::on_text);
  const XML_Status status = XML_Parse(parser, text.data(), static_cast<int>(text.size()), XML_TRUE);
  std::string message;
  if (status != XML_STATUS_OK) {
    message = std::string(XML_ErrorString(XML_GetErrorCode(parser))) + " at line " +
              std::to_string(XML_GetCurrentLineNumber(parser)) + ", column " +
              std::to_string(XML_GetCurrentColumnNumber(parser));
  }
  XML_ParserFree(parser);
  if (!message.empty()) return fail(std::move(message));
  if (!builder.error.empty()) return fail(std::move(builder.error));
  if (!builder.root) return fail("no element");
  return std::move(builder.root);
}

}  // namespace concierge::xmpp
