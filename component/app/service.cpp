// SPDX-License-Identifier: MIT
#include <component/app/service.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include <component/app/redact.hpp>

namespace concierge::app {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

core::Instant wall_now() {
  return std::chrono::time_point_cast<milliseconds>(std::chrono::system_clock::now());
}

milliseconds wall_minus_steady() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch()) -
         std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch());
}

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string fatal_reason(const xmpp::Disconnect& d, const std::string& domain) {
  switch (d.cause) {
    case xmpp::DisconnectCause::not_authorized:
      return "the server refused the component secret (not-authorized): check component.secret "
             "against the server's secret for " + domain;
    case xmpp::DisconnectCause::host_unknown:
      return "the server does not know the component domain " + domain +
             " (host-unknown): register it in the server's config, e.g. Prosody: Component \"" +
             domain + "\"";
    case xmpp::DisconnectCause::conflict:
      return "another component is already connected as " + domain + " (conflict)";
    default:
      return {};
  }
}

}  // namespace

void Service::block_signals() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

Service::Service(config::Config config, std::string config_path, Logger& logger,
                 LoopTimings timings)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      log_(logger),
      timings_(timings),
      router_(core::Settings::from_config(config_, CONCIERGE_VERSION)),
      connection_(xmpp::ComponentConnection::Handlers{
          [this] { on_connected(); },
          [this](const xmpp::Disconnect& d) { on_disconnected(d); },
          [this](xmpp::Element&& stanza) { on_stanza(std::move(stanza)); },
          [this](std::string_view line) { log_.warn(std::string("libstrophe: ").append(line)); },
      }) {
  sigset_t set = handled_signals();
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  wall_offset_ = wall_minus_steady();
}

Service::~Service() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Service::request_stop() {
  stop_requested_.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Service::connect_now() {
  reconnect_at_.reset();
  xmpp::ComponentSettings s;
  s.host = config_.component.host;
  s.port = config_.component.port;
  s.domain = config_.component.jid;
  s.secret = config_.component.secret;
  log_.debug("connecting to " + s.host + ":" + std::to_string(s.port));
  connection_.connect(s);  // a failure at once arrives through on_disconnected
}

void Service::on_connected() {
  ever_connected_ = true;
  timings_.backoff.reset();
  last_received_ = Clock::now();
  ping_sent_at_.reset();
  log_.info("connected to " + config_.component.host + ":" +
            std::to_string(config_.component.port) + " as " + config_.component.jid);
}

void Service::on_disconnected(const xmpp::Disconnect& d) {
  ping_sent_at_.reset();
  if (stopping_) return;
  const std::string fatal = fatal_reason(d, config_.component.jid);
  if (!fatal.empty() && !ever_connected_) {
    log_.error(fatal);
    exit_code_ = 2;
    return;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto delay = timings_.backoff.next(uniform(random_));
  std::string why = !fatal.empty() ? fatal : std::string(xmpp::to_string(d.cause));
  if (!d.detail.empty() && fatal.empty()) why += " (" + d.detail + ")";
  log_.warn((d.was_connected ? "lost the connection: " : "could not connect: ") + why +
            "; retrying in " + std::to_string(delay.count()) + " ms");
  reconnect_at_ = Clock::now() + delay;
}

void Service::on_stanza(xmpp::Element&& stanza) {
  last_received_ = Clock::now();
  // Answers to our keepalive pings belong to the loop, not to the core.
  if (stanza.name == "iq" && stanza.attr("id").starts_with("keepalive-")) {
    ping_sent_at_.reset();
    return;
  }
  if (log_.enabled(LogLevel::debug)) log_.debug("in: " + redacted_xml(stanza));
  router_.handle(stanza, wall_now(), outbox_);
  flush(outbox_);
}

void Service::flush(core::Outbox& out) {
  for (const auto& line : out.logs) log_.log(line.level, line.text);
  for (const auto& stanza : out.stanzas) {
    if (log_.enabled(LogLevel::debug)) log_.debug("out: " + redacted_xml(stanza));
    connection_.send(stanza);
  }
  out.clear();
}

void Service::keepalive(Clock::time_point now) {
  if (!connection_.connected() || stopping_) return;
  if (ping_sent_at_) {
    if (now - *ping_sent_at_ >= timings_.keepalive_timeout) {
      log_.warn("the server did not answer a ping for " +
                std::to_string(timings_.keepalive_timeout.count() / 1000) +
                " s: the stream is dead, reconnecting");
      ping_sent_at_.reset();
      connection_.disconnect();
    }
    return;
  }
  if (now - last_received_ >= timings_.keepalive_after) {
    const std::string server =
        config_.served.domains.empty() ? config_.component.jid : config_.served.domains.front();
    xmpp::Element ping = xmpp::make("iq", {{"type", "get"},
                                           {"from", config_.component.jid},
                                           {"to", server},
                                           {"id", "keepalive-" + std::to_string(++ping_counter_)}});
    ping.add_child(xmpp::make("ping", {{"xmlns", "urn:xmpp:ping"}}));
    connection_.send(ping);
    ping_sent_at_ = now;
  }
}

void Service::reload() {
  auto parsed = config::parse_file(config_path_);
  if (auto* errors = std::get_if<std::vector<config::Error>>(&parsed)) {
    for (const auto& e : *errors) log_.error("reload: " + e.to_string());
    log_.error("reload failed: the previous configuration stays in force");
    return;
  }
  config::Config next = std::get<config::Config>(std::move(parsed));
  std::vector<std::string> restart_only;
  if (next.component.jid != config_.component.jid || next.component.host != config_.component.host ||
      next.component.port != config_.component.port ||
      next.component.secret != config_.component.secret) {
    restart_only.emplace_back("[component]");
  }
  if (next.served.domains != config_.served.domains) restart_only.emplace_back("[served]");
  if (next.store.path != config_.store.path) restart_only.emplace_back("[store]");
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
  // Keep what needs a restart as it is; take the rest (DESIGN §12).
  next.component = config_.component;
  next.served = config_.served;
  next.store = config_.store;
  next.session = config_.session;
  next.notice = config_.notice;
  next.release = config_.release;
  next.presence = config_.presence;
  for (const auto& section : restart_only) {
    log_.warn("reload: changes to " + section + " take effect only after a restart");
  }
  config_ = std::move(next);
  log_.set_level(config_.log.level == config::LogLevel::error  ? LogLevel::error
                 : config_.log.level == config::LogLevel::warn ? LogLevel::warn
                 : config_.log.level == config::LogLevel::info ? LogLevel::info
                                                               : LogLevel::debug);
  router_.reconfigure(core::Settings::from_config(config_, CONCIERGE_VERSION));
  log_.info("reloaded " + config_path_ + ": " + std::to_string(config_.users.size()) +
            " users enrolled by the config");
}

void Service::drain_signals() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGHUP) {
      reload();
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
  if (stop_deadline_) earlier(*stop_deadline_);
  if (connection_.connected() && !stopping_) {
    earlier(ping_sent_at_ ? *ping_sent_at_ + timings_.keepalive_timeout
                          : last_received_ + timings_.keepalive_after);
  }
  earlier(next_tick_);
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(next - now));
}

