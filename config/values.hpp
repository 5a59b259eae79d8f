// SPDX-License-Identifier: MIT
#pragma once
// Internal to config/: checks of single values that need no TOML — domains, JIDs, pool names,
// calendar locations, listen addresses — the reading of a secret file, and the error for a file
// as a whole. Pure functions of
// their arguments (read_secret_file reads the file it is given); where a value stands in the
// file and how problems are reported is parse.cpp's.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <config/config.hpp>

namespace concierge::config::detail {

// Structural checks only: xmpp/ does the real JID preparation later.
bool has_space_or_control(std::string_view text);
bool is_domain(std::string_view text);
bool is_bare_jid(std::string_view text);
// A pool name becomes a localpart; a backslash would let it collide with XEP-0106 escapes.
bool is_localpart(std::string_view text);
// The part after '@' of a JID is_bare_jid accepted.
std::string_view domain_of(std::string_view bare_jid);

// Whether `bare_jid`'s domain is one of `domains` (served.domains), ASCII case-insensitively;
// always while none are known (the missing key is reported on its own).
bool domain_served(const std::vector<std::string>& domains, std::string_view bare_jid);

// Why `calendar` is not a usable calendar location, or nullopt when it is: a file path or an
// https URL (plain http only with allow_private_urls). The value is never quoted back: a URL may
// carry an access token.
std::optional<std::string> calendar_problem(std::string_view calendar, bool allow_private_urls);

// "IPv4:port" or "[IPv6]:port" with a literal address (nothing is resolved) and a port 1-65535.
bool is_listen_address(const std::string& listen);

// A problem with the file as a whole (line 0).
std::vector<Error> file_error(std::string_view file, std::string message);

// The file's content without trailing newlines, or nullopt with the system's reason in `why`.
std::optional<std::string> read_secret_file(const std::string& path, std::string& why);

}  // namespace concierge::config::detail
