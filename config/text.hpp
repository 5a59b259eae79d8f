// SPDX-License-Identifier: MIT
// Small text helpers shared by the parser and the printer; internal to config/.
#pragma once

#include <string>
#include <string_view>

namespace concierge::config::text {

// A TOML basic string with its quotes: "a \"b\"\n" (control characters escaped).
std::string quote(std::string_view value);

// `parent.key` as TOML writes it: the key is quoted unless it is a bare key (A-Z a-z 0-9 _ -),
// e.g. key_path("users", "bob@example.org") == R"(users."bob@example.org")".
std::string key_path(std::string_view parent, std::string_view key);

// ASCII case-insensitive equality (JIDs and domains compare this way here).
bool iequals(std::string_view a, std::string_view b);
// ASCII lower case: the key under which iequals() values compare equal.
std::string lower(std::string_view text);

}  // namespace concierge::config::text
