// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace concierge::xmpp {

// A JID (RFC 7622) as validated parts. Validation is structural, not full PRECIS: each part is
// 1..1023 bytes of valid UTF-8 without control characters; the localpart has none of
// " & ' / : < > @; the domain is lower-cased ASCII-wise, has no empty labels and is at most
// 1023 bytes; a resourcepart may hold any printable character including '@' and '/'.
class Jid {
 public:
  Jid() = default;
  // Parses "local@domain/resource"; nullopt when any part is invalid.
  static std::optional<Jid> parse(std::string_view text);
  // Builds from parts (each validated); nullopt when any is invalid. Empty local/resource = absent.
  static std::optional<Jid> from_parts(std::string_view local, std::string_view domain,
                                       std::string_view resource = {});

  const std::string& local() const { return local_; }
  const std::string& domain() const { return domain_; }
  const std::string& resource() const { return resource_; }
  bool has_local() const { return !local_.empty(); }
  bool has_resource() const { return !resource_.empty(); }
  bool empty() const { return domain_.empty(); }

  Jid bare() const;
  std::string bare_string() const;  // "local@domain" or "domain"
  std::string full_string() const;  // with "/resource" when present

  friend bool operator==(const Jid&, const Jid&) = default;
  friend auto operator<=>(const Jid&, const Jid&) = default;

 private:
  std::string local_;
  std::string domain_;
  std::string resource_;
};

// XEP-0106 JID escaping of a would-be localpart: space " & ' / : < > @ become \20 \22 \26 \27
// \2f \3a \3c \3e \40, and a backslash that starts one of those ten sequences becomes \5c.
// Leading or trailing spaces cannot be escaped (XEP-0106 §4): nullopt then.
std::optional<std::string> escape_local(std::string_view raw);
// Reverses escape_local: every \XX among the ten sequences turns back into its character.
std::string unescape_local(std::string_view escaped);

// Proxy addressing (DESIGN §1): bob@example.org seen through the component
// concierge.example.org is bob\40example.org@concierge.example.org.
// proxy_jid: nullopt when `user` has a resource or a localpart escaping cannot carry.
std::optional<Jid> proxy_jid(const Jid& user, std::string_view component_domain);
// The user behind a proxy JID: nullopt when `proxy` is not on `component_domain`, has no
// localpart, or its unescaped localpart is not a valid bare JID with a localpart.
// A resource on the proxy JID is carried over to the returned JID.
std::optional<Jid> user_from_proxy(const Jid& proxy, std::string_view component_domain);

}  // namespace concierge::xmpp