int Service::run() {
  if (signal_fd_ < 0 || wake_fd_ < 0) {
    log_.error(std::string("cannot create the loop's descriptors: ") + std::strerror(errno));
    return 1;
  }
  log_.info("Concierge " CONCIERGE_VERSION " starting as " + config_.component.jid + " for " +
            std::to_string(config_.served.domains.size()) + " served domain(s), " +
            std::to_string(config_.users.size()) + " user(s) from the config");
  next_tick_ = Clock::now() + timings_.tick_every;
  connect_now();
  while (!exit_code_) {
    if (stop_requested_.load() && !stopping_) {
      stopping_ = true;
      reconnect_at_.reset();
      if (connection_.disconnected()) break;
      connection_.disconnect();
      stop_deadline_ = Clock::now() + timings_.stop_grace;
    }
    if (stopping_ && (connection_.disconnected() || Clock::now() >= *stop_deadline_)) break;

    pollfd fds[3];
    nfds_t count = 0;
    fds[count++] = {signal_fd_, POLLIN, 0};
    fds[count++] = {wake_fd_, POLLIN, 0};
    const int sock = connection_.socket_fd();
    if (sock >= 0) {
      fds[count++] = {sock, static_cast<short>(POLLIN | (connection_.wants_write() ? POLLOUT : 0)), 0};
    }
    const int timeout = static_cast<int>(poll_timeout(Clock::now()).count());
    const int ready = ::poll(fds, count, timeout);
    if (ready < 0 && errno != EINTR) {
      log_.error(std::string("poll failed: ") + std::strerror(errno));
      return 1;
    }
    if (fds[0].revents & POLLIN) drain_signals();
    if (fds[1].revents & POLLIN) {
      std::uint64_t value;
      [[maybe_unused]] auto n = ::read(wake_fd_, &value, sizeof value);
    }
    // libstrophe reads, writes and runs its connect/disconnect timeouts in here.
    if (!connection_.disconnected()) connection_.run_once();

    const auto now = Clock::now();
    const auto offset = wall_minus_steady();
    if (std::chrono::abs(offset - wall_offset_) > std::chrono::seconds(5)) {
      log_.info("the wall clock jumped by " +
                std::to_string((offset - wall_offset_).count() / 1000) + " s");
      wall_offset_ = offset;
    }
    if (reconnect_at_ && now >= *reconnect_at_ && !stopping_) connect_now();
    keepalive(now);
    if (now >= next_tick_) {
      router_.tick(wall_now());
      next_tick_ = now + timings_.tick_every;
    }
  }
  const auto& s = router_.stats();
  log_.info("stopped: relayed " + std::to_string(s.relayed) + ", refused " +
            std::to_string(s.refused) + ", answered " + std::to_string(s.answered));
  return exit_code_.value_or(0);
}

}  // namespace concierge::app
