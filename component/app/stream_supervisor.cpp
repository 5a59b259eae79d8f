// SPDX-License-Identifier: MIT
#include <component/app/stream_supervisor.hpp>

#include <algorithm>

#include <config/endpoint.hpp>

namespace concierge::app {
namespace {

using std::chrono::milliseconds;

std::string fatal_reason(const xmpp::Disconnect& d, const std::string& domain) {
  switch (d.cause) {
    case xmpp::DisconnectCause::not_authorized:
      return "the server refused the component secret (not-authorized): check component.secret "
             "against the server's secret for " +
             domain;
    case xmpp::DisconnectCause::host_unknown:
      return "the server does not know the component domain " + domain +
             " (host-unknown): register it in the server's config, e.g. Prosody: Component \"" +
             domain + "\"";
    default:
      return {};
  }
}

}  // namespace

StreamSupervisor::StreamSupervisor(const config::Config& config, Logger& log, Timings timings,
                                   Handlers handlers)
    : config_(config),
      log_(log),
      timings_(timings),
      handlers_(std::move(handlers)),
      connection_(xmpp::ComponentConnection::Handlers{
          [this] { on_connected(); },
          [this](const xmpp::Disconnect& d) { on_disconnected(d); },
          [this](xmpp::Element&& stanza) { on_stanza(std::move(stanza)); },
          [this](std::string_view line) { log_.warn(std::string("libstrophe: ").append(line)); },
          [this](xmpp::Element&& top_level) {
            last_received_ = Clock::now();
            handlers_.too_deep(std::move(top_level));
          },
      }) {}

std::string StreamSupervisor::server() const {
  const auto endpoints = config_.component.endpoints();
  return config::to_string(endpoints[endpoint_ % endpoints.size()]);
}

void StreamSupervisor::connect() {
  reconnect_at_.reset();
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

bool StreamSupervisor::reconnect_due(Clock::time_point now) {
  if (!reconnect_at_ || now < *reconnect_at_) return false;
  reconnect_at_.reset();
  return true;
}

void StreamSupervisor::on_connected() {
  ever_connected_ = true;
  timings_.backoff.reset();
  last_received_ = Clock::now();
  ping_sent_at_.reset();
  log_.info("connected to " + server() + " as " + config_.component.jid);
  handlers_.connected();
  // Servers announce a XEP-0356 grant right after the handshake; say once if none came.
  if (!privilege_told_) privilege_check_at_ = Clock::now() + std::chrono::seconds(5);
}

void StreamSupervisor::on_disconnected(const xmpp::Disconnect& d) {
  ping_sent_at_.reset();
  forwards_.disconnected();  // what it keeps goes out again on the next stream
  handlers_.disconnected(d);
}

std::optional<std::string> StreamSupervisor::retry_later(const xmpp::Disconnect& d) {
  const std::string fatal = fatal_reason(d, config_.component.jid);
  if (!fatal.empty() && !ever_connected_) {
    log_.error(fatal);
    return std::nullopt;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const auto delay = timings_.backoff.next(uniform(random_));
  // The detail first (the system's or the server's words), the cause in brackets.
  // <conflict/>: another stream holds the domain — an active that has not yet noticed it lost
  // its lease, or a cluster node that has not yet seen the last stream go. Retried, never fatal.
  std::string why =
      !fatal.empty() ? fatal
      : d.cause == xmpp::DisconnectCause::conflict
          ? "another component is connected as " + config_.component.jid + " (conflict)"
      : d.detail.empty() ? std::string(xmpp::to_string(d.cause))
                         : d.detail + " (" + std::string(xmpp::to_string(d.cause)) + ")";
  const std::string was = server();
  endpoint_ = (endpoint_ + 1) % config_.component.endpoints().size();  // a cluster's next node
  log_.warn((d.was_connected ? "lost the connection to " : "could not connect to ") + was + ": " +
            why + "; retrying in " + std::to_string(delay.count()) + " ms");
  reconnect_at_ = Clock::now() + delay;
  return "not connected (" + why + "); retrying";
}

void StreamSupervisor::on_stanza(xmpp::Element&& stanza) {
  last_received_ = Clock::now();
  // Answers to our pings belong to the stream (keepalive, forwards) or to the pacing of
  // releases (the Service's handler), not to the core.
  if (stanza.name == "iq") {
    const auto id = stanza.attr("id");
    if (id.starts_with("keepalive-") || id.starts_with("forward-") || id.starts_with("release-")) {
      forwards_.answered(std::string(id));
      ping_sent_at_.reset();
      if (!id.starts_with("release-")) return;
    }
  }
  handlers_.stanza(std::move(stanza));
}

void StreamSupervisor::send_chat(const std::string& to, const std::string& text) {
  xmpp::Element m =
      xmpp::make("message", {{"from", config_.component.jid}, {"to", to}, {"type", "chat"}});
  m.add_child(xmpp::make_text("body", text));
  connection_.send(m);
}

void StreamSupervisor::send_ping(const std::string& id) {
  const std::string server =
      config_.served.domains.empty() ? config_.component.jid : config_.served.domains.front();
  xmpp::Element ping = xmpp::make(
      "iq", {{"type", "get"}, {"from", config_.component.jid}, {"to", server}, {"id", id}});
  ping.add_child(xmpp::make("ping", {{"xmlns", "urn:xmpp:ping"}}));
  connection_.send(ping);
  forwards_.ping_sent(id);
}

void StreamSupervisor::keep_forwarded(const xmpp::Element& stanza, core::Instant received) {
  if (!stanza.child("body")) return;  // chat states and the like: not worth sending again
  if (const auto dropped = forwards_.keep(stanza, received)) {
    log_.warn("the server confirmed none of the last " + std::to_string(forwards_.size()) +
              " forwarded messages: forgot the " + std::to_string(dropped) +
              " oldest (they are lost if the stream is cut now)");
  }
}

void StreamSupervisor::resend_unconfirmed(
    const std::function<bool(const UnconfirmedForwards::Kept&)>& hold_instead) {
  std::size_t resent = 0, held = 0;
  for (auto& kept : forwards_.take_all()) {
    if (hold_instead(kept)) {
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
}

void StreamSupervisor::keepalive(Clock::time_point now, bool stopping) {
  if (!connection_.connected() || stopping) return;
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

void StreamSupervisor::ping_forwards() {
  if (connection_.connected() && forwards_.wants_ping()) {
    send_ping("forward-" + std::to_string(++forward_ping_counter_));
  }
}

bool StreamSupervisor::privilege_check_due(Clock::time_point now) {
  if (!privilege_check_at_ || now < *privilege_check_at_) return false;
  privilege_check_at_.reset();
  if (!connection_.connected()) return false;  // the next connection asks again
  privilege_told_ = true;
  return true;
}

std::optional<StreamSupervisor::Clock::time_point> StreamSupervisor::next_due(Clock::time_point now,
                                                                              bool stopping) const {
  std::optional<Clock::time_point> next = reconnect_at_;
  auto earlier = [&](Clock::time_point t) { next = next ? std::min(*next, t) : t; };
  // libstrophe opens the socket in its first run: look again soon rather than in a second.
  if (connection_.connecting() && connection_.socket_fd() < 0) earlier(now + milliseconds(10));
  if (connection_.connected() && !stopping) {
    earlier(ping_sent_at_ ? *ping_sent_at_ + timings_.keepalive_timeout
                          : last_received_ + timings_.keepalive_after);
  }
  return next;
}

}  // namespace concierge::app
