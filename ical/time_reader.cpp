// SPDX-License-Identifier: MIT
// Written times on the timeline (see time_reader.hpp).
#include <ical/time_reader.hpp>

#include <ical/libical_tree.hpp>

namespace concierge::ical {

const Zone* TimeReader::zone_for_tzid(const std::string& tzid) {
  if (auto it = tzids_.find(tzid); it != tzids_.end()) return it->second.get();
  std::shared_ptr<const Zone> zone = find_zone(tzid);
  for (std::size_t i = 0; !zone && i < calendars_.size(); ++i) {
    if (icaltimezone* own = icalcomponent_get_timezone(calendars_[i], tzid.c_str())) {
      // A VTIMEZONE under a name nobody knows: trust its rules around the window.
      zone = Zone::sampled(tzid, window_from_ - 40 * kSecondsPerDay,
                           window_to_ + 40 * kSecondsPerDay, [own](UtcSeconds t) {
                             icaltimetype u = icaltime_from_timet_with_zone(
                                 static_cast<time_t>(t), 0, icaltimezone_get_utc_timezone());
                             int is_daylight = 0;
                             return static_cast<std::int32_t>(
                                 icaltimezone_get_utc_offset_of_utc_time(own, &u, &is_daylight));
                           });
    }
  }
  if (!zone) {
    warnings_.add("unknown time zone '" + tzid.substr(0, 64) + "'; its times were read in " +
                  user_zone_->name());
    zone = user_zone_;
  }
  return tzids_.emplace(tzid, zone).first->second.get();
}

std::optional<TimeReader::When> TimeReader::read(const TimeValue& t) {
  When w;
  w.is_date = t.is_date;
  w.local = t.local;
  if (t.is_date) {
    // libical makes all-day events UTC-midnight spans; they are days in the user's zone.
    w.zone = floating_zone_.get();
    w.zone_key = "date";
  } else if (t.is_utc) {
    w.zone = Zone::utc().get();
    w.zone_key = "UTC";
  } else if (!t.tzid.empty()) {
    w.zone = zone_for_tzid(t.tzid);
    w.zone_key = "tz:" + w.zone->name();
  } else {
    w.zone = floating_zone_.get();  // floating: X-WR-TIMEZONE, else the user's zone
    w.zone_key = "floating";
  }
  return w;
}

std::optional<TimeReader::When> TimeReader::read(icalproperty* prop, const icaltimetype& t) {
  auto v = to_value(prop, t);
  return v ? read(*v) : std::nullopt;
}

bool TimeReader::read_end(const EventData& e, const When& start, EventShape& shape) {
  if (e.has_end) {
    auto end = read(e.end);
    if (!end) return false;
    if (end->zone_key == start.zone_key) {
      shape.nominal_seconds = end->local - start.local;
    } else {
      shape.nominal_seconds = 0;
      shape.exact_seconds = end->zone->to_utc(end->local) - start.zone->to_utc(start.local);
    }
  } else if (e.has_duration) {
    if (e.duration.negative) return false;
    shape.nominal_seconds = e.duration.nominal_days * kSecondsPerDay;
    shape.exact_seconds = e.duration.exact_seconds;
  } else {
    shape.nominal_seconds = start.is_date ? kSecondsPerDay : 0;
  }
  return shape.nominal_seconds + shape.exact_seconds > 0;
}

}  // namespace concierge::ical
