// SPDX-License-Identifier: MIT
#pragma once
// What a reload may change (DESIGN §12): the sections that need a restart are kept as they are
// and named. Pure: owns nothing, touches nothing but its arguments.

#include <string>
#include <vector>

#include <config/config.hpp>

namespace concierge::app {

// Puts `current`'s restart-only sections ([component], [served], [store], [session],
// [notice], [release], [presence], [metrics]) into `next`; returns those that differed, e.g.
// "[component]", in that order.
std::vector<std::string> keep_restart_only(config::Config& next, const config::Config& current);

}  // namespace concierge::app
