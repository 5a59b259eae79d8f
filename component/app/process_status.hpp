// SPDX-License-Identifier: MIT
#pragma once
// ProcessStatus: what systemd hears of the process (Type=notify) — READY=1 once the first
// connection attempt ended either way (a server that is down must not hold up boot: Concierge
// reconnects by itself), STATUS= for the connection, RELOADING=1 around a reload, STOPPING=1,
// and WATCHDOG=1 from the loop.
// Owns: the SystemdNotifier, the status as last told, the watchdog's timer. Must not touch:
// anything it reports on.

#include <chrono>
#include <optional>
#include <string>

#include <component/app/systemd.hpp>

namespace concierge::app {

class ProcessStatus {
 public:
  using Clock = std::chrono::steady_clock;

  // STATUS= (with READY=1 the first time).
  void tell(const std::string& status);
  bool told_ready() const { return told_ready_; }
  // Around a reload once ready: RELOADING=1, then READY=1 with the status and `outcome`.
  void reloading() { systemd_.reloading(); }
  void reloaded(const std::string& outcome) { systemd_.ready(status_ + "; " + outcome); }
  void stopping() { systemd_.stopping(); }
  // Each turn: WATCHDOG=1 when due (the loop turns: Concierge is alive).
  void watchdog(Clock::time_point now);
  std::optional<Clock::time_point> next_due() const;

 private:
  SystemdNotifier systemd_;
  bool told_ready_ = false;
  std::string status_;  // the connection, as last told
  Clock::time_point next_watchdog_{};
};

}  // namespace concierge::app
