// SPDX-License-Identifier: MIT
#pragma once
// StreamSupervisor: the component's stream to the server (DESIGN §6, §8) — connecting to
// component.hosts in turn, reconnecting with backoff and jitter, a refused identity at startup
// being fatal, the keepalive ping and its timeout, and the forwarded messages the server has
// not confirmed yet (kept until a ping answer, sent again on the next stream).
// Owns: the ComponentConnection, the endpoint in use, the reconnect timer and backoff, the
// keepalive state, UnconfirmedForwards and the privilege check's timer. Must not touch: the
// core, the store, the calendars or the pacing of releases; it decides nothing about a message
// and hands every stanza but its own ping answers to the Service's handlers.
//
// Not copyable: `this` is captured by the connection's handlers.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include <component/app/backoff.hpp>
#include <component/app/logger.hpp>
#include <component/app/unconfirmed_forwards.hpp>
#include <component/core/time.hpp>
#include <config/config.hpp>
#include <xmpp/component_connection.hpp>

namespace concierge::app {

class StreamSupervisor {
 public:
  using Clock = std::chrono::steady_clock;
  struct Timings {
    std::chrono::milliseconds keepalive_after;    // idle stream → ping the server
    std::chrono::milliseconds keepalive_timeout;  // no answer → the stream is dead
    Backoff backoff;
  };
  // What the Service hears of the stream, after the supervisor's own bookkeeping.
  struct Handlers {
    std::function<void()> connected;
    std::function<void(const xmpp::Disconnect&)> disconnected;
    std::function<void(xmpp::Element&&)> stanza;    // also answers to release-… pings
    std::function<void(xmpp::Element&&)> too_deep;  // nested deeper than the connection reads
  };
  // `config` (re-assigned on reload; [component] and [served] never change) and `log` must
  // outlive this.
  StreamSupervisor(const config::Config& config, Logger& log, Timings timings, Handlers handlers);
  StreamSupervisor(const StreamSupervisor&) = delete;
  StreamSupervisor& operator=(const StreamSupervisor&) = delete;

  // For the loop (socket, run_once) and for sending.
  xmpp::ComponentConnection& connection() { return connection_; }
  const xmpp::ComponentConnection& connection() const { return connection_; }
  bool connected() const { return connection_.connected(); }
  // "host:port" of the endpoint in use.
  std::string server() const;

  // Connects to the endpoint in turn; a failure at once arrives through `disconnected`.
  void connect();
  // The reconnect timer ran out (and is cleared).
  bool reconnect_due(Clock::time_point now);
  void reconnect_in(std::chrono::milliseconds delay) { reconnect_at_ = Clock::now() + delay; }
  void cancel_reconnect() { reconnect_at_.reset(); }
  void reset_backoff() { timings_.backoff.reset(); }
  // After `disconnected` (when the Service wants the stream back): schedules the next attempt
  // on the next endpoint, logs why, and returns the status to tell systemd — or nullopt when
  // the server refused the component's identity before it ever connected (exit 2).
  std::optional<std::string> retry_later(const xmpp::Disconnect& d);

  void send_chat(const std::string& to, const std::string& text);
  // A XEP-0199 ping to the server: its answer confirms everything given to the stream before.
  void send_ping(const std::string& id);
  // A forwarded message was given to the stream: kept until a ping answer (DESIGN §6).
  void keep_forwarded(const xmpp::Element& stanza, core::Instant received);
  // After connecting: the forwards the last stream did not confirm go again, in order, except
  // those `hold_instead` takes (it returns true). Logs the counts.
  void resend_unconfirmed(
      const std::function<bool(const UnconfirmedForwards::Kept&)>& hold_instead);

  // Each turn: the keepalive ping, or dropping a stream that does not answer it.
  void keepalive(Clock::time_point now, bool stopping);
  // Each turn, after the releases: a ping covering forwards not covered yet.
  void ping_forwards();
  // Once per run, a few seconds after a connect: true when it is time to say whether the
  // server granted presence access.
  bool privilege_check_due(Clock::time_point now);
  // The earliest of this part's timers.
  std::optional<Clock::time_point> next_due(Clock::time_point now, bool stopping) const;

 private:
  void on_connected();
  void on_disconnected(const xmpp::Disconnect& d);
  void on_stanza(xmpp::Element&& stanza);

  const config::Config& config_;
  Logger& log_;
  Timings timings_;
  Handlers handlers_;
  UnconfirmedForwards forwards_;
  std::uint64_t forward_ping_counter_ = 0;
  std::uint64_t ping_counter_ = 0;
  Clock::time_point last_received_{};
  std::optional<Clock::time_point> ping_sent_at_;
  std::optional<Clock::time_point> reconnect_at_;
  std::optional<Clock::time_point> privilege_check_at_;
  bool privilege_told_ = false;
  bool ever_connected_ = false;
  // Which of config_.component.endpoints() the next connect uses (the next one after a failure).
  std::size_t endpoint_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
  xmpp::ComponentConnection connection_;  // last: its handlers use the members above
};

}  // namespace concierge::app
