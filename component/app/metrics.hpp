// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <component/core/store_port.hpp>

namespace concierge::app {

// A Prometheus histogram: cumulative buckets (upper bounds in seconds), their sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double seconds);
  // The OpenMetrics lines of the family `name` (no TYPE/HELP).
  void render(const std::string& name, std::string& out) const;
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; one more for +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// What GET /metrics shows that app/ cannot read from the core or itself when asked: held
// messages as the core stores them (by reason, since when), releases in flight, refusals by
// RFC 6120 condition. Fed by ObservedStore and the loop; rendered by render_metrics().
class HoldMetrics {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  HoldMetrics();

  // A hold as the core wrote it: a new id counts as held (by its reason); a held one turning
  // `sent` (the server confirmed it) is observed in the hold-duration histogram.
  void hold_written(const core::Hold& hold);
  void hold_removed(std::int64_t id);
  void holds_loaded(const std::vector<core::Hold>& holds);  // the store's holds at startup
  // Before a takeover loads the store's holds again (the counters of past holds stay).
  void holds_forgotten() {
    holds_.clear();
    waiting_ = {};
    in_flight_.clear();
  }

  // The core released `id` (Outbox::Release) / the server confirmed it (ping answer): the time
  // between is the release latency. A lost stream forgets the releases in flight.
  void release_started(std::int64_t id, SteadyTime now);
  void release_confirmed(const std::vector<std::int64_t>& ids, SteadyTime now);
  void releases_abandoned() { in_flight_.clear(); }

  // A stanza error Concierge sent (its RFC 6120 condition, e.g. "service-unavailable").
  void refused(const std::string& condition) { ++refused_[condition]; }

  std::uint64_t held_total(core::HoldReason reason) const;
  std::size_t waiting(core::HoldReason reason) const;
  // The arrival of the longest-waiting held (not yet sent) message; nullopt: none waits.
  std::optional<core::Instant> oldest_waiting() const;
  const std::map<std::string, std::uint64_t>& refused_by_condition() const { return refused_; }
  const Histogram& hold_duration() const { return hold_duration_; }
  const Histogram& release_latency() const { return release_latency_; }

 private:
  struct Seen {
    core::HoldReason reason;
    core::HoldState state;
    core::Instant received;
  };
  static std::size_t index(core::HoldReason reason) { return static_cast<std::size_t>(reason); }

  std::map<std::int64_t, Seen> holds_;  // by id: arrival order
  std::array<std::uint64_t, 5> held_total_{};
  std::array<std::size_t, 5> waiting_{};
  std::unordered_map<std::int64_t, SteadyTime> in_flight_;
  std::map<std::string, std::uint64_t> refused_;
  Histogram hold_duration_;
  Histogram release_latency_;
};

// The loop's and the core's numbers at the moment of a scrape (what render_metrics shows
// besides HoldMetrics).
struct MetricsSnapshot {
  std::uint64_t relayed = 0, released = 0, expired = 0, urgent = 0;
  std::size_t enrolled_by_config = 0, enrolled_by_themselves = 0;
  std::size_t open_conversations = 0;
  bool connected = false;
  // This instance holds the store's lease (DESIGN §10) and so may connect; 1 when there is no
  // standby (one instance is always active).
  bool active = true;
  std::size_t calendar_fetch_failures = 0;  // users whose calendar URL failed its last fetch
  core::Instant now{};
};

// The OpenMetrics text exposition (ends with "# EOF"). Names follow Prometheus conventions:
// concierge_…_total counters, seconds.
std::string render_metrics(const MetricsSnapshot& snapshot, const HoldMetrics& holds);

// The reason's label value ("off_hours", "away", "busy", "offline", "queue").
const char* reason_label(core::HoldReason reason);

}  // namespace concierge::app
