// SPDX-License-Identifier: MIT
#pragma once
// PendingCalendars: calendars on their way (DESIGN §5). A calendar a user just gave (a URL or
// an upload's text) is only pending until it compiles; whose compile outcome is awaited (the
// user hears of it); the last problem each user was told of their calendar. Owns those three
// maps and their store rows (the "pending_url" and "pending_upload" settings: a user told "you
// will hear" hears, even across a restart). It must not touch the calendar of record or any
// other setting of a user (the Directory's), presence, sessions, holds or stanzas, and sends
// nothing: its callers tell users what the outcome was.

#include <set>
#include <string>
#include <unordered_map>

#include <component/core/router_types.hpp>
#include <component/core/store_port.hpp>

namespace concierge::core {

// A calendar a user just gave (a URL or an upload's text): in force only once it compiles.
struct PendingCalendar {
  std::string url;
  std::string upload;
};

class PendingCalendars {
 public:
  // `store` must outlive this. Its rows are read by the Directory, which hands them to load().
  explicit PendingCalendars(Store& store) : store_(store) {}

  // A stored setting of these ("pending_url", "pending_upload"): taken in (its outcome is
  // awaited, as it was before the restart), true; else false.
  bool load(const UserSetting& setting);

  bool contains(const std::string& bare) const { return pending_.count(bare) != 0; }
  // `bare`'s calendar on its way; nullptr when none.
  const PendingCalendar* find(const std::string& bare) const;
  // `bare` gave `calendar`: pending until it compiles (stored).
  void give(const std::string& bare, PendingCalendar calendar);
  // `bare`'s pending calendar is dropped (stored), if any.
  void drop(const std::string& bare);
  // Whether `used` is `bare`'s pending calendar (not one given before it or the one of record).
  bool is_pending(const std::string& bare, const ScheduleSource& used) const;

  // A schedule input of `bare` changed and is compiled again: when a calendar is being read,
  // its outcome is awaited (the user hears of it).
  void expect_compile(const std::string& bare);
  // `used` compiled: a pending calendar is dropped (the caller made it the one of record) and
  // a problem told before is over. True when its outcome was awaited.
  bool compiled(const std::string& bare, const ScheduleSource& used);
  // `used` failed with `why`: a pending calendar is dropped (`was_pending`); `tell` when the
  // user must hear of it (always for a new calendar; once per distinct problem otherwise).
  struct Failure {
    bool was_pending = false;
    bool tell = false;
  };
  Failure failed(const std::string& bare, const ScheduleSource& used, const std::string& why);

  // `bare` left: forgotten here (the store drops their rows with the enrolment).
  void forget(const std::string& bare);

 private:
  Store& store_;
  std::unordered_map<std::string, PendingCalendar> pending_;
  std::set<std::string> awaiting_;                           // told when their next compile ends
  std::unordered_map<std::string, std::string> error_told_;  // the last problem told
};

}  // namespace concierge::core
