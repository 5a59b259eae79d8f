// SPDX-License-Identifier: MIT
#pragma once
// Directory: who uses Concierge and what they set for themselves (DESIGN §4, §5, §7) — the
// enrolments (by the config's [users] and by the users themselves), each user's own settings
// (time zone, calendar, weekly hours, calendar kind, always-through, urgent policy, proxy
// subscribers) and the calendar of record, with two parts it holds: the PendingCalendars
// (calendars given but not yet compiled, pending_calendars.hpp) and the SenderRules (privacy,
// blocklist). It merges them with the config's keys (those win) into what is in force. It owns
// that state and writes its changes to the store; it must not touch presence, sessions, holds,
// schedules or stanzas, and sends nothing: its callers tell users what changed.

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <component/core/pending_calendars.hpp>
#include <component/core/router_types.hpp>
#include <component/core/sender_rules.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

// "a@x, b@y c@z" → bare JIDs, lower-case; nullopt names the first bad one in `bad`.
std::optional<std::set<std::string>> parse_jid_list(std::string_view text, std::string& bad);

class Directory {
 public:
  // `settings` (the config's copy; it may be reassigned on reload) and `store` must outlive
  // the directory. Reads the enrolments and users' settings from the store.
  Directory(const Settings& settings, Store& store);

  // --- Enrolment -----------------------------------------------------------------------
  bool enrolled(const std::string& bare) const {
    return settings_.enrolled.count(bare) != 0 || enrolment(bare) != nullptr;
  }
  bool by_config(const std::string& bare) const { return settings_.enrolled.count(bare) != 0; }
  // The user's own enrolment; nullptr when they did not enrol themselves.
  const Enrolment* enrolment(const std::string& bare) const;
  std::size_t self_enrolled_count() const { return self_enrolled_; }
  // Every enrolled user, sorted, once each.
  std::vector<std::string> enrolled_users() const;
  // Enrols `bare` or updates their enrolment; true when new. `url`: nullopt keeps the
  // calendar; empty removes the URL; another URL becomes pending.
  bool enrol(const std::string& bare, const std::string& timezone,
             const std::optional<std::string>& url, Instant now);
  // `bare` left: their enrolment, own settings, pending calendar and rules are forgotten, in
  // the store too.
  void unenrol(const std::string& bare);

  // --- Settings in force ---------------------------------------------------------------
  // The config pins `key` for `bare` (a user command that would change it is refused).
  bool admin_set(const std::string& bare, const std::string& key) const;
  // What `bare` set for `key` themselves; nullptr: nothing.
  const std::string* own_value(const std::string& bare, const std::string& key) const;
  // Sets (an empty `value`: removes) `bare`'s own `key`, in the store too.
  void set_own(const std::string& bare, const std::string& key, const std::string& value);
  // A self-enrolled user's zone is their enrolment's; others' an own setting.
  void set_zone(const std::string& bare, const std::string& zone);
  std::string zone_of(const std::string& bare) const;  // IANA; empty: not enrolled
  std::set<std::string> always_through(const std::string& target) const;
  bool urgent_from_anyone(const std::string& target) const;
  // Whether `subscriber` may subscribe to `target`'s proxy presence (DESIGN §7).
  bool may_subscribe(const std::string& target, const std::string& subscriber) const;
  // What `bare`'s schedule is compiled from; nullopt when not enrolled.
  std::optional<ScheduleSource> schedule_source(const std::string& bare) const;
  // Enrolled users with something to compile (a calendar or weekly hours).
  std::vector<std::string> schedule_users() const;

  // --- The calendar of record ----------------------------------------------------------
  // "calendar none": no URL, no upload, nothing pending.
  void remove_calendar(const std::string& bare);
  // `used` compiled: a pending calendar becomes the one of record. True when its outcome was
  // awaited.
  bool compiled(const std::string& bare, const ScheduleSource& used);
  // Calendars given and not yet compiled (a failure is theirs: pending().failed()).
  PendingCalendars& pending() { return pending_; }

  SenderRules& senders() { return senders_; }
  const SenderRules& senders() const { return senders_; }

 private:
  // What one user did themselves, in one entry of one map (a million users at startup: one
  // look-up and two allocations each, not an entry in a map per kind and a std::map each).
  struct Own {
    std::optional<Enrolment> enrolment;                         // when they enrolled themselves
    std::vector<std::pair<std::string, std::string>> settings;  // UserSetting keys, sorted
    const std::string* value(std::string_view key) const;
    void set(std::string key, std::string value);  // replaces or inserts, in order
    void erase(const std::string& key);
  };
  const Own* own(const std::string& bare) const;
  Enrolment* self_enrolment(const std::string& bare);

  const Settings& settings_;
  Store& store_;
  std::unordered_map<std::string, Own> users_;  // by bare JID; no empty entry
  std::size_t self_enrolled_ = 0;               // entries with an enrolment
  PendingCalendars pending_;
  SenderRules senders_;
};

}  // namespace concierge::core
