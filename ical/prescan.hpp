// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: a cheap pass over the raw text before libical sees it — size, nesting,
// component count, completeness — so that hostile input is refused with a clear reason.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ical/compile.hpp>
#include <ical/event.hpp>

namespace concierge::ical {

struct Prescan {
  std::size_t components = 0;
  std::string x_wr_timezone;
  // What libical gets to read: only the properties the compiler uses (no VALARM, DESCRIPTION,
  // ATTENDEE, …), without a UTF-8 byte-order mark, and with entries found outside any VCALENDAR
  // (libical's own test data concatenates calendars and bare VEVENTs) gathered into one extra
  // VCALENDAR.
  std::string rewritten;
  bool had_bare_components = false;
  // Broken components that were skipped (or repaired), in words for the owner: "skipped a broken
  // VTODO (UID todo-7, line 12): it ends with END:VTOOD (line 15)". At most 20, then counted.
  std::vector<std::string> warnings;
  std::size_t more_warnings = 0;
  // Plain VEVENTs read by the fast text reader (event.hpp) and therefore left out of `rewritten`.
  std::vector<EventData> events;
};

// The reason the text is unusable (too large, binary, not iCalendar, too deep or too many entries,
// truncated), or the facts found. A malformed entry (a misspelt or missing END) is skipped with
// a warning instead, so one broken VTODO does not cost the calendar's events. Single
// (non-recurring, not overriding) VEVENTs that lie clearly outside [window_from, window_to) are
// left out of `rewritten`: real calendars carry years of history, and libical's parser costs
// microseconds per property.
Result<Prescan> prescan(std::string_view text, const CompileLimits& limits,
                        UtcSeconds window_from = INT64_MIN, UtcSeconds window_to = INT64_MAX);

}  // namespace concierge::ical
