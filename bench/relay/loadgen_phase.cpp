// SPDX-License-Identifier: MIT
// The load generator's phases — windowed saturation, paced latency — and their statistics (see
// loadgen.hpp).
#include <bench/relay/loadgen.hpp>

#include <algorithm>
#include <cstdio>

namespace loadgen {

void start_phase(Run& run, char tag, long count, int routes, long chunk) {
  run.phase = Phase{};
  run.phase.tag = tag;
  run.phase.routes = routes;
  run.phase.chunk = std::max(1L, chunk);
  run.phase.sent_ns.assign(static_cast<std::size_t>(count), 0);
  run.phase.latency_ns.assign(static_cast<std::size_t>(count), -1);
  run.phase.last_receive_ns = now_ns();
}

// Sends `count` messages keeping at most `window` outstanding; returns false on a stall, a lost
// session, the global deadline or any bounce. Outstanding = sent - received - bounced, so a
// silently lost message shrinks the window for good: the stall timeout ends such a phase.
bool run_windowed(Run& run, long count, long window) {
  long sent = 0;
  const std::int64_t stall = static_cast<std::int64_t>(run.opt.stall_seconds * kNsPerSec);
  while (run.phase.settled() < count) {
    const std::int64_t t = now_ns();
    if (t > run.deadline_ns || any_ended(run) || t - run.phase.last_receive_ns > stall) {
      return false;
    }
    bool queued = false;
    while (sent < count && sent - run.phase.settled() < window) {
      send_message(run, sent++);
      queued = true;
    }
    if (queued) xmpp_run_once(run.ctx, 0);  // write now rather than after the next poll
    pump(run, t + 100 * kNsPerMs);
  }
  return run.phase.bounced == 0;
}

// Sends `count` messages at `rate` per second (open loop: late sends go out at once), then
// waits for the stragglers.
bool run_paced(Run& run, long count, long rate) {
  const std::int64_t start = now_ns();
  const std::int64_t stall = static_cast<std::int64_t>(run.opt.stall_seconds * kNsPerSec);
  long sent = 0;
  std::int64_t last_send = start;
  while (run.phase.settled() < count) {
    const std::int64_t t = now_ns();
    if (t > run.deadline_ns || any_ended(run)) return false;
    if (sent == count && t - std::max(last_send, run.phase.last_receive_ns) > stall) return false;
    bool queued = false;
    while (sent < count && start + sent * kNsPerSec / rate <= t) {
      send_message(run, sent++);
      queued = true;
      last_send = t;
    }
    if (queued) xmpp_run_once(run.ctx, 0);
    const std::int64_t next = sent < count ? start + sent * kNsPerSec / rate : t + 100 * kNsPerMs;
    pump(run, next);
  }
  return run.phase.bounced == 0;
}

double percentile_ms(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]) / kNsPerMs;
}

// The latencies of the messages of `route` (0-based) that arrived, sorted.
std::vector<std::int64_t> sorted_latencies(const Phase& ph, int route) {
  std::vector<std::int64_t> v;
  v.reserve(static_cast<std::size_t>(ph.received));
  for (std::size_t i = 0; i < ph.latency_ns.size(); ++i) {
    if (ph.latency_ns[i] >= 0 && ph.route_of(static_cast<long>(i)) == route) {
      v.push_back(ph.latency_ns[i]);
    }
  }
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace loadgen
