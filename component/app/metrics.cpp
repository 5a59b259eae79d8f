// SPDX-License-Identifier: MIT
#include <component/app/metrics.hpp>

#include <algorithm>
#include <cstdio>

namespace concierge::app {
namespace {

using core::HoldReason;
using core::HoldState;

constexpr std::array kReasons = {HoldReason::off_hours, HoldReason::away, HoldReason::busy,
                                 HoldReason::offline, HoldReason::queue};

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// A bucket bound as OpenMetrics writes it canonically: always with a decimal point ("1.0").
std::string bound(double value) {
  std::string text = number(value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

double seconds_between(core::Instant from, core::Instant to) {
  return std::chrono::duration<double>(to - from).count();
}

void family(std::string& out, const std::string& name, const char* type, const char* help) {
  out += "# TYPE " + name + " " + type + "\n# HELP " + name + " " + help + "\n";
}

void sample(std::string& out, const std::string& name, const std::string& labels, double value) {
  out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(value) + "\n";
}

// A label value as OpenMetrics quotes it (conditions are RFC 6120 names; escaped anyway).
std::string label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

const char* reason_label(HoldReason reason) {
  switch (reason) {
    case HoldReason::off_hours:
      return "off_hours";
    case HoldReason::away:
      return "away";
    case HoldReason::busy:
      return "busy";
    case HoldReason::offline:
      return "offline";
    case HoldReason::queue:
      return "queue";
  }
  return "queue";
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += seconds;
  ++count_;
}

void Histogram::render(const std::string& name, std::string& out) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    sample(out, name + "_bucket", "le=\"" + bound(bounds_[i]) + "\"",
           static_cast<double>(cumulative));
  }
  sample(out, name + "_bucket", "le=\"+Inf\"", static_cast<double>(count_));
  sample(out, name + "_sum", "", sum_);
  sample(out, name + "_count", "", static_cast<double>(count_));
}

HoldMetrics::HoldMetrics()
    // From a second to the longest hold (limits.max_hold_age defaults to 14 days).
    : hold_duration_({1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400,
                      14 * 86400}),
      // The release pacing (release.rate) and the server's ping answer: milliseconds to minutes.
      release_latency_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}) {}

void HoldMetrics::holds_loaded(const std::vector<core::Hold>& holds) {
  for (const auto& h : holds) {
    holds_[h.id] = {h.reason, h.state, h.received};
    if (h.state == HoldState::held) ++waiting_[index(h.reason)];
  }
}

void HoldMetrics::hold_written(const core::Hold& hold) {
  auto it = holds_.find(hold.id);
  if (it == holds_.end()) {
    holds_[hold.id] = {hold.reason, hold.state, hold.received};
    ++held_total_[index(hold.reason)];
    if (hold.state == HoldState::held) ++waiting_[index(hold.reason)];
    return;
  }
  Seen& seen = it->second;
  if (seen.state == HoldState::held) --waiting_[index(seen.reason)];
  if (hold.state == HoldState::held) ++waiting_[index(hold.reason)];
  if (seen.state == HoldState::held && hold.state == HoldState::sent) {
    hold_duration_.observe(seconds_between(hold.received, hold.sent_at));
  }
  seen = {hold.reason, hold.state, hold.received};
}

void HoldMetrics::hold_removed(std::int64_t id) {
  auto it = holds_.find(id);
  if (it == holds_.end()) return;
  if (it->second.state == HoldState::held) --waiting_[index(it->second.reason)];
  holds_.erase(it);
  in_flight_.erase(id);
}

void HoldMetrics::release_started(std::int64_t id, SteadyTime now) {
  in_flight_[id] = now;
}

void HoldMetrics::release_confirmed(const std::vector<std::int64_t>& ids, SteadyTime now) {
  for (std::int64_t id : ids) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) continue;
    release_latency_.observe(std::chrono::duration<double>(now - it->second).count());
    in_flight_.erase(it);
  }
}

