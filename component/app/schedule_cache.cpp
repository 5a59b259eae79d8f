// SPDX-License-Identifier: MIT
#include <component/app/schedule_cache.hpp>

namespace concierge::app {

void ScheduleCache::set_window(ical::CompileRequest& request, ical::UtcSeconds now, int days) {
  if (!shareable(request)) {
    ical::set_window_around(request, now, days);
    return;
  }
  if (!base_ || now < *base_ || now - *base_ >= max_age_.count()) {
    base_ = now;
    entries_.clear();  // users keep theirs; the next ones get schedules for the new window
  }
  ical::set_window_around(request, *base_, days);
}

std::string ScheduleCache::key(const ical::CompileRequest& r) {
  // Zone and hours cannot contain '\n' (an IANA name; one line of the hours grammar).
  std::string k;
  k.reserve(r.zone.size() + r.hours.size() + 48);
  k.append(r.zone).append(1, '\n').append(r.hours).append(1, '\n');
  k += std::to_string(static_cast<int>(r.kind)) + ' ' +
       std::to_string(r.unknown_fill ? 1 + static_cast<int>(*r.unknown_fill) : 0) + ' ' +
       std::to_string(r.window_from) + ' ' + std::to_string(r.window_to);
  return k;
}

std::shared_ptr<const ical::Schedule> ScheduleCache::find(
    const ical::CompileRequest& request) const {
  if (!shareable(request)) return nullptr;
  auto it = entries_.find(key(request));
  return it != entries_.end() ? it->second : nullptr;
}

std::shared_ptr<const ical::Schedule> ScheduleCache::add(const ical::CompileRequest& request,
                                                         ical::Schedule schedule) {
  auto shared = std::make_shared<const ical::Schedule>(std::move(schedule));
  if (shareable(request)) entries_[key(request)] = shared;
  return shared;
}

}  // namespace concierge::app
