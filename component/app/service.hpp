// SPDX-License-Identifier: MIT
#pragma once
// Service: the process (DESIGN §8). It builds the parts, wires them and runs the loop; each part
// owns its own state:
//   EventLoop         the signalfd, the eventfd and the poll a turn waits in (event_loop.hpp)
//   StreamSupervisor  the connection: connect/reconnect with backoff over component.hosts,
//                     keepalive, unconfirmed forwards (stream_supervisor.hpp)
//   PacedSender       probes and releases at their rates, release pings (paced_sender.hpp)
//   CoreBridge        stanzas into the core, its outbox out to the parts (core_bridge.hpp)
//   TurnCommit        the group commit of a turn and what waits for it (turn_commit.hpp)
//   ActiveStandby     the role on a shared store's lease (active_standby.hpp)
//   Calendars, Backup, ProcessStatus, MetricsListener
// Service owns the core (Router, TransparentWay, the store as the metrics observe it), the
// config as last reloaded, and the loop's own timers (core housekeeping, stopping, queueing
// the schedules at startup). It must not decide anything about a message (the core does), nor
// reach into a part's state: it calls the parts' verbs, in the order each turn needs.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <component/app/active_standby.hpp>
#include <component/app/backoff.hpp>
#include <component/app/backup.hpp>
#include <component/app/calendars.hpp>
#include <component/app/core_bridge.hpp>
#include <component/app/event_loop.hpp>
#include <component/app/lease_keeper.hpp>
#include <component/app/logger.hpp>
#include <component/app/metrics.hpp>
#include <component/app/metrics_listener.hpp>
#include <component/app/observed_store.hpp>
#include <component/app/paced_sender.hpp>
#include <component/app/process_status.hpp>
#include <component/app/stream_supervisor.hpp>
#include <component/app/turn_commit.hpp>
#include <component/core/router.hpp>
#include <component/core/store_port.hpp>
#include <component/core/transparent_way.hpp>
#include <config/config.hpp>

namespace concierge::app {

// Knobs of the loop that are not part of the config contract (tests shorten them).
struct LoopTimings {
  std::chrono::milliseconds keepalive_after{30000};    // idle stream → send a ping to the server
  std::chrono::milliseconds keepalive_timeout{15000};  // no answer → the stream is dead
  std::chrono::milliseconds tick_every{60000};         // core housekeeping
  std::chrono::milliseconds stop_grace{3000};          // SIGTERM: wait this long for </stream>
  Backoff backoff{};
};

// Concierge's process: the loop DESIGN §8 describes. It polls the component socket, a
// signalfd (SIGTERM/SIGINT stop, SIGHUP reloads) and an eventfd (work finished elsewhere),
// calls libstrophe only through ComponentConnection, and keeps every timer on
// CLOCK_MONOTONIC. The core sees each stanza with the wall-clock instant it arrived.
//
// Not copyable: `this` is captured by the parts' handlers.
class Service {
 public:
  // `config_path` is re-read on SIGHUP. The signals must already be blocked in every thread
  // (block_signals() before any thread starts).
  // `store` must outlive the service; it is committed once per loop turn (group commit).
  Service(config::Config config, std::string config_path, core::Store& store, Logger& logger,
          LoopTimings timings = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Runs until SIGTERM/SIGINT or request_stop(). Returns the process exit code: 0 after a
  // clean stop, 2 when the server refuses the component's identity at startup
  // (wrong secret, unknown domain) — retrying could not help.
  int run();

  // Thread-safe: wakes the loop through the eventfd and stops it.
  void request_stop();

  // SIGTERM, SIGINT and SIGHUP are delivered through the signalfd; SIGPIPE is ignored.
  static void block_signals() { EventLoop::block_signals(); }

  // Active/standby on a shared store (DESIGN §10, service_lease.cpp): from run() on, this
  // instance connects only while `keeper` holds the store's lease, and waits as a standby
  // otherwise. Call before run(); `keeper` must outlive the service. Without it (one instance)
  // the service is always active.
  void use_lease(LeaseKeeper& keeper);

 private:
  using Clock = std::chrono::steady_clock;

  // --- The loop (service_loop.cpp) --------------------------------------------------------
  // Waits for the next event and lets each part read what came; false when poll failed.
  bool wait();
  // Each part's timers, the core's, then the turn's commit.
  void turn(Clock::time_point now);
  std::chrono::milliseconds poll_timeout(Clock::time_point now) const;

  // --- The stream and the core (service.cpp) ----------------------------------------------
  void connect_now();  // unless standing by
  void on_connected();
  void on_disconnected(const xmpp::Disconnect& d);
  void on_admin(const core::Outbox::AdminRequest& request);  // reload or backup
  std::string render_metrics() const;                        // GET /metrics
  // Drops config_.users once the router has them (counted in config_users_).
  void forget_config_users();
  // Re-reads the config (SIGHUP, or the admin's reload); returns what happened, in words
  // (service_reload.cpp).
  std::string reload();

  // --- Active/standby (service_lease.cpp) -------------------------------------------------
  // Each turn: fence when the lease lapsed or a commit found it taken; take over a new epoch.
  void check_lease(Clock::time_point now);
  void take_over(std::int64_t epoch);
  // The router again from the store (what the active wrote), with the schedules kept.
  void reload_router();

  config::Config config_;         // without its users (forget_config_users)
  std::size_t config_users_ = 0;  // how many [users] it had
  std::string config_path_;
  core::Store& store_;
  Logger& log_;
  LoopTimings timings_;
  // The core writes holds through observed_store_, so the metrics see them (metrics.hpp).
  HoldMetrics hold_metrics_;
  ObservedStore observed_store_;
  core::Router router_;
  // The server extension's way in (DESIGN §10): diverts, reports, release answers and the
  // enrolled set go through it; it rewrites every outbox before it is sent.
  core::TransparentWay transparent_{router_.settings()};

  EventLoop loop_;
  ProcessStatus status_;
  StreamSupervisor stream_;
  PacedSender paced_;
  TurnCommit commit_;
  CoreBridge bridge_;
  Calendars calendars_;  // users' schedules: fetched, compiled, handed to router_
  Backup backup_;        // the admin's backup, off the loop
  ActiveStandby active_;
  std::unique_ptr<MetricsListener> metrics_;  // [metrics] listen; null when off

  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;
  std::optional<int> exit_code_;
  std::optional<Clock::time_point> schedules_at_;  // when to queue every schedule at startup
  std::optional<Clock::time_point> stop_deadline_;
  Clock::time_point next_tick_{};
  // Wall-clock jump detection: the offset between system and steady clocks.
  std::chrono::milliseconds wall_offset_{};
};

}  // namespace concierge::app
