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

// The logger's level for the config's [log] level.
LogLevel log_level(config::LogLevel level);

}  // namespace concierge::app
