// SPDX-License-Identifier: MIT
#include <component/app/systemd.hpp>

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace concierge::app {
namespace {

// STATUS= is one line: a newline would end the assignment early.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_every_ = std::chrono::milliseconds(std::max<std::uint64_t>(1, usec / 2000));
  }
}

void SystemdNotifier::ready(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + one_line(status)).c_str());
}

void SystemdNotifier::status(const std::string& status) {
  sd_notify(0, ("STATUS=" + one_line(status)).c_str());
}

void SystemdNotifier::reloading() { sd_notify(0, "RELOADING=1"); }

void SystemdNotifier::stopping() { sd_notify(0, "STOPPING=1"); }

void SystemdNotifier::watchdog() { sd_notify(0, "WATCHDOG=1"); }

}  // namespace concierge::app
