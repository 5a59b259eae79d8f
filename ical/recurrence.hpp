// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: expands one component's recurrence set over the window, in the wall clock of
// its start zone, converting each occurrence to UTC ourselves (RFC 5545 §3.3.5 for DST gaps and
// overlaps). Rules are screened first: libical 3.0.16 hangs on impossible BY-rules with
// FREQ=HOURLY/MINUTELY/SECONDLY and has no iteration limit.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <ical/compile.hpp>
#include <ical/spans.hpp>
#include <ical/zone.hpp>

struct icalrecurrencetype;  // libical, seen only by recurrence.cpp, compile.cpp, time_reader.cpp

namespace concierge::ical {

struct EventShape {
  LocalSeconds start_local = 0;  // DTSTART as wall clock in `zone`
  bool is_date = false;
  const Zone* zone = nullptr;
  std::int64_t nominal_seconds = 0;  // added on the wall clock (days, same-zone DTEND)
  std::int64_t exact_seconds = 0;    // added on the UTC timeline (hours of a DURATION)
};

struct RecurrenceInput {
  struct Extra {
    UtcSeconds start;
    std::optional<UtcSeconds> end;  // RDATE;VALUE=PERIOD gives its own end
  };
  std::vector<const icalrecurrencetype*> rules;
  std::vector<Extra> rdates;
  std::set<UtcSeconds> exdates;
  std::set<std::int64_t> exdate_days;              // EXDATE;VALUE=DATE against timed events
  const std::set<UtcSeconds>* replaced = nullptr;  // RECURRENCE-IDs of overrides
  UtcSeconds window_from = 0;
  UtcSeconds window_to = 0;
  const CompileLimits* limits = nullptr;
  std::size_t* steps_left = nullptr;  // shared budget over the whole calendar
  // Plain DAILY/WEEKLY rules are expanded by arithmetic here (libical's iterator goes through ICU
  // calendars and costs microseconds per step); tests turn this off to compare both ways.
  bool fast_path = true;
};

struct RecurrenceOutput {
  Spans spans;                        // occurrences meeting the window (not normalized)
  std::vector<std::string> problems;  // "was invalid (…); read as a single occurrence"
};

RecurrenceOutput expand_recurrence(const EventShape& shape, const RecurrenceInput& in);

// Why libical must not iterate this rule, or nullopt when it is safe to.
std::optional<std::string> screen_rule(const icalrecurrencetype& rule);

}  // namespace concierge::ical
