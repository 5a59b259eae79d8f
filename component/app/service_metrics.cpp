// SPDX-License-Identifier: MIT
// Service: what GET /metrics shows. The numbers come from where they already live — the core's
// counters and queries, the loop's own state, and HoldMetrics (fed by the holds the core
// writes) — at the moment of the scrape, in the loop's thread.
#include <component/app/service.hpp>

namespace concierge::app {

std::string Service::render_metrics() const {
  MetricsSnapshot s;
  const auto& stats = router_.stats();
  s.relayed = stats.relayed;
  s.released = stats.released;
  s.expired = stats.expired;
  s.urgent = stats.urgent;
  s.enrolled_by_config = router_.enrolled_by_config();
  s.enrolled_by_themselves = router_.enrolled_by_themselves();
  s.open_conversations = router_.open_conversations();
  s.connected = connection_.connected();
  s.active = !standby();
  s.calendar_fetch_failures = calendars_.failing_urls();
  s.now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return app::render_metrics(s, hold_metrics_);
}

}  // namespace concierge::app
