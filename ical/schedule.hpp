// SPDX-License-Identifier: MIT
#pragma once
// A compiled schedule: what a user's calendar and weekly hours mean over a window of time, as a
// sorted list of intervals. A plain value — copy it, send it between processes (encode/decode),
// query it from any thread. Every query is a binary search; nothing is expanded per query.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ical/time.hpp>

namespace concierge::ical {

// Working-time status (DESIGN §1). The numeric values are part of the encoded form.
enum class Status : std::uint8_t { off_hours = 0, working = 1, away = 2, busy = 3 };

// "working", "off_hours", "away", "busy" — the CLI and logs use these words.
std::string_view to_string(Status status);

class Schedule {
 public:
  struct Change {
    UtcSeconds at;
    Status status;  // the status from `at` on
  };

  // An empty schedule: off_hours everywhere, no working time, window [0, 0).
  Schedule() = default;
  // `changes` must be sorted by time, start at `window_from` and hold no two adjacent equal
  // statuses (compile() guarantees this); each status lasts until the next change or window_to.
  Schedule(std::string zone, UtcSeconds window_from, UtcSeconds window_to,
           std::vector<Change> changes, bool has_working, std::vector<std::string> warnings);

  // Status at t. Outside [window_from, window_to) the answer is off_hours: check covers() and
  // recompile around t if it matters.
  Status status_at(UtcSeconds t) const;
  // The first instant > t at which the status differs from status_at(t); nullopt when nothing
  // changes before window_to (extend the window before telling anybody "never").
  std::optional<UtcSeconds> next_change_after(UtcSeconds t) const;
  // The first instant >= t at which the status is working (t itself when working at t): skips
  // short non-working gaps entirely (a dinner 22:00–23:00 within an off evening is not "back at
  // 23:00"). nullopt when there is no working time in [t, window_to).
  std::optional<UtcSeconds> next_working_after(UtcSeconds t) const;
  bool covers(UtcSeconds t) const { return t >= window_from_ && t < window_to_; }

  // All changes in [from, to), the status in force at `from` first.
  std::vector<Change> changes_between(UtcSeconds from, UtcSeconds to) const;

  const std::string& zone() const { return zone_; }  // the user's zone (IANA name)
  UtcSeconds window_from() const { return window_from_; }
  UtcSeconds window_to() const { return window_to_; }
  // False when neither the calendar nor the weekly hours give any working time in the window:
  // the caller then applies `schedule.unknown` (see CompileRequest::unknown_fill).
  bool has_working() const { return has_working_; }
  // Non-fatal problems, in words for the calendar's owner ("the repeat rule of 'Standup' was
  // invalid and was read as a single occurrence").
  const std::vector<std::string>& warnings() const { return warnings_; }
  std::size_t interval_count() const { return starts_.size(); }
  // Heap + object bytes held by this value.
  std::size_t memory_bytes() const;

  friend bool operator==(const Schedule&, const Schedule&) = default;

 private:
  std::size_t index_at(UtcSeconds t) const;  // interval containing t; requires covers(t)

  std::string zone_;
  UtcSeconds window_from_ = 0;
  UtcSeconds window_to_ = 0;
  std::vector<UtcSeconds> starts_;  // parallel arrays: 9 bytes per interval
  std::vector<Status> statuses_;
  bool has_working_ = false;
  std::vector<std::string> warnings_;
};

// A compact binary form for passing a schedule between processes; decode() returns nullopt on
// anything malformed.
std::string encode(const Schedule& schedule);
std::optional<Schedule> decode(std::string_view bytes);

}  // namespace concierge::ical
