// SPDX-License-Identifier: MIT
// Service: wiring (the core, the calendars, the backup, the connection), stanzas in and the
// core's outbox out — forwarded messages kept until confirmed, releases and probes paced.
// The loop is service_loop.cpp, the connection's supervision service_connection.cpp, reload
// service_reload.cpp, the turn's commit service_commit.cpp, the metrics service_metrics.cpp.
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
#include <component/app/wall_clock.hpp>

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

using Clock = std::chrono::steady_clock;

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
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
      backup_(store, [this] { wake(); }),
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
  backup_.wait();  // its thread writes to wake_fd_ when done
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Service::request_stop() {
  stop_requested_.store(true);
  wake();
}

void Service::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
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
  if (transparent_.handle(stanza, wall_now(), router_, outbox_)) {
    flush(outbox_);
    return;
  }
  router_.handle(stanza, wall_now(), outbox_);
  if (stanza.attr("to") == config_.component.jid) {
    // Commands and registrations (to the component itself) may enrol or unenrol someone.
    transparent_.enrolment_may_have_changed(router_, wall_now(), outbox_);
  }
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
  transparent_.rewrite(out);  // diverted messages' releases and notices, as that way needs
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
  if (backup_.running()) {
    send_chat(reply_to, "A backup is already running; you will hear when it is done.");
    return;
  }
  store_.commit();  // the copy shows everything so far
  const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string path = config_.store.path + ".backup-" + std::to_string(stamp);
  log_.info("backing up the store to " + path);
  backup_.start(path, reply_to);
}

void Service::collect_backup() {
  auto done = backup_.take_done();
  if (!done) return;
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

}  // namespace concierge::app
