// SPDX-License-Identifier: MIT
#pragma once
// Weekly working hours (DESIGN §5): "Mon-Fri 09:00-17:00; Sat 10:00-12:00, 14:00-16:00;
// Sun 22:00-06:00". Groups separated by ';', each a day or day range (or a comma list of them)
// followed by one or more comma-separated time ranges. A range ending before it starts crosses
// midnight into the next day; "24:00" ends a day. Times are local wall-clock in the user's zone,
// so a DST change shortens or lengthens that day's range. Day names are English, 3 letters or
// full, any case. An empty or blank text means "no weekly hours".
#include <string_view>
#include <vector>

#include <ical/result.hpp>

namespace concierge::ical {

struct WeeklyHours {
  struct Range {
    int weekday = 0;       // 0 = Monday … 6 = Sunday: the day the range starts
    int start_minute = 0;  // 0 … 1439, from local midnight of that day
    int end_minute = 0;    // start_minute < end_minute <= start_minute + 1440 (may pass midnight)
    friend bool operator==(const Range&, const Range&) = default;
  };
  std::vector<Range> ranges;
  bool empty() const { return ranges.empty(); }
};

// Errors name the position and what was expected, e.g.
// "hours: expected a day name (Mon … Sun) at 'Mox-Fri 09:00-17:00'".
Result<WeeklyHours> parse_hours(std::string_view text);

}  // namespace concierge::ical
