// SPDX-License-Identifier: MIT
// PendingCalendars: a new calendar is only pending until it compiles; a bad one is dropped and
// leaves the one of record (the Directory's) in force.
#include <component/core/pending_calendars.hpp>

#include <utility>

namespace concierge::core {

bool PendingCalendars::load(const UserSetting& setting) {
  if (setting.key != "pending_url" && setting.key != "pending_upload") return false;
  auto& pending = pending_[setting.jid];
  (setting.key == "pending_url" ? pending.url : pending.upload) = setting.value;
  awaiting_.insert(setting.jid);
  return true;
}

const PendingCalendar* PendingCalendars::find(const std::string& bare) const {
  auto pending = pending_.find(bare);
  return pending == pending_.end() ? nullptr : &pending->second;
}

void PendingCalendars::give(const std::string& bare, PendingCalendar calendar) {
  // Kept in the store too: a user told "you will hear" hears, even across a restart.
  drop(bare);
  if (!calendar.url.empty()) store_.put_setting({bare, "pending_url", calendar.url});
  if (!calendar.upload.empty()) store_.put_setting({bare, "pending_upload", calendar.upload});
  pending_[bare] = std::move(calendar);
}

void PendingCalendars::drop(const std::string& bare) {
  store_.remove_setting(bare, "pending_url");
  store_.remove_setting(bare, "pending_upload");
  pending_.erase(bare);
}

bool PendingCalendars::is_pending(const std::string& bare, const ScheduleSource& used) const {
  auto pending = pending_.find(bare);
  return used.pending && pending != pending_.end() && pending->second.url == used.url &&
         pending->second.upload == used.upload;
}

void PendingCalendars::expect_compile(const std::string& bare) {
  // Only a calendar being read has an outcome the command could not tell; a setting's answer
  // is the one answer to its change.
  if (pending_.count(bare)) {
    awaiting_.insert(bare);
  } else {
    awaiting_.erase(bare);
  }
}

bool PendingCalendars::compiled(const std::string& bare, const ScheduleSource& used) {
  if (is_pending(bare, used)) drop(bare);
  error_told_.erase(bare);
  return awaiting_.erase(bare) != 0;
}

PendingCalendars::Failure PendingCalendars::failed(const std::string& bare,
                                                   const ScheduleSource& used,
                                                   const std::string& why) {
  Failure f;
  f.was_pending = is_pending(bare, used);
  if (f.was_pending) drop(bare);
  awaiting_.erase(bare);
  // Once per distinct problem for a calendar already in force (refreshes fail alike); always
  // for a new one the user just gave.
  if (f.was_pending) {
    f.tell = true;
  } else if (error_told_[bare] != why) {
    error_told_[bare] = why;
    f.tell = true;
  }
  return f;
}

void PendingCalendars::forget(const std::string& bare) {
  pending_.erase(bare);
  awaiting_.erase(bare);
  error_told_.erase(bare);
}

}  // namespace concierge::core
