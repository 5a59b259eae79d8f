// SPDX-License-Identifier: MIT
// What a schedule URL's response says about when to ask again: Retry-After, and the
// calendar's own refresh hint (REFRESH-INTERVAL, X-PUBLISHED-TTL), clamped.
#include <component/app/fetch_headers.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ctime>

#include <ical/compile.hpp>

namespace concierge::app {

using namespace std::chrono_literals;

namespace {

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

}  // namespace

std::optional<std::string> response_header(CURL* easy, const char* name) {
  curl_header* h = nullptr;
  if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || h == nullptr) {
    return std::nullopt;
  }
  return trim(h->value);
}

std::optional<std::chrono::seconds> parse_retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (value.size() > 9) return std::chrono::seconds{86'400};
    return std::chrono::seconds{std::min(std::stol(value), 86'400L)};
  }
  const std::time_t at = curl_getdate(value.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  const std::time_t now = std::time(nullptr);
  return std::chrono::seconds{std::clamp<long>(static_cast<long>(at - now), 0, 86'400)};
}

// The publisher's refresh hint, clamped to [15 min, 24 h] (issue #6).
std::optional<std::chrono::seconds> refresh_hint(const std::string& body) {
  const auto hint = ical::calendar_refresh_hint(body);
  if (!hint) return std::nullopt;
  return std::clamp<std::chrono::seconds>(std::chrono::seconds(std::min<std::int64_t>(*hint, 86'400)),
                                          15min, 24h);
}

}  // namespace concierge::app
