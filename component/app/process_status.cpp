// SPDX-License-Identifier: MIT
#include <component/app/process_status.hpp>

namespace concierge::app {

void ProcessStatus::tell(const std::string& status) {
  status_ = status;
  if (!told_ready_) {
    told_ready_ = true;
    systemd_.ready(status);
  } else {
    systemd_.status(status);
  }
}

void ProcessStatus::watchdog(Clock::time_point now) {
  if (!systemd_.watchdog_every() || now < next_watchdog_) return;
  systemd_.watchdog();
  next_watchdog_ = now + *systemd_.watchdog_every();
}

std::optional<ProcessStatus::Clock::time_point> ProcessStatus::next_due() const {
  if (!systemd_.watchdog_every()) return std::nullopt;
  return next_watchdog_;
}

}  // namespace concierge::app
