// SPDX-License-Identifier: MIT
// Service: the loop (DESIGN §8) — one poll over the signalfd, the eventfd, the calendar worker,
// the component socket, the metrics listener and libcurl's descriptors; then each part's turn,
// the core's timers and the turn's group commit.
#include <component/app/service.hpp>

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include <component/app/wall_clock.hpp>

namespace concierge::app {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

void Service::run_core_timers(Clock::time_point now) {
  const auto wake = router_.next_wake();
  const bool due = wake && *wake <= wall_now();
  if (due || now >= next_tick_) {
    router_.tick(wall_now(), outbox_);
    flush(outbox_);
    if (now >= next_tick_) next_tick_ = now + timings_.tick_every;
  }
}

void Service::drain_signals() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGHUP) {
      (void)reload();
    } else {
      log_.info(std::string("stopping on ") + (info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM"));
      stop_requested_.store(true);
    }
  }
}

milliseconds Service::poll_timeout(Clock::time_point now) const {
  Clock::time_point next = now + milliseconds(1000);  // libstrophe's own timeouts, at most 1 s late
  auto earlier = [&](Clock::time_point t) { next = std::min(next, t); };
  if (reconnect_at_) earlier(*reconnect_at_);
  if (schedules_at_) earlier(*schedules_at_);
  // libstrophe opens the socket in its first run: look again soon rather than in a second.
  if (connection_.connecting() && connection_.socket_fd() < 0) earlier(now + milliseconds(10));
  if (stop_deadline_) earlier(*stop_deadline_);
  if (lease_epoch_ != 0) earlier(lease_->state().valid_until);  // fence on time
  if (connection_.connected() && !stopping_) {
    earlier(ping_sent_at_ ? *ping_sent_at_ + timings_.keepalive_timeout
                          : last_received_ + timings_.keepalive_after);
  }
  earlier(next_tick_);
  if (systemd_.watchdog_every()) earlier(next_watchdog_);
  if (!paced_.empty() && connection_.connected()) earlier(next_paced_);
  if (!releases_.empty() && connection_.connected()) earlier(next_release_);
  if (auto due = calendars_.next_due(now)) earlier(*due);
  if (auto wake = router_.next_wake()) {
    // The core speaks wall-clock time; the loop sleeps on the monotonic clock.
    earlier(now + std::chrono::ceil<milliseconds>(*wake - wall_now()));
  }
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(next - now));
}

int Service::run() {
  if (signal_fd_ < 0 || wake_fd_ < 0) {
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
    auto started = MetricsListener::start(config_.metrics.listen, [this] { return render_metrics(); });
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
  while (!exit_code_) {
    if (stop_requested_.load() && !stopping_) {
      stopping_ = true;
      systemd_.stopping();
      reconnect_at_.reset();
      if (connection_.disconnected()) break;
      if (connection_.connected()) {
        router_.disconnecting(outbox_);  // unavailable from every proxy with subscribers
        flush(outbox_);
      }
      connection_.disconnect();
      stop_deadline_ = Clock::now() + timings_.stop_grace;
    }
    if (stopping_ && (connection_.disconnected() || Clock::now() >= *stop_deadline_)) break;

    calendars_.compile_next();
    const auto fetch_fds = calendars_.fetcher().fds();
    std::vector<pollfd> fds(5 + fetch_fds.size());
    nfds_t count = 0;
    fds[count++] = {signal_fd_, POLLIN, 0};
    fds[count++] = {wake_fd_, POLLIN, 0};
    if (calendars_.worker_fd() >= 0) fds[count++] = {calendars_.worker_fd(), POLLIN, 0};
    const int sock = connection_.socket_fd();
    if (sock >= 0) {
      fds[count++] = {sock, static_cast<short>(POLLIN | (connection_.wants_write() ? POLLOUT : 0)), 0};
    }
    if (metrics_) fds[count++] = {metrics_->fd(), POLLIN, 0};
    const nfds_t first_fetch = count;
    for (const auto& f : fetch_fds) fds[count++] = {f.fd, f.events, 0};
    int timeout = static_cast<int>(poll_timeout(Clock::now()).count());
    if (auto t = calendars_.fetcher().timeout()) timeout = std::min(timeout, static_cast<int>(t->count()));
    if (auto t = metrics_ ? metrics_->timeout() : std::nullopt) {
      timeout = std::min(timeout, static_cast<int>(t->count()));
    }
    const int ready = ::poll(fds.data(), count, timeout);
    if (ready < 0 && errno != EINTR) {
      log_.error(std::string("poll failed: ") + std::strerror(errno));
      return 1;
    }
    if (fds[0].revents & POLLIN) drain_signals();
    check_lease(Clock::now());  // before anything goes out: a stopped process may resume late
    if (fds[1].revents & POLLIN) {
      std::uint64_t value;
      [[maybe_unused]] auto n = ::read(wake_fd_, &value, sizeof value);
    }
    collect_backup();
    if (metrics_) metrics_->run();  // scrapes: answered from this turn's numbers
    // libstrophe reads, writes and runs its connect/disconnect timeouts in here.
    if (!connection_.disconnected()) connection_.run_once();
    // libcurl: the ready sockets, then its timers; results go to the calendar worker.
    for (nfds_t i = first_fetch; i < count; ++i) {
      if (fds[i].revents) calendars_.fetcher().on_ready(fds[i].fd, fds[i].revents);
    }
    if (auto t = calendars_.fetcher().timeout(); t && t->count() <= 0) calendars_.fetcher().on_timeout();
    calendars_.collect_fetches(Clock::now());

    const auto now = Clock::now();
    const auto offset = wall_minus_steady();
    if (std::chrono::abs(offset - wall_offset_) > std::chrono::seconds(5)) {
      log_.info("the wall clock jumped by " +
                std::to_string((offset - wall_offset_).count() / 1000) +
                " s: re-deciding schedule boundaries");
      wall_offset_ = offset;
      next_tick_ = now;  // the core re-evaluates every hold against the new time below
    }
    if (reconnect_at_ && now >= *reconnect_at_ && !stopping_) connect_now();
    keepalive(now);
    if (privilege_check_at_ && now >= *privilege_check_at_) tell_privilege();
    if (systemd_.watchdog_every() && now >= next_watchdog_) {
      systemd_.watchdog();  // the loop turns: Concierge is alive
      next_watchdog_ = now + *systemd_.watchdog_every();
    }
    send_paced(now);
    Calendars::Queue queue = schedules_at_ ? Calendars::Queue::none : Calendars::Queue::daily;
    if (schedules_at_ && now >= *schedules_at_) {
      schedules_at_.reset();
      queue = Calendars::Queue::all_now;
    }
    calendars_.turn(now, queue);
    if (!standby()) run_core_timers(now);  // a standby's router only waits to be replaced
    send_releases(now);
    if (connection_.connected() && forwards_.wants_ping()) {
      send_ping("forward-" + std::to_string(++forward_ping_counter_));
    }
    if (!standby()) commit_turn();
    check_lease(Clock::now());  // a commit may have found the lease taken
  }
  const auto& s = router_.stats();
  log_.info("stopped: relayed " + std::to_string(s.relayed) + ", refused " +
            std::to_string(s.refused) + ", answered " + std::to_string(s.answered));
  return exit_code_.value_or(0);
}

}  // namespace concierge::app
