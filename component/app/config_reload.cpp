// SPDX-License-Identifier: MIT
#include <component/app/config_reload.hpp>

namespace concierge::app {

std::vector<std::string> keep_restart_only(config::Config& next, const config::Config& current) {
  std::vector<std::string> restart_only;
  if (next.component.jid != current.component.jid ||
      next.component.host != current.component.host ||
      next.component.port != current.component.port ||
      next.component.hosts != current.component.hosts ||
      next.component.secret != current.component.secret) {
    restart_only.emplace_back("[component]");
  }
  if (next.served.domains != current.served.domains) restart_only.emplace_back("[served]");
  if (next.store.path != current.store.path || next.store.url != current.store.url ||
      next.store.password != current.store.password) {
    restart_only.emplace_back("[store]");
  }
  if (next.session.idle_after != current.session.idle_after ||
      next.session.max_concurrent != current.session.max_concurrent) {
    restart_only.emplace_back("[session]");
  }
  if (next.notice.before_end != current.notice.before_end ||
      next.notice.language != current.notice.language) {
    restart_only.emplace_back("[notice]");
  }
  if (next.release.rate != current.release.rate ||
      next.release.confirm_window != current.release.confirm_window) {
    restart_only.emplace_back("[release]");
  }
  if (next.presence.probe_rate != current.presence.probe_rate) {
    restart_only.emplace_back("[presence]");
  }
  if (next.metrics.listen != current.metrics.listen) restart_only.emplace_back("[metrics]");
  next.component = current.component;
  next.served = current.served;
  next.store = current.store;
  next.session = current.session;
  next.notice = current.notice;
  next.release = current.release;
  next.presence = current.presence;
  next.metrics = current.metrics;
  return restart_only;
}

}  // namespace concierge::app
