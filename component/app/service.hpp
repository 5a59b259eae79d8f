// SPDX-License-Identifier: MIT
#pragma once
// Service: the process — it wires the core (Router), the calendars (Calendars), the backup
// (Backup), the connection and the metrics, and owns the loop and what crosses the stream:
// the pacing of probes and releases, unconfirmed forwards, keepalive and reconnecting. It must
// not decide anything about a message (the core does) nor fetch or compile calendars itself.

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <component/app/backoff.hpp>
#include <component/app/backup.hpp>
#include <component/app/calendars.hpp>
#include <component/app/lease_keeper.hpp>
#include <component/app/systemd.hpp>
#include <component/app/unconfirmed_forwards.hpp>
#include <component/app/logger.hpp>
#include <component/app/metrics.hpp>
#include <component/app/metrics_listener.hpp>
#include <component/app/observed_store.hpp>
#include <component/core/outbox.hpp>
#include <component/core/router.hpp>
#include <component/core/store_port.hpp>
#include <component/core/transparent_way.hpp>
#include <config/config.hpp>
#include <xmpp/component_connection.hpp>

namespace concierge::app {

// Knobs of the loop that are not part of the config contract (tests shorten them).
struct LoopTimings {
  std::chrono::milliseconds keepalive_after{30000};  // idle stream → send a ping to the server
  std::chrono::milliseconds keepalive_timeout{15000};  // no answer → the stream is dead
  std::chrono::milliseconds tick_every{60000};       // core housekeeping
  std::chrono::milliseconds stop_grace{3000};        // SIGTERM: wait this long for </stream>
  Backoff backoff{};
};

// Concierge's process: the loop DESIGN §8 describes. It polls the component socket, a
// signalfd (SIGTERM/SIGINT stop, SIGHUP reloads) and an eventfd (work finished elsewhere),
// calls libstrophe only through ComponentConnection, and keeps every timer on
// CLOCK_MONOTONIC. The core sees each stanza with the wall-clock instant it arrived.
//
// Not copyable: `this` is captured by the connection's handlers.
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
  static void block_signals();

  // Active/standby on a shared store (DESIGN §10, service_lease.cpp): from run() on, this
  // instance connects only while `keeper` holds the store's lease, and waits as a standby
  // otherwise. Call before run(); `keeper` must outlive the service. Without it (one instance)
  // the service is always active.
  void use_lease(LeaseKeeper& keeper);

 private:
  void connect_now();
  void on_connected();
  void on_disconnected(const xmpp::Disconnect& d);
  void on_stanza(xmpp::Element&& stanza);
  void on_too_deep(xmpp::Element&& top_level);  // nested deeper than the connection reads
  void flush(core::Outbox& out);
  // Re-reads the config (SIGHUP, or the admin's reload); returns what happened, in words.
  std::string reload();
  std::string reload_config();
  // The admin's backup, on a thread of its own; its outcome goes to `reply_to`.
  void start_backup(const std::string& reply_to);
  void wake();  // thread-safe: the loop polls again at once (the eventfd)
  void collect_backup();
  void send_chat(const std::string& to, const std::string& text);
  // A XEP-0199 ping to the server (keepalive; confirmation of releases, DESIGN §6).
  void send_ping(const std::string& id);
  // Held messages to `to` (bare or full JID) are still queued to go out.
  bool releasing_to(std::string_view to) const;
  // A forwarded message was given to the stream: kept until a ping answer (DESIGN §6).
  void keep_forwarded(const xmpp::Element& stanza, core::Instant received);
  void tell_status(const std::string& status);  // systemd's STATUS= (READY=1 the first time)
  void tell_privilege();  // once per run: whether the server granted presence access
  void keepalive(std::chrono::steady_clock::time_point now);
  void send_paced(std::chrono::steady_clock::time_point now);
  void send_releases(std::chrono::steady_clock::time_point now);
  void run_core_timers(std::chrono::steady_clock::time_point now);
  void drain_signals();
  std::string render_metrics() const;  // GET /metrics (service_metrics.cpp)
  // Drops config_.users once the router has them (counted in config_users_).
  void forget_config_users();
  std::chrono::milliseconds poll_timeout(std::chrono::steady_clock::time_point now) const;
  // Group commit of the turn's writes, then what may go out only after it (service_commit.cpp).
  void commit_turn();

