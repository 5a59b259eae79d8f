// SPDX-License-Identifier: MIT
// Service: the loop (DESIGN §8) — one poll over the signalfd, the eventfd, the calendar worker,
// the component socket, the metrics listener and libcurl's descriptors; then each part's turn,
// the core's timers and the turn's group commit.
#include <component/app/service.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <component/app/wall_clock.hpp>

namespace concierge::app {
namespace {

using std::chrono::milliseconds;

}  // namespace

milliseconds Service::poll_timeout(Clock::time_point now) const {
  Clock::time_point next = now + milliseconds(1000);  // libstrophe's own timeouts, at most 1 s late
  auto earlier = [&](std::optional<Clock::time_point> t) {
    if (t) next = std::min(next, *t);
  };
  earlier(stream_.next_due(now, stopping_));
  earlier(schedules_at_);
  earlier(stop_deadline_);
  earlier(active_.valid_until());  // fence on time
  earlier(next_tick_);
  earlier(status_.next_due());
  earlier(paced_.next_due());
  earlier(calendars_.next_due(now));
  if (auto wake = router_.scheduler().next_wake()) {
    // The core speaks wall-clock time; the loop sleeps on the monotonic clock.
    earlier(now + std::chrono::ceil<milliseconds>(*wake - wall_now()));
  }
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(next - now));
}

int Service::run() {
  if (!loop_.ready()) {
    log_.error(std::string("cannot create the loop's descriptors: ") + std::strerror(errno));
    return 1;
  }
  log_.info("Concierge " CONCIERGE_VERSION " starting as " + config_.component.jid + " for " +
            std::to_string(config_.served.domains.size()) + " served domain(s), " +
            std::to_string(config_users_) + " user(s) from the config");
  next_tick_ = Clock::now() + timings_.tick_every;
  // Forked now, while Concierge has no other thread (libcurl's resolver and the backup start
  // threads later): see calendar_worker.hpp.
  calendars_.start_worker();
  // After the fork: the worker must not inherit the listening socket.
  if (!config_.metrics.listen.empty()) {
    auto started =
        MetricsListener::start(config_.metrics.listen, [this] { return render_metrics(); });
    if (auto* why = std::get_if<std::string>(&started)) {
      log_.error("metrics.listen: " + *why);
      return 1;
    }
    metrics_ = std::get<std::unique_ptr<MetricsListener>>(std::move(started));
    log_.info("metrics at http://" + config_.metrics.listen + "/metrics");
  }
  // Connect first: the schedules are queued once the first attempt ended either way (or after
  // 5 s), so that a million users' schedules do not hold up the handshake.
  schedules_at_ = Clock::now() + std::chrono::seconds(5);
  connect_now();
  auto& connection = stream_.connection();
  while (!exit_code_) {
    if (stop_requested_.load() && !stopping_) {
      stopping_ = true;
      status_.stopping();
      stream_.cancel_reconnect();
      if (connection.disconnected()) break;
      if (connection.connected()) {
        router_.presences().disconnecting(bridge_.outbox());  // unavailable from every proxy with subscribers
        bridge_.flush();
      }
      connection.disconnect();
      stop_deadline_ = Clock::now() + timings_.stop_grace;
    }
    if (stopping_ && (connection.disconnected() || Clock::now() >= *stop_deadline_)) break;
    if (!wait()) return 1;
    turn(Clock::now());
  }
  const auto& s = router_.stats();
  log_.info("stopped: relayed " + std::to_string(s.relayed) + ", refused " +
            std::to_string(s.refused) + ", answered " + std::to_string(s.answered));
  return exit_code_.value_or(0);
}

