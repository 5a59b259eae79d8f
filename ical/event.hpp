// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: the parts of a VEVENT (or AVAILABLE) the compiler uses, as plain values —
// read either by the fast text reader below (plain, well-formed events: most of a calendar) or
// from libical's tree (everything else).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <ical/time.hpp>

namespace concierge::ical {

struct TimeValue {
  LocalSeconds local = 0;  // the written wall-clock value (dates: midnight)
  bool is_date = false;
  bool is_utc = false;  // written with a trailing Z
  std::string tzid;     // TZID parameter, empty if none
};

struct DurationValue {
  std::int64_t nominal_days = 0;   // weeks and days: added on the wall clock
  std::int64_t exact_seconds = 0;  // hours, minutes, seconds: added on the timeline
  bool negative = false;
};

struct EventData {
  struct Extra {  // one RDATE value
    TimeValue start;
    bool has_end = false;
    TimeValue end;
    bool has_duration = false;
    DurationValue duration;
  };
  std::string uid;
  std::string summary;
  bool has_start = false, has_end = false, has_duration = false;
  TimeValue start, end;
  DurationValue duration;
  std::vector<std::string> rrules;  // RRULE texts
  std::vector<Extra> rdates;
  std::vector<TimeValue> exdates;
  bool has_recurrence_id = false;
  TimeValue recurrence_id;
  bool this_and_future = false;
  bool cancelled = false;
  bool transparent = false;
  bool out_of_office = false;
};

// Reads one VEVENT from its unfolded content lines (without BEGIN/END). False when anything is
// not plain (unknown value syntax, nested components, …): the caller then lets libical read it.
bool read_event_text(const std::vector<std::string>& lines, EventData& out);

// Shared with the libical reader: the meaning of STATUS/TRANSP/CATEGORIES/X-MICROSOFT values.
bool is_out_of_office_word(std::string_view category);
std::string lowercase(std::string_view s);

}  // namespace concierge::ical
