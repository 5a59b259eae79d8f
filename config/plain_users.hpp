// SPDX-License-Identifier: MIT
#pragma once
// Internal to config/: the fast way through a config with many [users] (issue 12: toml++ takes
// seconds and a gigabyte for 10⁶ of them). A user table written the plain way —
//
//   [users."bob@example.org"]
//   timezone = "Europe/Berlin"   # basic or literal strings, one line each
//   always_through = ["alice@example.org"]
//
// — is read here straight into a User; the rest of the file goes to toml++ with those lines left
// blank, so every line number stays. This is a fast path only: anything outside that plain
// form, and anything that would be an error, makes it give up (nullopt), and parse.cpp then
// reads the whole file with toml++ as before — so errors and results never depend on it.
// Owns nothing; knows no toml++.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <config/config.hpp>

namespace concierge::config::detail {

struct PlainUsers {
  std::string rest;         // the text with every plain user table's lines blank
  std::vector<User> users;  // in file order, each checked on its own (not against the others)
};

// Splits `text`; nullopt when a user table is not plain or not valid by itself, or when a line
// outside them could hide a table header (a multi-line string).
std::optional<PlainUsers> split_plain_users(std::string_view text, std::string_view file);

// Whether users read by split_plain_users are valid within `config`: domains served, no JID
// twice (case-insensitively), calendar locations allowed.
bool plain_users_fit(const Config& config, const std::vector<User>& users);

// The config with its plain user tables read here and the rest by parse_without_users;
// nullopt when the file must be read whole (parse_whole), to report its problems, too.
std::optional<Config> parse_plain(std::string_view text, std::string_view file);

// parse.cpp's, through toml++. The whole file, never the fast path — what parse() must equal:
ParseResult parse_whole(std::string_view text, std::string_view file);
// A file without users (`rest` above): nullopt when toml++ rejects it, it has a users table
// after all (written another way), or any problem is found.
std::optional<Config> parse_without_users(std::string_view text, std::string_view file);

}  // namespace concierge::config::detail
