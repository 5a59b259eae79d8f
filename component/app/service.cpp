// SPDX-License-Identifier: MIT
// Service: building and wiring the parts; what a connect, a lost stream and an admin request
// mean for them; the metrics page. The loop is service_loop.cpp, active/standby
// service_lease.cpp, reload service_reload.cpp.
#include <component/app/service.hpp>

#include <malloc.h>

#include <component/app/wall_clock.hpp>

namespace concierge::app {

Service::Service(config::Config config, std::string config_path, core::Store& store, Logger& logger,
                 LoopTimings timings)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      store_(store),
      log_(logger),
      timings_(timings),
      observed_store_(store, hold_metrics_),
      router_(core::Settings::from_config(config_, CONCIERGE_VERSION), observed_store_),
      stream_(
          config_, logger, {timings.keepalive_after, timings.keepalive_timeout, timings.backoff},
          {[this] { on_connected(); }, [this](const xmpp::Disconnect& d) { on_disconnected(d); },
           [this](xmpp::Element&& stanza) { bridge_.on_stanza(std::move(stanza)); },
           [this](xmpp::Element&& top_level) { bridge_.on_too_deep(std::move(top_level)); }}),
      paced_(config_, stream_, logger),
      commit_(store, router_, transparent_, stream_, logger),
      bridge_({config_, router_, transparent_, hold_metrics_, stream_, paced_, commit_, logger},
              {[this](const std::string& jid) { calendars_.update(jid, false); },
               [this](const core::Outbox::AdminRequest& request) { on_admin(request); }}),
      calendars_(config_, router_, logger, bridge_.outbox(),
                 [this](core::Outbox& out) { bridge_.flush(out); }),
      backup_(store, [this] { loop_.wake(); }),
      active_(logger) {
  forget_config_users();
  wall_offset_ = wall_minus_steady();
  router_.scheduler().commits().watch();  // TurnCommit tells the core whether each turn's holds are durable
}

void Service::forget_config_users() {
  // The router's settings are the users' record from here on: [users] is not kept twice
  // (with a million users, the config's copy with its key origins is ~0.6 KB each).
  config_users_ = config_.users.size();
  config_.users = {};
  // The parse's freed memory (a large config's TOML tree, the users' copies) back to the system.
  malloc_trim(0);
}

Service::~Service() {
  backup_.wait();  // its thread wakes the loop when done
}

void Service::request_stop() {
  stop_requested_.store(true);
  loop_.wake();
}

void Service::connect_now() {
  stream_.cancel_reconnect();
  if (active_.shared()) {  // the lease is checked before every (re)connect
    check_lease(Clock::now());
    if (active_.standby()) {  // connects when it takes over; compiles the schedules meanwhile
      if (schedules_at_) schedules_at_ = Clock::now();
      return;
    }
    const auto& connection = stream_.connection();
    if (connection.connecting() || connection.connected()) return;  // the takeover connected
    if (!connection.disconnected()) {  // the stream of the last term is still closing
      stream_.reconnect_in(std::chrono::milliseconds(50));
      return;
    }
  }
  stream_.connect();
}

void Service::on_connected() {
  if (schedules_at_) schedules_at_ = Clock::now();  // now that the stream is up
  // Forwarded messages the last stream did not confirm go first, in order, with their ids —
  // except one whose sender has earlier messages to that target held (releases the cut stream
  // lost): it is held behind them, or it would overtake them (order per sender, DESIGN §2).
  const core::Instant now = wall_now();
  core::Outbox& out = bridge_.outbox();
  stream_.resend_unconfirmed([&](const UnconfirmedForwards::Kept& kept) {
    return router_.scheduler().hold_behind(kept.stanza, kept.received, now, out);
  });
  router_.connected(now, out);
  transparent_.connected(router_, now, out);  // the extensions' enrolled set first
  paced_.start_probes();
  bridge_.flush();
  status_.tell("connected to " + stream_.server() + " as " + config_.component.jid);
}

void Service::on_disconnected(const xmpp::Disconnect& d) {
  if (schedules_at_) schedules_at_ = Clock::now();  // the server is not there: compile anyway
  paced_.disconnected();
  hold_metrics_.releases_abandoned();
  router_.releaser().disconnected();
  transparent_.disconnected();
  if (stopping_ || active_.standby()) return;  // a standby connects when it takes over
  if (auto status = stream_.retry_later(d)) {
    status_.tell(*status);
  } else {
    exit_code_ = 2;  // the server refused the component's identity
  }
}

void Service::on_admin(const core::Outbox::AdminRequest& request) {
  if (request.kind == core::Outbox::AdminRequest::Kind::reload) {
    stream_.send_chat(request.reply_to, reload());
    return;
  }
  // The backup, on a thread of its own; answered when the copy is done (service_loop.cpp).
  if (backup_.running()) {
    stream_.send_chat(request.reply_to,
                      "A backup is already running; you will hear when it is done.");
    return;
  }
  store_.commit();  // the copy shows everything so far
  const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const std::string path = config_.store.path + ".backup-" + std::to_string(stamp);
  log_.info("backing up the store to " + path);
  backup_.start(path, request.reply_to);
}

// The numbers come from where they already live — the core's counters and queries, the
// parts' state, and HoldMetrics (fed by the holds the core writes) — at the moment of the
// scrape, in the loop's thread.
std::string Service::render_metrics() const {
  MetricsSnapshot s;
  const auto& stats = router_.stats();
  s.relayed = stats.relayed;
  s.released = stats.released;
  s.expired = stats.expired;
  s.urgent = stats.urgent;
  s.enrolled_by_config = router_.settings().enrolled.size();
  s.enrolled_by_themselves = router_.directory().self_enrolled_count();
  s.open_conversations = router_.presences().sessions().size();
  s.connected = stream_.connected();
  s.active = !active_.standby();
  s.calendar_fetch_failures = calendars_.failing_urls();
  s.now = wall_now();
  return app::render_metrics(s, hold_metrics_);
}

}  // namespace concierge::app
