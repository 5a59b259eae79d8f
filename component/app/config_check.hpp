// SPDX-License-Identifier: MIT
#pragma once

#include <vector>

#include <config/config.hpp>

namespace concierge::app {

// The checks config/ cannot make alone (DESIGN §12): each [users] entry's `timezone` and
// `hours` through ical/, and that a `calendar` is an existing file or an http(s) URL. Errors
// name the file, line and key like config/'s own.
std::vector<config::Error> check_with_calendars(const config::Config& config);

}  // namespace concierge::app