bool Service::wait() {
  calendars_.compile_next();
  const auto fetch_fds = calendars_.fetcher().fds();
  std::vector<pollfd> fds;
  fds.reserve(5 + fetch_fds.size());
  if (calendars_.worker_fd() >= 0) fds.push_back({calendars_.worker_fd(), POLLIN, 0});
  auto& connection = stream_.connection();
  const int sock = connection.socket_fd();
  if (sock >= 0) {
    fds.push_back({sock, static_cast<short>(POLLIN | (connection.wants_write() ? POLLOUT : 0)), 0});
  }
  if (metrics_) fds.push_back({metrics_->fd(), POLLIN, 0});
  const std::size_t first_fetch = fds.size();
  for (const auto& f : fetch_fds) fds.push_back({f.fd, f.events, 0});
  milliseconds timeout = poll_timeout(Clock::now());
  if (auto t = calendars_.fetcher().timeout())
    timeout = std::min(timeout, milliseconds(t->count()));
  if (auto t = metrics_ ? metrics_->timeout() : std::nullopt) {
    timeout = std::min(timeout, milliseconds(t->count()));
  }
  const EventLoop::Woken woken = loop_.wait(fds, timeout);
  if (woken.failed) {
    log_.error(std::string("poll failed: ") + std::strerror(errno));
    return false;
  }
  for (const int signal : woken.signals) {
    if (signal == SIGHUP) {
      (void)reload();
    } else {
      log_.info(std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
      stop_requested_.store(true);
    }
  }
  check_lease(Clock::now());  // before anything goes out: a stopped process may resume late
  if (auto done = backup_.take_done()) {
    log_.info(done->second);
    stream_.send_chat(done->first, done->second);
  }
  if (metrics_) metrics_->run();  // scrapes: answered from this turn's numbers
  // libstrophe reads, writes and runs its connect/disconnect timeouts in here.
  if (!connection.disconnected()) connection.run_once();
  // libcurl: the ready sockets, then its timers; results go to the calendar worker.
  for (std::size_t i = first_fetch; i < fds.size(); ++i) {
    if (fds[i].revents) calendars_.fetcher().on_ready(fds[i].fd, fds[i].revents);
  }
  if (auto t = calendars_.fetcher().timeout(); t && t->count() <= 0)
    calendars_.fetcher().on_timeout();
  calendars_.collect_fetches(Clock::now());
  return true;
}

void Service::turn(Clock::time_point now) {
  const auto offset = wall_minus_steady();
  if (std::chrono::abs(offset - wall_offset_) > std::chrono::seconds(5)) {
    log_.info("the wall clock jumped by " + std::to_string((offset - wall_offset_).count() / 1000) +
              " s: re-deciding schedule boundaries");
    wall_offset_ = offset;
    next_tick_ = now;  // the core re-evaluates every hold against the new time below
  }
  if (stream_.reconnect_due(now) && !stopping_) connect_now();
  stream_.keepalive(now, stopping_);
  if (stream_.privilege_check_due(now) && !router_.presences().subscriptions().presence_privilege()) {
    // When granted, the router logged "the server grants …".
    log_.info(
        "the server grants no presence access (XEP-0356): Concierge sees the presence only "
        "of users who accepted its subscription; the server snippets of config/deploy/ "
        "show the grant");
  }
  status_.watchdog(now);
  paced_.send_probes(now, [this](std::size_t budget) {
    core::Outbox& out = bridge_.outbox();
    bool more = true;
    while (more && out.paced.empty()) more = router_.presences().pace_more(budget, out);
    bridge_.flush();
    return more;
  });
  Calendars::Queue queue = schedules_at_ ? Calendars::Queue::none : Calendars::Queue::daily;
  if (schedules_at_ && now >= *schedules_at_) {
    schedules_at_.reset();
    queue = Calendars::Queue::all_now;
  }
  calendars_.turn(now, queue);
  if (!active_.standby()) {  // the core's timers; a standby's router only waits to be replaced
    const auto wake = router_.scheduler().next_wake();
    if ((wake && *wake <= wall_now()) || now >= next_tick_) {
      router_.tick(wall_now(), bridge_.outbox());
      bridge_.flush();
      if (now >= next_tick_) next_tick_ = now + timings_.tick_every;
    }
  }
  paced_.send_releases(now);
  stream_.ping_forwards();
  if (!active_.standby()) {
    commit_.commit(bridge_.outbox());
    bridge_.flush();
  }
  check_lease(Clock::now());  // a commit may have found the lease taken
}

}  // namespace concierge::app
