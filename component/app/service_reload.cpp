// SPDX-License-Identifier: MIT
// Service: SIGHUP and the admin's reload — the config read again, what needs a restart kept
// as it is and named in the log (config_reload.hpp), the rest given to the core and the
// calendars (DESIGN §12).
#include <component/app/service.hpp>

#include <component/app/config_check.hpp>
#include <component/app/config_reload.hpp>
#include <component/app/wall_clock.hpp>

namespace concierge::app {

std::string Service::reload() {
  const bool ready = status_.told_ready();
  if (ready) status_.reloading();
  auto parsed = load_config(config_path_);
  std::string outcome;
  if (auto* errors = std::get_if<std::vector<config::Error>>(&parsed)) {
    for (const auto& e : *errors) log_.error("reload: " + e.to_string());
    log_.error("reload failed: the previous configuration stays in force");
    outcome = "Reload failed (" + std::to_string(errors->size()) +
              " problem(s), see the log): the previous configuration stays in force.";
  } else {
    config::Config next = std::get<config::Config>(std::move(parsed));
    // Keep what needs a restart as it is; take the rest (DESIGN §12).
    const std::vector<std::string> restart_only = keep_restart_only(next, config_);
    for (const auto& section : restart_only) {
      log_.warn("reload: changes to " + section + " take effect only after a restart");
    }
    config_ = std::move(next);
    log_.set_level(log_level(config_.log.level));
    calendars_.reconfigure();
    core::Outbox& out = bridge_.outbox();
    router_.reconfigure(core::Settings::from_config(config_, CONCIERGE_VERSION), wall_now(), out);
    transparent_.reconfigure(router_.settings());
    transparent_.enrolment_may_have_changed(router_, wall_now(), out);
    forget_config_users();
    bridge_.flush();
    schedules_at_.reset();
    calendars_.queue_all(true);  // hours, calendar files and URLs may have changed
    log_.info("reloaded " + config_path_ + ": " + std::to_string(config_users_) +
              " users enrolled by the config");
    outcome = "Reloaded: " + std::to_string(config_users_) + " users enrolled by the config" +
              (restart_only.empty() ? "." : "; some changes need a restart (see the log).");
  }
  if (ready) status_.reloaded(outcome);
  return outcome;
}

}  // namespace concierge::app
