// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: the last step of compiling (DESIGN §5) — span sets that already say what
// they mean (away, explicitly off, working, busy, availability layers) in, Schedule out. Owns
// the precedence between them (away over off over busy over working) and the painting of
// availability layers by PRIORITY. It reads no calendar text and no libical tree; the compiler
// (compile.cpp) fills TimelineParts.
#include <cstddef>
#include <string>
#include <vector>

#include <ical/compile.hpp>
#include <ical/schedule.hpp>
#include <ical/spans.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::ical {

// One VAVAILABILITY: its AVAILABLE slots over its range.
struct AvailabilityLayer {
  int strength = 0;  // PRIORITY 1 is the strongest, 0 (undefined) the weakest
  std::size_t order = 0;
  Span range;
  // BUSYTYPE BUSY or BUSY-TENTATIVE: the range outside the slots is busy; otherwise (the default
  // BUSY-UNAVAILABLE) it is off.
  bool busy_outside = false;
  Spans available;
};

struct TimelineParts {
  Spans away;            // out-of-office events
  Spans explicit_off;    // FBTYPE=BUSY-UNAVAILABLE free/busy
  Spans working_events;  // work calendars: opaque timed events
  Spans busy_events;     // personal calendars: opaque events
  Spans hours;           // weekly hours (weekly_hours_spans)
  std::vector<AvailabilityLayer> availabilities;
};

// The weekly hours as UTC spans around [from, to), read on the wall clock of `zone`.
Spans weekly_hours_spans(const WeeklyHours& hours, const Zone& zone, UtcSeconds from,
                         UtcSeconds to);

// Clips `s` to [from, to) and normalizes it.
Spans clip(Spans s, UtcSeconds from, UtcSeconds to);

// The schedule over the request's window; time nobody claims is off_hours (or the request's
// unknown_fill when nothing at all is working).
Schedule assemble_schedule(TimelineParts parts, const CompileRequest& request,
                           const std::string& zone_name, std::vector<std::string> warnings);

}  // namespace concierge::ical
