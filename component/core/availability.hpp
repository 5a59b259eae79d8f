// SPDX-License-Identifier: MIT
#pragma once
// Availability: what each user's time says — their compiled schedule (DESIGN §5) and a pause
// they set themselves ("busy until …"). Owns those two tables and answers from them alone:
// status now, when next working, when the schedule next changes. It must not touch presence,
// sessions, holds, the directory or stanzas, and never reads the clock (every answer is for a
// given instant).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <ical/schedule.hpp>

namespace concierge::core {

class Availability {
 public:
  // `settings` (schedule.unknown) may be reassigned on reload; it must outlive this.
  explicit Availability(const Settings& settings) : settings_(settings) {}

  // The latest good schedule of `bare`; nullptr: none (`schedule.unknown` applies).
  void set_schedule(const std::string& bare, std::shared_ptr<const ical::Schedule> schedule);
  const ical::Schedule* schedule_of(const std::string& bare) const;
  // `bare` is busy until `until`; an `until` <= now ends the pause.
  void set_pause(const std::string& bare, Instant until, Instant now);
  // The end of `bare`'s pause when one is in force at `now`.
  std::optional<Instant> pause_end(const std::string& bare, Instant now) const;
  bool paused(const std::string& bare, Instant now) const { return pause_end(bare, now).has_value(); }
  // Busy while paused; else the schedule's status, or `schedule.unknown` where it says nothing.
  ical::Status status_of(const std::string& bare, Instant now) const;
  // When `bare` is next working (now, if working); nullopt when the schedule shows none.
  std::optional<Instant> next_working(const std::string& bare, Instant now) const;
  // The first end of a pause still recorded (ended ones are forgotten by forget_ended_pauses).
  std::optional<Instant> earliest_pause_end() const;
  // Returns whose pauses it forgot.
  std::vector<std::string> forget_ended_pauses(Instant now);
  // `bare` left: their schedule and pause are forgotten.
  void forget(const std::string& bare);
  // Grows with every schedule or pause set, or forgotten: a reader that decided on them knows
  // when to look again.
  std::uint64_t version() const { return version_; }

 private:
  const Settings& settings_;
  std::unordered_map<std::string, std::shared_ptr<const ical::Schedule>> schedules_;
  std::unordered_map<std::string, Instant> pauses_;  // until
  std::uint64_t version_ = 0;
};

}  // namespace concierge::core
