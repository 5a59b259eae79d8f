// SPDX-License-Identifier: MIT
#pragma once
// Compiled schedules shared between users whose schedule has the same source and no calendar:
// the same zone, weekly hours and kind, compiled for the same window and `schedule.unknown`.
// A million users with a few dozen distinct hours patterns then compile a few dozen times and
// hold one copy of each (issue 12).
//
// Owns the schedules it handed out for the current window base. Requests that may be shared
// get their window from that base (now − 1 day … + `days`, `now` taken once per base) so that
// the users of one batch find each other; a base older than `max_age` is replaced and its
// entries dropped, so the daily recompile compiles afresh. A request with a calendar (URL,
// file or upload) is never shared: calendars are per user.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <ical/compile.hpp>
#include <ical/schedule.hpp>

namespace concierge::app {

class ScheduleCache {
 public:
  explicit ScheduleCache(std::chrono::seconds max_age = std::chrono::hours(1))
      : max_age_(max_age) {}

  // Whether `request`'s result may be shared: it has no calendar text.
  static bool shareable(const ical::CompileRequest& request) { return request.calendar.empty(); }

  // Sets the window of a shareable request from the base (a new base around `now` when there
  // is none or it is older than max_age), or around `now` for any other request.
  void set_window(ical::CompileRequest& request, ical::UtcSeconds now, int days);

  // The schedule compiled before for an equal shareable request; nullptr when none.
  std::shared_ptr<const ical::Schedule> find(const ical::CompileRequest& request) const;
  // Keeps `schedule` for `request` (when shareable) and returns it for the user.
  std::shared_ptr<const ical::Schedule> add(const ical::CompileRequest& request,
                                            ical::Schedule schedule);

  std::size_t size() const { return entries_.size(); }

 private:
  static std::string key(const ical::CompileRequest& request);

  std::chrono::seconds max_age_;
  std::optional<ical::UtcSeconds> base_;
  std::unordered_map<std::string, std::shared_ptr<const ical::Schedule>> entries_;
};

}  // namespace concierge::app
