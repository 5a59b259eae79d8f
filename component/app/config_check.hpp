// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <component/app/logger.hpp>
#include <config/config.hpp>

namespace concierge::app {

// The checks config/ cannot make alone (DESIGN §12): each [users] entry's `timezone` and
// `hours` through ical/, and that a `calendar` is an existing file or an http(s) URL. Errors
// name the file, line and key like config/'s own.
std::vector<config::Error> check_with_calendars(const config::Config& config);

// The config at `path`, parsed and checked (config/'s checks, then check_with_calendars): what
// both startup and a reload use, so a reload never accepts what --check-config refuses.
std::variant<config::Config, std::vector<config::Error>> load_config(const std::string& path);

// The secret the shipped example config carries: --check-config warns about it, and Concierge
// does not start with it (anyone who reads the example could pose as the component).
inline constexpr const char* kPlaceholderSecret = "change-me";
bool has_placeholder_secret(const config::Config& config);

// What is valid but likely a mistake, with file, line and key like errors: the placeholder
// secret, and pool members without a [users] entry (DESIGN §3: a pool reaches a member only
// once enrolled, and self-enrolment may come later or never).
std::vector<config::Error> config_warnings(const config::Config& config);

// The logger's level for the config's [log] level.
LogLevel log_level(config::LogLevel level);

}  // namespace concierge::app