  config::Config config_;  // without its users (forget_config_users)
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
  std::unique_ptr<MetricsListener> metrics_;  // [metrics] listen; null when off
  std::uint64_t refused_seen_ = 0;  // the core's refusals already counted by condition
  // Probes and announcements after connecting, sent at presence.probe_rate.
  std::deque<xmpp::Element> paced_;
  bool pace_more_ = false;  // the core has more users' probes for paced_ (Router::pace_more)
  // Held messages going out at release.rate; a ping after each batch confirms them.
  std::deque<core::Outbox::Release> releases_;
  std::map<std::string, std::vector<std::int64_t>> release_pings_;  // ping id → hold ids
  std::uint64_t release_ping_counter_ = 0;
  std::chrono::steady_clock::time_point next_release_{};
  // Messages forwarded at once, until a ping answer confirms them (DESIGN §6).
  UnconfirmedForwards forwards_;
  std::uint64_t forward_ping_counter_ = 0;
  // Notices that may go out only after the turn's commit (DESIGN §6).
  std::vector<xmpp::Element> after_commit_;
  core::Outbox outbox_;
  Calendars calendars_;  // users' schedules: fetched, compiled, handed to router_
  Backup backup_;        // the admin's backup, off the loop
  // systemd (Type=notify): READY=1 once the first connection attempt ended either way (a
  // server that is down must not hold up boot: Concierge reconnects by itself), STATUS= for
  // the connection, WATCHDOG=1 from the loop.
  SystemdNotifier systemd_;
  bool told_ready_ = false;
  std::string status_;  // the connection, as last told
  std::chrono::steady_clock::time_point next_watchdog_{};
  xmpp::ComponentConnection connection_;
  std::mt19937_64 random_{std::random_device{}()};

  int signal_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;
  bool ever_connected_ = false;
  std::optional<int> exit_code_;
  using SteadyTime = std::chrono::steady_clock::time_point;
  std::optional<SteadyTime> reconnect_at_;
  std::optional<SteadyTime> schedules_at_;  // when to queue every schedule at startup
  std::optional<SteadyTime> stop_deadline_;
  SteadyTime last_received_{};
  std::optional<SteadyTime> ping_sent_at_;
  std::optional<SteadyTime> privilege_check_at_;
  bool privilege_told_ = false;
  SteadyTime next_tick_{};
  std::uint64_t ping_counter_ = 0;
  SteadyTime next_paced_{};
  bool commit_failed_ = false;
  // Wall-clock jump detection: the offset between system and steady clocks.
  std::chrono::milliseconds wall_offset_{};
  // Which of config_.component.endpoints() the next connect uses (the next one after a failure).
  std::size_t endpoint_ = 0;

  // --- Active/standby (service_lease.cpp) ---------------------------------------------------
  bool standby() const { return lease_ != nullptr && lease_epoch_ == 0; }
  // Each turn: fence when the lease lapsed or a commit found it taken; take over a new epoch.
  void check_lease(SteadyTime now);
  void take_over(std::int64_t epoch);
  void fence(const std::string& why);
  // The router again from the store (what the active wrote), with the schedules kept.
  void reload_router();
  LeaseKeeper* lease_ = nullptr;
  std::int64_t lease_epoch_ = 0;  // the epoch this instance is active under; 0: standby
  std::int64_t last_epoch_ = 0;   // the newest epoch taken over (an epoch is taken over once)
  LeaseKeeper::State lease_seen_;  // as last logged
};

}  // namespace concierge::app
