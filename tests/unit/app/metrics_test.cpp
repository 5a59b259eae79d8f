// SPDX-License-Identifier: MIT
#include <component/app/metrics.hpp>

#include <gtest/gtest.h>

#include <string>

namespace concierge::app {
namespace {

using core::Hold;
using core::HoldReason;
using core::HoldState;
using std::chrono::seconds;

core::Instant at(int s) {
  return core::Instant{} + seconds(1'800'000'000 + s);
}

Hold hold(std::int64_t id, HoldReason reason, int received) {
  Hold h;
  h.id = id;
  h.sender = "alice@example.org";
  h.target = "bob@example.org";
  h.reason = reason;
  h.received = at(received);
  return h;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(HoldMetrics, NewHoldsCountByReasonAndWaitUntilTheServerTakesThem) {
  HoldMetrics m;
  m.hold_written(hold(1, HoldReason::offline, 0));
  m.hold_written(hold(2, HoldReason::off_hours, 5));
  EXPECT_EQ(m.held_total(HoldReason::offline), 1u);
  EXPECT_EQ(m.waiting(HoldReason::off_hours), 1u);
  EXPECT_EQ(m.oldest_waiting(), at(0));

  // Re-decided (bob went off duty while offline): the reason moves, no new hold.
  m.hold_written(hold(1, HoldReason::off_hours, 0));
  EXPECT_EQ(m.held_total(HoldReason::offline), 1u);
  EXPECT_EQ(m.held_total(HoldReason::off_hours), 1u);
  EXPECT_EQ(m.waiting(HoldReason::offline), 0u);
  EXPECT_EQ(m.waiting(HoldReason::off_hours), 2u);

  // The server took hold 1, 90 s after it arrived; it leaves the confirm window later.
  Hold sent = hold(1, HoldReason::off_hours, 0);
  sent.state = HoldState::sent;
  sent.sent_at = at(90);
  m.hold_written(sent);
  EXPECT_EQ(m.waiting(HoldReason::off_hours), 1u);
  EXPECT_EQ(m.oldest_waiting(), at(5));
  m.hold_removed(1);
  m.hold_removed(2);  // e.g. expired
  EXPECT_EQ(m.waiting(HoldReason::off_hours), 0u);
  EXPECT_EQ(m.oldest_waiting(), std::nullopt);

  MetricsSnapshot s;
  s.now = at(100);
  const std::string text = render_metrics(s, m);
  EXPECT_TRUE(has_line(text, "concierge_hold_duration_seconds_count 1")) << text;
  EXPECT_TRUE(has_line(text, "concierge_hold_duration_seconds_sum 90")) << text;
  EXPECT_TRUE(has_line(text, "concierge_hold_duration_seconds_bucket{le=\"60.0\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "concierge_hold_duration_seconds_bucket{le=\"300.0\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "concierge_held_total{reason=\"offline\"} 1")) << text;
}

TEST(HoldMetrics, HoldsInTheStoreAtStartupWaitButAreNotNew) {
  HoldMetrics m;
  m.holds_loaded({hold(7, HoldReason::busy, 0)});
  EXPECT_EQ(m.waiting(HoldReason::busy), 1u);
  EXPECT_EQ(m.held_total(HoldReason::busy), 0u);
  MetricsSnapshot s;
  s.now = at(42);
  const std::string text = render_metrics(s, m);
  EXPECT_TRUE(has_line(text, "concierge_oldest_hold_age_seconds 42")) << text;
  EXPECT_TRUE(has_line(text, "concierge_holds_waiting{reason=\"busy\"} 1")) << text;
}

TEST(HoldMetrics, ReleaseLatencyIsFromTheDecisionToTheServersAnswer) {
  HoldMetrics m;
  const auto t0 = std::chrono::steady_clock::time_point{} + seconds(1000);
  m.release_started(1, t0);
  m.release_started(2, t0);
  m.release_confirmed({1}, t0 + std::chrono::milliseconds(30));
  m.releases_abandoned();  // the stream went down: 2 goes out again later
  m.release_confirmed({2}, t0 + seconds(5));
  EXPECT_EQ(m.release_latency().count(), 1u);
  EXPECT_NEAR(m.release_latency().sum(), 0.03, 1e-9);
}

TEST(RenderMetrics, OpenMetricsTextWithPrometheusNames) {
  HoldMetrics m;
  m.refused("item-not-found");
  m.refused("item-not-found");
  MetricsSnapshot s;
  s.relayed = 3;
  s.released = 2;
  s.connected = true;
  s.enrolled_by_config = 4;
  s.calendar_fetch_failures = 1;
  const std::string text = render_metrics(s, m);
  EXPECT_TRUE(text.starts_with("# TYPE concierge_relayed counter\n")) << text;
  EXPECT_TRUE(text.ends_with("\n# EOF\n")) << text;
  EXPECT_TRUE(has_line(text, "concierge_relayed_total 3")) << text;
  EXPECT_TRUE(has_line(text, "concierge_released_total 2")) << text;
  EXPECT_TRUE(has_line(text, "concierge_refused_total{condition=\"item-not-found\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "concierge_connected 1")) << text;
  EXPECT_TRUE(has_line(text, "concierge_active 1")) << text << "one instance is always active";
  EXPECT_TRUE(has_line(text, "concierge_enrolled_users{by=\"config\"} 4")) << text;
  EXPECT_TRUE(has_line(text, "concierge_calendar_fetch_failures 1")) << text;
  EXPECT_TRUE(has_line(text, "concierge_oldest_hold_age_seconds 0")) << text;
  EXPECT_TRUE(has_line(text, "concierge_release_latency_seconds_bucket{le=\"+Inf\"} 0")) << text;
}

TEST(RenderMetrics, AStandbySaysItIsNotActive) {
  HoldMetrics m;
  MetricsSnapshot s;
  s.active = false;
  const std::string text = render_metrics(s, m);
  EXPECT_TRUE(has_line(text, "concierge_active 0")) << text;
  EXPECT_FALSE(has_line(text, "concierge_active 1")) << text;
}

}  // namespace
}  // namespace concierge::app
