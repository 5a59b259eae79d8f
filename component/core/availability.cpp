// SPDX-License-Identifier: MIT
#include <component/core/availability.hpp>

#include <algorithm>
#include <iterator>

namespace concierge::core {

void Availability::set_schedule(const std::string& bare,
                                std::shared_ptr<const ical::Schedule> schedule) {
  ++version_;
  if (schedule) {
    schedules_[bare] = std::move(schedule);
  } else {
    schedules_.erase(bare);
  }
}

const ical::Schedule* Availability::schedule_of(const std::string& bare) const {
  auto it = schedules_.find(bare);
  return it == schedules_.end() ? nullptr : it->second.get();
}

void Availability::set_pause(const std::string& bare, Instant until, Instant now) {
  ++version_;
  if (until <= now) {
    pauses_.erase(bare);
  } else {
    pauses_[bare] = until;
  }
}

std::optional<Instant> Availability::pause_end(const std::string& bare, Instant now) const {
  auto pause = pauses_.find(bare);
  if (pause == pauses_.end() || pause->second <= now) return std::nullopt;
  return pause->second;
}

ical::Status Availability::status_of(const std::string& bare, Instant now) const {
  if (paused(bare, now)) return ical::Status::busy;
  const ical::Schedule* schedule = schedule_of(bare);
  const ical::UtcSeconds t = to_utc_seconds(now);
  if (!schedule || !schedule->covers(t)) {
    return settings_.unknown_is_working ? ical::Status::working : ical::Status::off_hours;
  }
  return schedule->status_at(t);
}

std::optional<Instant> Availability::next_working(const std::string& bare, Instant now) const {
  const Instant from = pause_end(bare, now).value_or(now);
  const ical::Schedule* schedule = schedule_of(bare);
  if (!schedule || !schedule->covers(to_utc_seconds(from))) {
    if (settings_.unknown_is_working) return from;
    return std::nullopt;
  }
  auto t = schedule->next_working_after(to_utc_seconds(from));
  if (!t) return std::nullopt;
  return std::max(from, from_utc_seconds(*t));
}

std::optional<Instant> Availability::earliest_pause_end() const {
  std::optional<Instant> first;
  for (const auto& [bare, until] : pauses_) {
    if (!first || until < *first) first = until;
  }
  return first;
}

std::vector<std::string> Availability::forget_ended_pauses(Instant now) {
  std::vector<std::string> ended;
  for (auto it = pauses_.begin(); it != pauses_.end();) {
    if (it->second <= now) ended.push_back(it->first);
    it = it->second <= now ? pauses_.erase(it) : std::next(it);
  }
  return ended;
}

void Availability::forget(const std::string& bare) {
  ++version_;
  schedules_.erase(bare);
  pauses_.erase(bare);
}

}  // namespace concierge::core
