// SPDX-License-Identifier: MIT
#pragma once
// Calendar text (+ weekly hours) → Schedule, per DESIGN §5. Runs in bounded time and memory for
// any input *that passes the screening here*; libical itself has no iteration limit, so callers
// that take calendars from users run this in the calendar worker process (component/app).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <ical/result.hpp>
#include <ical/schedule.hpp>

namespace concierge::ical {

enum class CalendarKind : std::uint8_t {
  work,      // working = weekly hours ∪ opaque timed events
  personal,  // working = VAVAILABILITY AVAILABLE, else weekly hours; busy = opaque events ∩ working
};

struct CompileLimits {
  std::size_t max_bytes = 5'000'000;      // larger calendars are refused (`schedule.max_bytes`)
  std::size_t max_components = 50'000;    // VEVENT + VAVAILABILITY + … in one calendar
  std::size_t max_depth = 8;              // BEGIN nesting (VCALENDAR/VAVAILABILITY/AVAILABLE is 3)
  std::size_t max_occurrences = 200'000;  // occurrences kept over the window, all events together
  // Recurrence steps per RRULE (COUNT rules must be walked from DTSTART).
  std::size_t max_steps_per_rule = 100'000;
  std::size_t max_total_steps = 2'000'000;  // recurrence steps for the whole calendar
  // Read plain VEVENTs with the fast text reader (libical reads the rest). Off only in tests
  // that check both readers agree.
  bool text_reader = true;
};

struct CompileRequest {
  std::string calendar;  // iCalendar text; may be empty (weekly hours only)
  std::string zone;      // the user's zone of record (IANA or Windows name)
  CalendarKind kind = CalendarKind::work;
  std::string hours;           // weekly hours (weekly_hours.hpp); empty = none
  UtcSeconds window_from = 0;  // compile [window_from, window_to)
  UtcSeconds window_to = 0;
  // What fills time that is neither away, busy nor explicitly off when the calendar and hours give
  // no working time at all (`schedule.unknown`); nullopt leaves it off_hours.
  std::optional<Status> unknown_fill;
  CompileLimits limits;
};

// The schedule, or why the calendar is unusable — in words for its owner, e.g.
// "the calendar is incomplete: it ends inside a VEVENT (the file may be truncated)".
Result<Schedule> compile(const CompileRequest& request);

// The calendar's X-WR-TIMEZONE value if it has one (cheap text scan, no parse); empty otherwise.
std::string calendar_zone_hint(std::string_view calendar);

// How often the publisher asks to be fetched again, in seconds: the calendar's own
// REFRESH-INTERVAL (RFC 7986) or X-PUBLISHED-TTL, read as an RFC 5545 duration (a day counts as
// 86 400 s). Cheap text scan of the properties before the first component; nullopt when
// absent, unreadable or not positive.
std::optional<std::int64_t> calendar_refresh_hint(std::string_view calendar);

// The default window around `now`: now − 1 day … now + `days` days.
inline void set_window_around(CompileRequest& request, UtcSeconds now, int days = 60) {
  request.window_from = now - kSecondsPerDay;
  request.window_to = now + static_cast<UtcSeconds>(days) * kSecondsPerDay;
}

}  // namespace concierge::ical
