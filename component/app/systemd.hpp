// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace concierge::app {

// systemd's service notification protocol (sd_notify(3)), through libsystemd: readiness,
// status text, reload and stop, and the watchdog. Every call is a no-op when Concierge was not
// started by systemd with Type=notify (no NOTIFY_SOCKET), so tests and foreground runs are
// unaffected.
class SystemdNotifier {
 public:
  SystemdNotifier();

  void ready(const std::string& status);    // READY=1 and STATUS=
  void status(const std::string& status);   // STATUS=
  void reloading();                         // RELOADING=1 (ready() ends it)
  void stopping();                          // STOPPING=1
  void watchdog();                          // WATCHDOG=1

  // How often the loop must call watchdog(): half of WatchdogSec, or nullopt when the unit has
  // no watchdog.
  std::optional<std::chrono::milliseconds> watchdog_every() const { return watchdog_every_; }

 private:
  std::optional<std::chrono::milliseconds> watchdog_every_;
};

}  // namespace concierge::app
