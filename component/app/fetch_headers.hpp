// SPDX-License-Identifier: MIT
#pragma once
// Reading a schedule URL's response for the fetcher: headers, Retry-After, the calendar's
// refresh hint. Owns nothing; libcurl's types stay in the fetcher's .cpp files.

#include <chrono>
#include <optional>
#include <string>

#include <curl/curl.h>

namespace concierge::app {

// A response header of a finished transfer, trimmed; nullopt when absent.
std::optional<std::string> response_header(CURL* easy, const char* name);
// Retry-After (seconds or an HTTP date), at most a day; nullopt when absent or unreadable.
std::optional<std::chrono::seconds> parse_retry_after(const std::string& value);
// The publisher's refresh hint in the calendar text, clamped to [15 min, 24 h] (issue #6).
std::optional<std::chrono::seconds> refresh_hint(const std::string& body);

}  // namespace concierge::app
