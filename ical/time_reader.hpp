// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: how the compiler reads a written time (RFC 5545 §3.3.5) on the timeline.
// Owns the zone of floating times (X-WR-TIMEZONE, else the user's), the TZID → zone cache and the
// fallback to a calendar's own VTIMEZONE; it expands no recurrence and classifies no event.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <libical/ical.h>

#include <ical/event.hpp>
#include <ical/recurrence.hpp>
#include <ical/time.hpp>
#include <ical/warning_list.hpp>
#include <ical/zone.hpp>

namespace concierge::ical {

class TimeReader {
 public:
  struct When {
    LocalSeconds local = 0;
    const Zone* zone = nullptr;
    std::string zone_key;  // equal keys: same wall clock (nominal durations apply)
    bool is_date = false;
  };

  // `warnings` must outlive the reader; unknown zones are reported there. The window bounds how
  // far an unnamed VTIMEZONE's rules are sampled.
  TimeReader(std::shared_ptr<const Zone> user_zone, UtcSeconds window_from, UtcSeconds window_to,
             WarningList& warnings)
      : user_zone_(std::move(user_zone)),
        floating_zone_(user_zone_),
        window_from_(window_from),
        window_to_(window_to),
        warnings_(warnings) {}

  void set_floating_zone(std::shared_ptr<const Zone> zone) { floating_zone_ = std::move(zone); }
  // The parsed calendars whose VTIMEZONEs may define a TZID nobody knows; they must stay alive
  // while times are read (set back to empty before they are freed).
  void set_calendars(std::vector<icalcomponent*> calendars) { calendars_ = std::move(calendars); }

  std::optional<When> read(const TimeValue& t);
  std::optional<When> read(icalproperty* prop, const icaltimetype& t);

  // DTEND vs DURATION vs neither (RFC 5545 §3.6.1), nominal where the wall clock is the same.
  // False when the event has no positive length.
  bool read_end(const EventData& e, const When& start, EventShape& shape);

 private:
  const Zone* zone_for_tzid(const std::string& tzid);

  std::shared_ptr<const Zone> user_zone_;
  std::shared_ptr<const Zone> floating_zone_;
  UtcSeconds window_from_, window_to_;
  WarningList& warnings_;
  std::vector<icalcomponent*> calendars_;
  std::map<std::string, std::shared_ptr<const Zone>> tzids_;
};

}  // namespace concierge::ical
