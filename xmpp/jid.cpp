// SPDX-License-Identifier: MIT
#include <xmpp/jid.hpp>
#include <xmpp/utf8.hpp>

#include <array>
#include <cstdint>

namespace concierge::xmpp {
namespace {

constexpr std::size_t kMaxPartBytes = 1023;  // RFC 7622 §3.1

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Length, UTF-8 and control characters: the checks every part shares.
bool valid_part(std::string_view part) {
  if (part.empty() || part.size() > kMaxPartBytes) return false;
  for (std::size_t i = 0; i < part.size();) {
    char32_t cp = 0;
    const std::size_t len = utf8::decode(part, i, cp);
    if (len == 0 || is_control(cp)) return false;
    i += len;
  }
  return true;
}

bool valid_local(std::string_view local) {
  if (!valid_part(local)) return false;
  // The characters XEP-0106 escapes are exactly those a localpart may not hold (space
  // included: PRECIS IdentifierClass has no spaces).
  for (char c : local) {
    switch (c) {
      case ' ':
      case '"':
      case '&':
      case '\'':
      case '/':
      case ':':
      case '<':
      case '>':
      case '@':
        return false;
      default:
        break;
    }
  }
  return true;
}

bool valid_ipv6_literal(std::string_view d) {
  if (d.size() < 4 || d.front() != '[' || d.back() != ']') return false;
  bool colon = false;
  for (char c : d.substr(1, d.size() - 2)) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (c == ':') colon = true;
    if (!hex && c != ':' && c != '.') return false;
  }
  return colon;
}

// Lower-cases ASCII, strips one trailing dot and checks labels; nullopt when invalid.
std::optional<std::string> normalize_domain(std::string_view raw) {
  std::string d(raw);
  for (char& c : d) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (!d.empty() && d.front() == '[') {
    if (!valid_ipv6_literal(d)) return std::nullopt;
    return d;
  }
  if (!d.empty() && d.back() == '.') d.pop_back();  // RFC 7622 §3.2: the root dot is dropped
  if (!valid_part(d)) return std::nullopt;
  std::size_t label = 0;
  for (char c : d) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) return std::nullopt;
      label = 0;
      continue;
    }
    ++label;
    const bool ascii_ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (u < 0x80 && !ascii_ok) return std::nullopt;
  }
  if (label == 0) return std::nullopt;
  return d;
}

struct EscapeEntry {
  char raw;
  std::string_view seq;  // without the backslash
};
constexpr std::array<EscapeEntry, 10> kEscapes{{{' ', "20"},
                                                {'"', "22"},
                                                {'&', "26"},
                                                {'\'', "27"},
                                                {'/', "2f"},
                                                {':', "3a"},
                                                {'<', "3c"},
                                                {'>', "3e"},
                                                {'@', "40"},
                                                {'\\', "5c"}}};

// The entry whose "\XX" starts at s[i] (s[i] being a backslash), or nullptr.
const EscapeEntry* sequence_at(std::string_view s, std::size_t i) {
  if (s[i] != '\\' || i + 3 > s.size()) return nullptr;
  const std::string_view hex = s.substr(i + 1, 2);
  for (const EscapeEntry& e : kEscapes) {
    if (e.seq == hex) return &e;
  }
  return nullptr;
}

}  // namespace

std::optional<Jid> Jid::parse(std::string_view text) {
  std::string_view rest = text;
  std::string_view resource;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    resource = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (resource.empty()) return std::nullopt;
  }
  std::string_view local;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    local = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (local.empty()) return std::nullopt;
  }
  return from_parts(local, rest, resource);
}

std::optional<Jid> Jid::from_parts(std::string_view local, std::string_view domain,
                                   std::string_view resource) {
  if (!local.empty() && !valid_local(local)) return std::nullopt;
  if (!resource.empty() && !valid_part(resource)) return std::nullopt;
  auto normalized = normalize_domain(domain);
  if (!normalized) return std::nullopt;
  Jid jid;
  jid.local_ = std::string(local);
  jid.domain_ = std::move(*normalized);
  jid.resource_ = std::string(resource);
  return jid;
}

Jid Jid::bare() const {
  Jid jid = *this;
  jid.resource_.clear();
  return jid;
}

std::string Jid::bare_string() const {
  if (local_.empty()) return domain_;
  return local_ + '@' + domain_;
}

std::string Jid::full_string() const {
  std::string s = bare_string();
  if (!resource_.empty()) {
    s += '/';
    s += resource_;
  }
  return s;
}

std::optional<std::string> escape_local(std::string_view raw) {
  if (!raw.empty() && (raw.front() == ' ' || raw.back() == ' ')) return std::nullopt;
  std::string out;
  out.reserve(raw.size() + 8);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\') {
      // XEP-0106 §4: only a backslash that would be read as the start of an escape sequence
      // is escaped itself; any other backslash stays as it is.
      out += sequence_at(raw, i) ? "\\5c" : "\\";
      continue;
    }
    bool escaped = false;
    for (const EscapeEntry& e : kEscapes) {
      if (e.raw == c) {  // never a backslash: handled above
        out += '\\';
        out += e.seq;
        escaped = true;
        break;
      }
    }
    if (!escaped) out += c;
  }
  return out;
}

std::string unescape_local(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (const EscapeEntry* e = sequence_at(escaped, i)) {
      out += e->raw;
      i += 2;
    } else {
      out += escaped[i];
    }
  }
  return out;
}

std::optional<Jid> proxy_jid(const Jid& user, std::string_view component_domain) {
  // A domain-only user could not be told apart from garbage on the way back.
  if (user.empty() || user.has_resource() || !user.has_local()) return std::nullopt;
  auto local = escape_local(user.bare_string());
  if (!local) return std::nullopt;
  return Jid::from_parts(*local, component_domain);
}

std::optional<Jid> user_from_proxy(const Jid& proxy, std::string_view component_domain) {
  if (!proxy.has_local()) return std::nullopt;
  const std::string domain = normalize_domain(component_domain).value_or(std::string());
  if (domain.empty() || proxy.domain() != domain) return std::nullopt;
  const std::string raw = unescape_local(proxy.local());
  // The unescaped localpart must be a bare JID with a localpart: a '/' would smuggle a resource.
  if (raw.find('/') != std::string::npos) return std::nullopt;
  auto user = Jid::parse(raw);
  if (!user || !user->has_local()) return std::nullopt;
  return Jid::from_parts(user->local(), user->domain(), proxy.resource());
}

}  // namespace concierge::xmpp
