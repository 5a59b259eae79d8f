// SPDX-License-Identifier: MIT
#include <component/app/service.hpp>

#include <malloc.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>

#include <component/app/calendar_file.hpp>
#include <component/app/config_check.hpp>
#include <component/app/redact.hpp>
#include <config/endpoint.hpp>

namespace concierge::app {

namespace {
// The RFC 6120 condition of an error stanza Concierge sends ("undefined-condition" if none).
std::string error_condition(const xmpp::Element& stanza) {
  for (const auto& child : stanza.children) {
    if (child.name != "error") continue;
    for (const auto& c : child.children) {
      if (c.attr("xmlns") == "urn:ietf:params:xml:ns:xmpp-stanzas" && c.name != "text") {
        return c.name;
      }
    }
  }
  return "undefined-condition";
}
}  // namespace
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

Service::Service(config::Config config, std::string config_path, core::Store& store,
                 Logger& logger, LoopTimings timings)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      store_(store),
      log_(logger),
      timings_(timings),
      observed_store_(store, hold_metrics_),
      router_(core::Settings::from_config(config_, CONCIERGE_VERSION), observed_store_),
      calendars_(config_, router_, logger, outbox_, [this](core::Outbox& out) { flush(out); }),
      connection_(xmpp::ComponentConnection::Handlers{
          [this] { on_connected(); },
          [this](const xmpp::Disconnect& d) { on_disconnected(d); },
          [this](xmpp::Element&& stanza) { on_stanza(std::move(stanza)); },
          [this](std::string_view line) { log_.warn(std::string("libstrophe: ").append(line)); },
          [this](xmpp::Element&& top_level) { on_too_deep(std::move(top_level)); },
      }) {
  forget_config_users();
  sigset_t set = handled_signals();
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  wall_offset_ = wall_minus_steady();
  router_.report_commits();  // commit_turn() tells the core whether each turn's holds are durable
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
  if (backup_thread_.joinable()) backup_thread_.join();
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
  if (lease_ != nullptr) {  // the lease is checked before every (re)connect
    check_lease(Clock::now());
    if (standby()) {  // connects when it takes over; compiles the schedules meanwhile
      if (schedules_at_) schedules_at_ = Clock::now();
      return;
    }
    if (connection_.connecting() || connection_.connected()) return;  // the takeover connected
    if (!connection_.disconnected()) {  // the stream of the last term is still closing
      reconnect_at_ = Clock::now() + milliseconds(50);
      return;
    }
  }
  const auto endpoints = config_.component.endpoints();
  const auto& endpoint = endpoints[endpoint_ % endpoints.size()];
  xmpp::ComponentSettings s;
  s.host = endpoint.host;
  s.port = endpoint.port;
  s.domain = config_.component.jid;
  s.secret = config_.component.secret;
  log_.debug("connecting to " + s.host + ":" + std::to_string(s.port));
  connection_.connect(s);  // a failure at once arrives through on_disconnected
}

void Service::on_connected() {
  ever_connected_ = true;
  if (schedules_at_) schedules_at_ = Clock::now();  // now that the stream is up
  timings_.backoff.reset();
  last_received_ = Clock::now();
  ping_sent_at_.reset();
  const auto endpoints = config_.component.endpoints();
  const std::string server = config::to_string(endpoints[endpoint_ % endpoints.size()]);
  log_.info("connected to " + server + " as " + config_.component.jid);
  // Forwarded messages the last stream did not confirm go first, in order, with their ids —
  // except one whose sender has earlier messages to that target held (releases the cut stream
  // lost): it is held behind them, or it would overtake them (order per sender, DESIGN §2).
  const core::Instant now = wall_now();
  std::size_t resent = 0, held = 0;
  for (auto& kept : forwards_.take_all()) {
    if (router_.hold_behind(kept.stanza, kept.received, now, outbox_)) {
      ++held;
      continue;
    }
    connection_.send(kept.stanza);
    keep_forwarded(kept.stanza, kept.received);
    ++resent;
  }
  const auto messages = [](std::size_t n) {
    return std::to_string(n) + (n == 1 ? " forwarded message" : " forwarded messages");
  };
  if (resent > 0) log_.info("sending again " + messages(resent) + " the server had not confirmed");
  if (held > 0) {
    log_.info("held " + messages(held) + " the server had not confirmed behind their senders' " +
              "earlier held messages");
  }
  router_.connected(now, outbox_);
  pace_more_ = true;
  flush(outbox_);
  // Servers announce a XEP-0356 grant right after the handshake; say once if none came.
  if (!privilege_told_) privilege_check_at_ = Clock::now() + std::chrono::seconds(5);
  const std::string status = "connected to " + server + " as " + config_.component.jid;
  tell_status(status);
}

void Service::tell_privilege() {
  privilege_check_at_.reset();
  if (!connection_.connected()) return;  // the next connection asks again
  privilege_told_ = true;
  if (router_.presence_privilege()) return;  // the router logged "the server grants …"
  log_.info("the server grants no presence access (XEP-0356): Concierge sees the presence only of "
            "users who accepted its subscription; the server snippets of config/deploy/ show the "
            "grant");
}

void Service::tell_status(const std::string& status) {
  status_ = status;
  if (!told_ready_) {
    told_ready_ = true;
    systemd_.ready(status);
  } else {
    systemd_.status(status);
  }
}

void Service::on_disconnected(const xmpp::Disconnect& d) {
  ping_sent_at_.reset();
  if (schedules_at_) schedules_at_ = Clock::now();  // the server is not there: compile anyway
  paced_.clear();  // regenerated by the next connect
  pace_more_ = false;
  // Releases without an answer stay held (they still are in the store) and go out again;
  // forwarded messages queued behind them go out with the unconfirmed ones.
  for (const auto& r : releases_) {
    if (r.hold_id == 0) keep_forwarded(r.stanza, wall_now());
  }
  releases_.clear();
  release_pings_.clear();
  forwards_.disconnected();  // what it keeps goes out again on the next stream
  hold_metrics_.releases_abandoned();
  router_.disconnected();
  if (stopping_ || standby()) return;  // a standby connects when it takes over
  const std::string fatal = fatal_reason(d, config_.component.jid);
  if (!fatal.empty() && !ever_connected_) {
    log_.error(fatal);
    exit_code_ = 2;
    return;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto delay = timings_.backoff.next(uniform(random_));
  // The detail first (the system's or the server's words), the cause in brackets.
  // <conflict/>: another stream holds the domain — an active that has not yet noticed it lost
  // its lease, or a cluster node that has not yet seen the last stream go. Retried, never fatal.
  std::string why = !fatal.empty() ? fatal
                    : d.cause == xmpp::DisconnectCause::conflict
                        ? "another component is connected as " + config_.component.jid +
                              " (conflict)"
                    : d.detail.empty()
                        ? std::string(xmpp::to_string(d.cause))
                        : d.detail + " (" + std::string(xmpp::to_string(d.cause)) + ")";
  const auto endpoints = config_.component.endpoints();
  const std::string server = config::to_string(endpoints[endpoint_ % endpoints.size()]);
  endpoint_ = (endpoint_ + 1) % endpoints.size();  // a cluster's next node, in turn
  log_.warn((d.was_connected ? "lost the connection to " : "could not connect to ") + server +
            ": " + why + "; retrying in " + std::to_string(delay.count()) + " ms");
  const std::string status = "not connected (" + why + "); retrying";
  tell_status(status);
  reconnect_at_ = Clock::now() + delay;
}

void Service::on_stanza(xmpp::Element&& stanza) {
  last_received_ = Clock::now();
  // Answers to our keepalive pings belong to the loop, not to the core.
  if (stanza.name == "iq" && (stanza.attr("id").starts_with("keepalive-") ||
                              stanza.attr("id").starts_with("forward-"))) {
    forwards_.answered(std::string(stanza.attr("id")));
    ping_sent_at_.reset();
    return;
  }
  if (stanza.name == "iq" && stanza.attr("id").starts_with("release-")) {
    forwards_.answered(std::string(stanza.attr("id")));
    auto it = release_pings_.find(std::string(stanza.attr("id")));
    if (it != release_pings_.end()) {
      const std::size_t n = it->second.size();
      log_.info("the server took " + std::to_string(n) + " released message" + (n == 1 ? "" : "s"));
      router_.release_confirmed(it->second, wall_now(), outbox_);
      hold_metrics_.release_confirmed(it->second, Clock::now());
      release_pings_.erase(it);
    }
    ping_sent_at_.reset();
    flush(outbox_);  // "your messages were delivered" notices
    return;
  }
  if (log_.enabled(LogLevel::debug)) log_.debug("in: " + redacted_xml(stanza));
  router_.handle(stanza, wall_now(), outbox_);
  flush(outbox_);
}

void Service::on_too_deep(xmpp::Element&& top_level) {
  last_received_ = Clock::now();
  log_.debug("received a <" + top_level.name + "> nested deeper than " +
             std::to_string(xmpp::kMaxStanzaDepth) + " levels");
  router_.handle_too_deep(top_level, outbox_);
  flush(outbox_);
}

void Service::flush(core::Outbox& out) {
  for (const auto& line : out.logs) log_.log(line.level, line.text);
  // The core's own refusals (each one error reply), not errors relayed back to a sender.
  std::uint64_t refusals = router_.stats().refused - refused_seen_;
  refused_seen_ = router_.stats().refused;
  if (!out.releases.empty()) {
    if (releases_.empty()) next_release_ = Clock::now();
    for (auto& r : out.releases) {
      hold_metrics_.release_started(r.hold_id, Clock::now());
      releases_.push_back(std::move(r));
    }
  }
  std::size_t next_forwarded = 0;
  for (std::size_t i = 0; i < out.stanzas.size(); ++i) {
    auto& stanza = out.stanzas[i];
    if (refusals > 0 && stanza.attr("type") == "error") {
      hold_metrics_.refused(error_condition(stanza));
      --refusals;
    }
    const bool forwarded =
        next_forwarded < out.forwarded.size() && out.forwarded[next_forwarded] == i;
    if (forwarded) ++next_forwarded;
    if (forwarded && releasing_to(stanza.attr("to"))) {
      // Released messages to the same target are still going out (paced): this one follows
      // them, in order (hold id 0: nothing to confirm in the store).
      releases_.push_back({0, std::move(stanza)});
      continue;
    }
    if (log_.enabled(LogLevel::debug)) log_.debug("out: " + redacted_xml(stanza));
    connection_.send(stanza);
    if (forwarded) keep_forwarded(stanza, wall_now());
  }
  if (!out.paced.empty()) {
    if (paced_.empty()) next_paced_ = Clock::now();
    for (auto& stanza : out.paced) paced_.push_back(std::move(stanza));
  }
  for (auto& stanza : out.after_commit) after_commit_.push_back(std::move(stanza));
  std::vector<core::Outbox::AdminRequest> admin = std::move(out.admin);
  std::vector<std::string> changed = std::move(out.schedule_changed);
  out.clear();
  for (const auto& jid : changed) calendars_.update(jid, false);
  for (const auto& request : admin) {
    if (request.kind == core::Outbox::AdminRequest::Kind::reload) {
      send_chat(request.reply_to, reload());
    } else {
      start_backup(request.reply_to);  // answered when the copy is done
    }
  }
}

void Service::start_backup(const std::string& reply_to) {
  if (backup_thread_.joinable()) {
    send_chat(reply_to, "A backup is already running; you will hear when it is done.");
    return;
  }
  store_.commit();  // the copy shows everything so far
  const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string path = config_.store.path + ".backup-" + std::to_string(stamp);
  log_.info("backing up the store to " + path);
  // Off the loop: a large store takes seconds to copy, and relaying (and the watchdog) must
  // not wait for it. backup_to reads through connections of its own (a WAL snapshot).
  backup_thread_ = std::thread([this, path, reply_to] {
    std::string error;
    std::string text = store_.backup_to(path, &error) ? "Backed up the store to " + path + "."
                                                      : "The backup failed: " + error;
    {
      std::lock_guard lock(backup_mutex_);
      backup_done_ = std::make_pair(reply_to, std::move(text));
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  });
}

void Service::collect_backup() {
  std::optional<std::pair<std::string, std::string>> done;
  {
    std::lock_guard lock(backup_mutex_);
    done.swap(backup_done_);
  }
  if (!done) return;
  backup_thread_.join();
  log_.info(done->second);
  send_chat(done->first, done->second);
}

void Service::send_chat(const std::string& to, const std::string& text) {
  xmpp::Element m = xmpp::make("message", {{"from", config_.component.jid},
                                           {"to", to},
                                           {"type", "chat"}});
  m.add_child(xmpp::make_text("body", text));
  connection_.send(m);
}

void Service::send_releases(Clock::time_point now) {
  if (!connection_.connected() || releases_.empty()) return;
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) /
                   std::max(1, config_.release.rate);
  std::vector<std::int64_t> batch;
  int budget = std::max(1, config_.release.rate);
  while (!releases_.empty() && now >= next_release_ && budget-- > 0) {
    if (log_.enabled(LogLevel::debug)) {
      log_.debug("out (release of hold " + std::to_string(releases_.front().hold_id) +
                 "): " + redacted_xml(releases_.front().stanza));
    }
    connection_.send(releases_.front().stanza);
    if (releases_.front().hold_id == 0) {
      // Forwarded behind the releases (flush).
      keep_forwarded(releases_.front().stanza, wall_now());
    } else {
      batch.push_back(releases_.front().hold_id);
    }
    releases_.pop_front();
    next_release_ += gap;
  }
  if (now - next_release_ > std::chrono::seconds(1)) next_release_ = now;
  if (batch.empty()) return;
  // The stream is processed in order: the server's answer to this ping means it took every
  // message before it (DESIGN §6).
  const std::string id = "release-" + std::to_string(++release_ping_counter_);
  send_ping(id);
  release_pings_[id] = std::move(batch);
}

bool Service::releasing_to(std::string_view to) const {
  if (releases_.empty()) return false;
  const auto bare = to.substr(0, to.find('/'));
  for (const auto& r : releases_) {
    const auto other = r.stanza.attr("to");
    if (other.substr(0, other.find('/')) == bare) return true;
  }
  return false;
}

void Service::keep_forwarded(const xmpp::Element& stanza, core::Instant received) {
  if (!stanza.child("body")) return;  // chat states and the like: not worth sending again
  if (const auto dropped = forwards_.keep(stanza, received)) {
    log_.warn("the server confirmed none of the last " + std::to_string(forwards_.size()) +
              " forwarded messages: forgot the " + std::to_string(dropped) +
              " oldest (they are lost if the stream is cut now)");
  }
}

void Service::send_ping(const std::string& id) {
  const std::string server =
      config_.served.domains.empty() ? config_.component.jid : config_.served.domains.front();
  xmpp::Element ping = xmpp::make("iq", {{"type", "get"},
                                         {"from", config_.component.jid},
                                         {"to", server},
                                         {"id", id}});
  ping.add_child(xmpp::make("ping", {{"xmlns", "urn:xmpp:ping"}}));
  connection_.send(ping);
  forwards_.ping_sent(id);
}

void Service::send_paced(Clock::time_point now) {
  if (!connection_.connected()) return;
  const auto gap = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) /
                   std::max(1, config_.presence.probe_rate);
  // Bounded burst: catch up at most a second's worth after a slow turn.
  int budget = std::max(1, config_.presence.probe_rate);
  // The core hands out the users' probes a second's worth at a time as the queue drains.
  if (pace_more_ && paced_.size() < static_cast<std::size_t>(budget)) {
    while (pace_more_ && outbox_.paced.empty()) {
      pace_more_ = router_.pace_more(static_cast<std::size_t>(budget), outbox_);
    }
    flush(outbox_);
  }
  while (!paced_.empty() && now >= next_paced_ && budget-- > 0) {
    if (log_.enabled(LogLevel::debug)) log_.debug("out: " + redacted_xml(paced_.front()));
    connection_.send(paced_.front());
    paced_.pop_front();
    next_paced_ += gap;
  }
  if (now - next_paced_ > std::chrono::seconds(1)) next_paced_ = now;
}

void Service::run_core_timers(Clock::time_point now) {
  const auto wake = router_.next_wake();
  const bool due = wake && *wake <= wall_now();
  if (due || now >= next_tick_) {
    router_.tick(wall_now(), outbox_);
    flush(outbox_);
    if (now >= next_tick_) next_tick_ = now + timings_.tick_every;
  }
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
    send_ping("keepalive-" + std::to_string(++ping_counter_));
    ping_sent_at_ = now;
  }
}

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
  forget_config_users();
  flush(outbox_);
  schedules_at_.reset();
  calendars_.queue_all(true);  // hours, calendar files and URLs may have changed
  log_.info("reloaded " + config_path_ + ": " + std::to_string(config_users_) +
            " users enrolled by the config");
  return "Reloaded: " + std::to_string(config_users_) + " users enrolled by the config" +
         (restart_only.empty() ? "." : "; some changes need a restart (see the log).");
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
