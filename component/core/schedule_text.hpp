// SPDX-License-Identifier: MIT
#pragma once
// What a user is told about their own schedule: the week view of `status` and the notes of the
// "in force" answer. Pure functions of a compiled schedule; they own and touch no state.

#include <string>

#include <component/core/time.hpp>
#include <ical/schedule.hpp>

namespace concierge::core {

// The coming seven days of `schedule` in zone `zone_name` (UTC when unknown): working time,
// meetings, away. `unknown_is_working`: what schedule.unknown says of a schedule with no
// working time.
std::string week_view(const ical::Schedule& schedule, const std::string& zone_name, Instant now,
                      bool unknown_is_working);
// The lines the "in force" answer adds: the schedule's warnings (one line each, de-duplicated,
// at most 5) and what applies when it gives no working time.
std::string schedule_notes(const ical::Schedule& schedule, bool unknown_is_working);

}  // namespace concierge::core