std::uint64_t HoldMetrics::held_total(HoldReason reason) const {
  return held_total_[index(reason)];
}

std::size_t HoldMetrics::waiting(HoldReason reason) const {
  return waiting_[index(reason)];
}

std::optional<core::Instant> HoldMetrics::oldest_waiting() const {
  std::optional<core::Instant> oldest;
  for (const auto& [id, seen] : holds_) {
    if (seen.state != HoldState::held) continue;
    if (!oldest || seen.received < *oldest) oldest = seen.received;
  }
  return oldest;
}

std::string render_metrics(const MetricsSnapshot& s, const HoldMetrics& holds) {
  std::string out;
  auto counter = [&](const char* name, const char* help, std::uint64_t value) {
    family(out, name, "counter", help);
    sample(out, std::string(name) + "_total", "", static_cast<double>(value));
  };
  counter("concierge_relayed", "Messages forwarded between users at once.", s.relayed);
  family(out, "concierge_held", "counter", "Messages put on hold, by why they were held.");
  for (HoldReason r : kReasons) {
    sample(out, "concierge_held_total", std::string("reason=\"") + reason_label(r) + "\"",
           static_cast<double>(holds.held_total(r)));
  }
  counter("concierge_released", "Held messages sent to their target.", s.released);
  counter("concierge_expired", "Held messages dropped after limits.max_hold_age.", s.expired);
  family(out, "concierge_refused", "counter",
         "Stanzas answered with an error, by RFC 6120 condition.");
  for (const auto& [condition, n] : holds.refused_by_condition()) {
    sample(out, "concierge_refused_total", "condition=\"" + label_value(condition) + "\"",
           static_cast<double>(n));
  }
  counter("concierge_urgent", "Messages let through as urgent.", s.urgent);

  family(out, "concierge_enrolled_users", "gauge", "Enrolled users, by who enrolled them.");
  sample(out, "concierge_enrolled_users", "by=\"config\"",
         static_cast<double>(s.enrolled_by_config));
  sample(out, "concierge_enrolled_users", "by=\"themselves\"",
         static_cast<double>(s.enrolled_by_themselves));
  family(out, "concierge_open_conversations", "gauge", "Conversations not yet idle.");
  sample(out, "concierge_open_conversations", "", static_cast<double>(s.open_conversations));
  family(out, "concierge_holds_waiting", "gauge", "Held messages waiting, by why.");
  for (HoldReason r : kReasons) {
    sample(out, "concierge_holds_waiting", std::string("reason=\"") + reason_label(r) + "\"",
           static_cast<double>(holds.waiting(r)));
  }
  family(out, "concierge_oldest_hold_age_seconds", "gauge",
         "How long the longest-waiting held message has waited (0: none waits).");
  const auto oldest = holds.oldest_waiting();
  sample(out, "concierge_oldest_hold_age_seconds", "",
         oldest ? std::max(0.0, seconds_between(*oldest, s.now)) : 0.0);
  family(out, "concierge_connected", "gauge", "1 while the stream to the XMPP server is up.");
  sample(out, "concierge_connected", "", s.connected ? 1 : 0);
  family(out, "concierge_active", "gauge",
         "1 while this instance holds the store's lease (the active one); 0 on a standby.");
  sample(out, "concierge_active", "", s.active ? 1 : 0);
  family(out, "concierge_calendar_fetch_failures", "gauge",
         "Users whose calendar URL failed its last fetch.");
  sample(out, "concierge_calendar_fetch_failures", "",
         static_cast<double>(s.calendar_fetch_failures));

  family(out, "concierge_hold_duration_seconds", "histogram",
         "From a held message's arrival to the server taking its release.");
  holds.hold_duration().render("concierge_hold_duration_seconds", out);
  family(out, "concierge_release_latency_seconds", "histogram",
         "From the decision to release a held message to the server taking it.");
  holds.release_latency().render("concierge_release_latency_seconds", out);
  out += "# EOF\n";
  return out;
}

}  // namespace concierge::app
