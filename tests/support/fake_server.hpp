// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <xmpp/element.hpp>

namespace concierge::testing {

// An in-process XEP-0114 server on 127.0.0.1 (ephemeral port) for integration tests. It runs
// its own thread, serves one component connection at a time (a new connection replaces the
// old one) and checks the handshake: <handshake> must carry lower-case hex
// SHA1(stream id + secret). A wrong secret gets <not-authorized/>, a stream header whose `to`
// differs from `domain` gets <host-unknown/>; `set_mode` forces other behaviours.
//
// Every waiting call is bounded by its timeout. Thread-safe.
class FakeServer {
 public:
  enum class Mode {
    accept,          // the normal server (the default)
    not_authorized,  // answer any handshake with <not-authorized/>
    conflict,        // answer any handshake with <conflict/>
    silent,          // never answer the handshake
    close_on_accept  // close each connection as soon as it is accepted
  };

  // `domain` is the component domain the server expects; `secret` the shared secret. The
  // server's own domain (for pings) is `domain` without its first label, or `domain` itself
  // when it has a single label.
  FakeServer(std::string domain, std::string secret);
  ~FakeServer();  // stop()
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::uint16_t port() const { return port_; }
  const std::string& domain() const { return domain_; }
  const std::string& server_domain() const { return server_domain_; }

  void set_mode(Mode mode);
  // Answer <iq type='get' to=server_domain><ping xmlns='urn:xmpp:ping'/></iq> by itself
  // (default on); such pings then do not show in next_stanza().
  void set_auto_ping(bool on);

  // Queues raw XML to the connected component; false when no connection is open.
  bool send(std::string xml);
  bool send(const xmpp::Element& stanza) { return send(stanza.to_xml()); }

  // The next top-level stanza the component sent after its handshake, in order.
  std::optional<xmpp::Element> next_stanza(std::chrono::milliseconds timeout);
  // Stanzas received and not yet taken by next_stanza().
  std::size_t pending_stanzas() const;

  // Waits until a component has completed the handshake on the current connection.
  bool wait_connected(std::chrono::milliseconds timeout);
  // Waits until no connection is open (the component closed, or the server dropped it).
  bool wait_disconnected(std::chrono::milliseconds timeout);
  bool authenticated() const;

  // Closes the current connection at once, without </stream:stream>.
  void drop_connection();
  // Sends </stream:stream> and closes once the component answers (or after ~2 s).
  void close_stream();

  int connections() const;             // accepted so far
  int handshakes_accepted() const;     // completed so far
  std::string last_stream_to() const;  // `to` of the latest stream header
  // The condition of the latest stream error sent, e.g. "not-authorized"; empty when none.
  std::string last_stream_error() const;

  // Stops the thread and closes every socket; idempotent.
  void stop();

 private:
  struct Connection;
  void run();
  void wake();

  std::string domain_;
  std::string secret_;
  std::string server_domain_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Mode mode_ = Mode::accept;
  bool auto_ping_ = true;
  bool stopping_ = false;
  bool drop_requested_ = false;
  bool close_requested_ = false;
  bool open_ = false;
  bool authenticated_ = false;
  int connections_ = 0;
  int handshakes_ = 0;
  std::string last_to_;
  std::string last_error_;
  std::string outgoing_;  // from send(), taken over by the server thread
  std::deque<xmpp::Element> received_;

  std::thread thread_;
};

}  // namespace concierge::testing
