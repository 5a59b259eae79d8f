// SPDX-License-Identifier: MIT
// Service: SIGHUP and the admin's reload — the config read again, what needs a restart kept
// as it is and named in the log, the rest given to the core and the calendars (DESIGN §12).
#include <component/app/service.hpp>

#include <component/app/config_check.hpp>
#include <component/app/wall_clock.hpp>

namespace concierge::app {

std::string Service::reload() {
  if (!told_ready_) return reload_config();
  systemd_.reloading();
  std::string outcome = reload_config();
  systemd_.ready(status_ + "; " + outcome);
  return outcome;
}

std::string Service::reload_config() {
  auto parsed = load_config(config_path_);
  if (auto* errors = std::get_if<std::vector<config::Error>>(&parsed)) {
    for (const auto& e : *errors) log_.error("reload: " + e.to_string());
    log_.error("reload failed: the previous configuration stays in force");
    return "Reload failed (" + std::to_string(errors->size()) +
           " problem(s), see the log): the previous configuration stays in force.";
  }
  config::Config next = std::get<config::Config>(std::move(parsed));
  std::vector<std::string> restart_only;
  if (next.component.jid != config_.component.jid || next.component.host != config_.component.host ||
      next.component.port != config_.component.port || next.component.hosts != config_.component.hosts ||
      next.component.secret != config_.component.secret) {
    restart_only.emplace_back("[component]");
  }
  if (next.served.domains != config_.served.domains) restart_only.emplace_back("[served]");
  if (next.store.path != config_.store.path || next.store.url != config_.store.url ||
      next.store.password != config_.store.password) {
    restart_only.emplace_back("[store]");
  }
  if (next.session.idle_after != config_.session.idle_after ||
      next.session.max_concurrent != config_.session.max_concurrent) {
    restart_only.emplace_back("[session]");
  }
  if (next.notice.before_end != config_.notice.before_end ||
      next.notice.language != config_.notice.language) {
    restart_only.emplace_back("[notice]");
  }
  if (next.release.rate != config_.release.rate ||
      next.release.confirm_window != config_.release.confirm_window) {
    restart_only.emplace_back("[release]");
  }
  if (next.presence.probe_rate != config_.presence.probe_rate) restart_only.emplace_back("[presence]");
  if (next.metrics.listen != config_.metrics.listen) restart_only.emplace_back("[metrics]");
  // Keep what needs a restart as it is; take the rest (DESIGN §12).
  next.component = config_.component;
  next.served = config_.served;
  next.store = config_.store;
  next.session = config_.session;
  next.notice = config_.notice;
  next.release = config_.release;
  next.presence = config_.presence;
  next.metrics = config_.metrics;
  for (const auto& section : restart_only) {
    log_.warn("reload: changes to " + section + " take effect only after a restart");
  }
  config_ = std::move(next);
  log_.set_level(log_level(config_.log.level));
  calendars_.reconfigure();
  router_.reconfigure(core::Settings::from_config(config_, CONCIERGE_VERSION), wall_now(), outbox_);
  transparent_.reconfigure(router_.settings());
  transparent_.enrolment_may_have_changed(router_, wall_now(), outbox_);
  forget_config_users();
  flush(outbox_);
  schedules_at_.reset();
  calendars_.queue_all(true);  // hours, calendar files and URLs may have changed
  log_.info("reloaded " + config_path_ + ": " + std::to_string(config_users_) +
            " users enrolled by the config");
  return "Reloaded: " + std::to_string(config_users_) + " users enrolled by the config" +
         (restart_only.empty() ? "." : "; some changes need a restart (see the log).");
}

}  // namespace concierge::app
