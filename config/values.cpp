// SPDX-License-Identifier: MIT
// Checks of single config values and the reading of secret files (see values.hpp).
#include <config/values.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include <config/text.hpp>

namespace concierge::config::detail {

// Structural checks only: xmpp/ does the real JID preparation later.
bool has_space_or_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

bool is_domain(std::string_view text) {
  return !text.empty() && text.find_first_of("@/") == std::string_view::npos &&
         !has_space_or_control(text);
}

bool is_bare_jid(std::string_view text) {
  const std::size_t at = text.find('@');
  return at != std::string_view::npos && at > 0 && is_domain(text.substr(at + 1)) &&
         text.find('/') == std::string_view::npos && !has_space_or_control(text);
}

bool domain_served(const std::vector<std::string>& domains, std::string_view bare_jid) {
  const std::string_view domain = domain_of(bare_jid);
  return domains.empty() || std::any_of(domains.begin(), domains.end(), [&](const std::string& d) {
           return text::iequals(d, domain);
         });
}

// A pool name becomes a localpart; a backslash would let it collide with XEP-0106 escapes.
bool is_localpart(std::string_view text) {
  return !text.empty() && text.find_first_of("@/\\\"&':<>") == std::string_view::npos &&
         !has_space_or_control(text);
}

std::string_view domain_of(std::string_view bare_jid) {
  return bare_jid.substr(bare_jid.find('@') + 1);
}

// A calendar is a file path or an https URL (plain http only with allow_private_urls). The
// value is never quoted back: a URL may carry an access token.
std::optional<std::string> calendar_problem(std::string_view calendar, bool allow_private_urls) {
  const std::size_t scheme_end = calendar.find("://");
  if (calendar.empty() || scheme_end == std::string_view::npos) return std::nullopt;
  const std::string_view scheme = calendar.substr(0, scheme_end);
  const std::string_view rest = calendar.substr(scheme_end + 3);
  if (rest.empty() || rest.front() == '/') return "the URL has no host";
  if (has_space_or_control(calendar)) return "the URL contains spaces or control characters";
  if (text::iequals(scheme, "https")) return std::nullopt;
  if (text::iequals(scheme, "http")) {
    if (allow_private_urls) return std::nullopt;
    return "plain http needs schedule.allow_private_urls = true; use https";
  }
  return "must be a file path or an https URL";
}

std::optional<std::string> read_secret_file(const std::string& path, std::string& why) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::string content;
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    content.append(buffer, count);
  }
  if (std::ferror(file.get())) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  return content;
}

// "IPv4:port" or "[IPv6]:port" with a literal address (nothing is resolved) and a port 1-65535.
bool is_listen_address(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size() || listen.size() - colon > 6) {
    return false;
  }
  const std::string port = listen.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int number = std::stoi(port);
  if (number < 1 || number > 65535) return false;
  std::string host = listen.substr(0, colon);
  unsigned char buffer[sizeof(in6_addr)];
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buffer) == 1;
  }
  return inet_pton(AF_INET, host.c_str(), buffer) == 1;
}

std::vector<Error> file_error(std::string_view file, std::string message) {
  return {Error{Origin{std::string(file), 0}, "", std::move(message)}};
}

}  // namespace concierge::config::detail
