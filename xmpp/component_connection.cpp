// SPDX-License-Identifier: MIT
// The XEP-0114 stream over libstrophe: connect, the handshake, events and sending. Received
// stanzas become Elements in stanza_reader.cpp; stream error codes are named in stream_error.cpp;
// the process-wide libstrophe state is strophe_library.hpp's.
#include <xmpp/component_connection.hpp>

#include <strophe.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <xmpp/stanza_reader.hpp>
#include <xmpp/stream_error.hpp>
#include <xmpp/strophe_library.hpp>

namespace concierge::xmpp {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

struct ComponentConnection::Impl {
  explicit Impl(Handlers h);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void log(std::string_view line) const noexcept;
  void prepare_sm_state_once();
  void finish(const Disconnect& d);

  // C trampolines; libstrophe passes `this` as userdata, except to the sockopt callback which
  // only gets the connection (hence the registry).
  static void on_log(void* userdata, xmpp_log_level_t level, const char* area,
                     const char* msg) noexcept;
  static void on_conn_event(xmpp_conn_t* conn, xmpp_conn_event_t event, int error,
                            xmpp_stream_error_t* stream_error, void* userdata) noexcept;
  static int on_stanza(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* userdata) noexcept;
  static int on_socket(xmpp_conn_t* conn, void* sock) noexcept;
  static int refuse_socket(xmpp_conn_t* conn, void* sock) noexcept;
  static void ignore_conn_event(xmpp_conn_t*, xmpp_conn_event_t, int, xmpp_stream_error_t*,
                                void*) noexcept {}

  static std::mutex registry_mutex;
  static std::unordered_map<const xmpp_conn_t*, Impl*> registry;

  Handlers handlers;
  LibraryUse library;
  xmpp_log_t log_sink{};  // must outlive ctx: freed with Impl, after xmpp_ctx_free
  xmpp_ctx_t* ctx = nullptr;
  xmpp_conn_t* conn = nullptr;

  int fd = -1;                     // from the sockopt callback; valid while not disconnected
  bool sm_state_prepared = false;  // the libstrophe workaround has run on `conn`
  bool attempt_active = false;     // between connect() and its on_disconnected
  bool handshake_done = false;
  bool tcp_established = false;  // libstrophe has completed the TCP connect
  bool closing = false;          // disconnect() was called
  bool timed_out = false;        // we cut the attempt at connect_timeout_ms
  int connect_errno = 0;         // the system error of a failed TCP connect (libstrophe debug log)
  bool in_destructor = false;
  // libstrophe writes its own bytes (stream header, handshake, </stream:stream>) at the start
  // of the next xmpp_run_once, and xmpp_conn_send_queue_len() counts only ours: true while
  // such bytes may wait.
  bool flush_pending = false;
  Clock::time_point deadline{};
  // Reused on every stanza in and out (the relay path): no allocation once warm.
  StanzaReader reader;
  std::string send_buffer;
};

std::mutex ComponentConnection::Impl::registry_mutex;
std::unordered_map<const xmpp_conn_t*, ComponentConnection::Impl*>
    ComponentConnection::Impl::registry;

ComponentConnection::Impl::Impl(Handlers h) : handlers(std::move(h)) {
  log_sink.handler = &Impl::on_log;
  log_sink.userdata = this;
  ctx = xmpp_ctx_new(nullptr, &log_sink);
  if (!ctx) throw std::runtime_error("libstrophe: cannot create context");
  conn = xmpp_conn_new(ctx);
  if (!conn) {
    xmpp_ctx_free(ctx);
    throw std::runtime_error("libstrophe: cannot create connection");
  }
  {
    std::lock_guard lock(registry_mutex);
    registry[conn] = this;
  }
  // One handler for everything: libstrophe drops a second registration of the same function
  // and userdata, so routing happens in C++.
  xmpp_handler_add(conn, &Impl::on_stanza, nullptr, nullptr, nullptr, this);
}

ComponentConnection::Impl::~Impl() {
  // Releasing a live connection closes it and fires the connection handler: not to the owner,
  // who is being destroyed.
  in_destructor = true;
  xmpp_conn_release(conn);
  {
    std::lock_guard lock(registry_mutex);
    registry.erase(conn);
  }
  xmpp_ctx_free(ctx);
}

void ComponentConnection::Impl::log(std::string_view line) const noexcept {
  if (in_destructor || !handlers.on_log) return;
  try {
    handlers.on_log(line);
  } catch (...) {
  }
}

// libstrophe 0.12.2 (and later, same code): xmpp_connect_component() never allocates the
// connection's stream-management state, and the first stanza received after <handshake/>
// dereferences it (SIGSEGV; XMPP_CONN_FLAG_DISABLE_SM does not help). xmpp_connect_client()
// allocates it first thing. So, once per xmpp_conn_t, start a client connect to a numeric
// address with a sockopt callback that fails: it returns XMPP_EINT at once, never touches the
// network, and leaves the connection disconnected and reusable, now with the state allocated.
// See STACK.md; the integration test ReceivesStanzaAfterHandshake_LibstropheCrashRegression
// guards it.
void ComponentConnection::Impl::prepare_sm_state_once() {
  if (sm_state_prepared) return;
  xmpp_conn_set_sockopt_callback(conn, &Impl::refuse_socket);
  const int rc = xmpp_connect_client(conn, "127.0.0.1", 5222, &Impl::ignore_conn_event, this);
  // XMPP_EINT is the expected failure (the socket was refused after the state was allocated);
  // anything else means the state may be missing: try again before the next connect.
  sm_state_prepared = rc == XMPP_EINT && xmpp_conn_is_disconnected(conn) != 0;
  if (!sm_state_prepared) {
    log("libstrophe workaround did not run as expected (xmpp_connect_client returned " +
        std::to_string(rc) + ")");
  }
  xmpp_conn_set_sockopt_callback(conn, &Impl::on_socket);
}

int ComponentConnection::Impl::refuse_socket(xmpp_conn_t*, void*) noexcept {
  return -1;
}

int ComponentConnection::Impl::on_socket(xmpp_conn_t* c, void* sock) noexcept {
  const int s = *static_cast<int*>(sock);
  Impl* self = nullptr;
  {
    std::lock_guard lock(registry_mutex);
    if (auto it = registry.find(c); it != registry.end()) self = it->second;
  }
  // Without TCP_NODELAY small stanzas wait for ACKs: 40 ms instead of 0.2 ms under load.
  const int one = 1;
  if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 && self) {
    self->log(std::string("cannot set TCP_NODELAY: ") + std::strerror(errno));
  }
  if (self) self->fd = s;
  return 0;
}

void ComponentConnection::Impl::on_log(void* userdata, xmpp_log_level_t level, const char* area,
                                       const char* msg) noexcept {
  // libstrophe tells why a TCP connect failed only in this debug line (its disconnect handler
  // gets error 0): keep the system error for the Disconnect's detail.
  constexpr std::string_view kConnectFailed = "connection failed, error ";
  if (level == XMPP_LEVEL_DEBUG && msg && std::string_view(msg).starts_with(kConnectFailed)) {
    static_cast<Impl*>(userdata)->connect_errno = std::atoi(msg + kConnectFailed.size());
  }
  // DEBUG (and INFO) lines carry whole stanzas, message bodies and the handshake: never forward.
  if (level != XMPP_LEVEL_WARN && level != XMPP_LEVEL_ERROR) return;
  try {
    const auto* self = static_cast<const Impl*>(userdata);
    std::string line = level == XMPP_LEVEL_ERROR ? "libstrophe error: " : "libstrophe warning: ";
    line += area ? area : "";
    line += ": ";
    line += msg ? msg : "";
    self->log(line);
  } catch (...) {
  }
}

void ComponentConnection::Impl::finish(const Disconnect& d) {
  attempt_active = false;
  handshake_done = false;
  tcp_established = false;
  closing = false;
  timed_out = false;
  connect_errno = 0;
  fd = -1;
  if (handlers.on_disconnected) handlers.on_disconnected(d);
}

void ComponentConnection::Impl::on_conn_event(xmpp_conn_t*, xmpp_conn_event_t event, int error,
                                              xmpp_stream_error_t* stream_error,
                                              void* userdata) noexcept {
  auto* self = static_cast<Impl*>(userdata);
  if (self->in_destructor) return;
  try {
    if (event == XMPP_CONN_CONNECT) {
      self->handshake_done = true;
      self->tcp_established = true;
      if (self->handlers.on_connected) self->handlers.on_connected();
      return;
    }
    if (event != XMPP_CONN_DISCONNECT && event != XMPP_CONN_FAIL) return;
    if (!self->attempt_active) return;  // e.g. the workaround's client attempt
    Disconnect d;
    d.was_connected = self->handshake_done;
    if (self->closing) {
      d.cause = DisconnectCause::closed;
    } else if (stream_error) {
      d.cause = cause_of(stream_error->type);
      d.detail = stream_error_name(stream_error->type);
      if (stream_error->text && *stream_error->text) {
        d.detail += ": ";
        d.detail += stream_error->text;
      }
    } else if (self->timed_out) {
      d.cause = DisconnectCause::connect_failed;
      d.detail = self->tcp_established ? "no handshake within the connect timeout"
                                       : "TCP connect timed out";
    } else if (!d.was_connected && (error != 0 || !self->tcp_established)) {
      d.cause = DisconnectCause::connect_failed;
      if (error == 0) error = self->connect_errno;
      d.detail = error != 0 ? std::strerror(error) : "connection failed";
    } else {
      d.cause = DisconnectCause::network;
      d.detail = error != 0 ? std::strerror(error) : "stream closed by the server";
    }
    self->finish(d);
  } catch (const std::exception& e) {
    self->log(std::string("exception in connection handler: ") + e.what());
  } catch (...) {
    self->log("unknown exception in connection handler");
  }
}

int ComponentConnection::Impl::on_stanza(xmpp_conn_t*, xmpp_stanza_t* stanza,
                                         void* userdata) noexcept {
  auto* self = static_cast<Impl*>(userdata);
  try {
    if (self->in_destructor || !self->handshake_done) return 1;
    const char* ns = xmpp_stanza_get_ns(stanza);
    if (ns && std::string_view(ns) == "http://etherx.jabber.org/streams") return 1;
    auto element = self->reader.convert(stanza, {}, 0);
    if (!element) {
      // Too deep to convert: hand on the top level alone, so its sender can be answered.
      if (!self->handlers.on_too_deep) {
        self->log("dropped a received stanza nested too deeply");
        return 1;
      }
      const char* name = xmpp_stanza_get_name(stanza);
      Element top(name ? name : "");
      self->reader.convert_attributes(stanza, {}, 0, top);
      self->handlers.on_too_deep(std::move(top));
      return 1;
    }
    if (self->handlers.on_stanza) self->handlers.on_stanza(std::move(*element));
  } catch (const std::exception& e) {
    self->log(std::string("exception in stanza handler: ") + e.what());
  } catch (...) {
    self->log("unknown exception in stanza handler");
  }
  return 1;  // keep the handler
}

ComponentConnection::ComponentConnection(Handlers handlers)
    : impl_(std::make_unique<Impl>(std::move(handlers))) {}

ComponentConnection::~ComponentConnection() = default;

bool ComponentConnection::connect(const ComponentSettings& settings) {
  Impl& s = *impl_;
  if (!xmpp_conn_is_disconnected(s.conn) || s.attempt_active) {
    s.log("connect() ignored: the connection is not disconnected");
    return false;
  }
  xmpp_conn_set_jid(s.conn, settings.domain.c_str());
  xmpp_conn_set_pass(s.conn, settings.secret.c_str());
  s.prepare_sm_state_once();  // needs the JID set
  s.attempt_active = true;
  s.handshake_done = false;
  s.tcp_established = false;
  s.closing = false;
  s.timed_out = false;
  s.fd = -1;
  // 0 means no bound of our own (libstrophe still gives up a TCP connect after 5 s).
  s.deadline = settings.connect_timeout_ms == 0
                   ? Clock::time_point::max()
                   : Clock::now() + std::chrono::milliseconds(settings.connect_timeout_ms);
  const int rc = xmpp_connect_component(s.conn, settings.host.c_str(), settings.port,
                                        &Impl::on_conn_event, impl_.get());
  if (rc == XMPP_EOK) return true;
  if (s.attempt_active) {
    // libstrophe failed without calling the connection handler.
    Disconnect d;
    d.cause = DisconnectCause::connect_failed;
    d.detail = "cannot connect to " + settings.host + ":" + std::to_string(settings.port);
    s.finish(d);
  }
  return false;
}

void ComponentConnection::disconnect() {
  Impl& s = *impl_;
  if (!s.attempt_active) return;
  s.closing = true;
  if (!s.tcp_established && s.fd >= 0) {
    // xmpp_disconnect would wait two seconds for a stream that never opened; cut it instead
    // (libstrophe still owns and closes the descriptor).
    shutdown(s.fd, SHUT_RDWR);
  }
  xmpp_disconnect(s.conn);
  s.flush_pending = true;
}

bool ComponentConnection::connecting() const {
  return impl_->attempt_active && !impl_->handshake_done;
}

bool ComponentConnection::connected() const {
  return impl_->handshake_done && xmpp_conn_is_connected(impl_->conn);
}

bool ComponentConnection::disconnected() const {
  return !impl_->attempt_active && xmpp_conn_is_disconnected(impl_->conn);
}

int ComponentConnection::socket_fd() const {
  return xmpp_conn_is_disconnected(impl_->conn) ? -1 : impl_->fd;
}

bool ComponentConnection::wants_write() const {
  // POLLOUT only while the TCP connect is pending: during the handshake the socket is always
  // writable and polling for it would spin.
  const bool tcp_pending = impl_->attempt_active && !impl_->tcp_established;
  return tcp_pending || impl_->flush_pending || send_queue_length() > 0;
}

std::size_t ComponentConnection::send_queue_length() const {
  const int n = xmpp_conn_send_queue_len(impl_->conn);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void ComponentConnection::run_once() {
  Impl& s = *impl_;
  if (s.attempt_active && !s.handshake_done && !s.timed_out && Clock::now() >= s.deadline &&
      s.fd >= 0) {
    // libstrophe times out only the TCP connect (and at its own 5 s); we bound the handshake
    // too. Shutting the socket down makes libstrophe see the end of the stream at once.
    s.timed_out = true;
    shutdown(s.fd, SHUT_RDWR);
  }
  // libstrophe completes a pending TCP connect in xmpp_run_once once the socket is writable;
  // a peer address seen before the call means this pass completes it.
  bool peer_known = false;
  if (s.attempt_active && !s.tcp_established && s.fd >= 0) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    peer_known = getpeername(s.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  }
  xmpp_run_once(s.ctx, 0);
  if (peer_known && s.attempt_active) s.tcp_established = true;
  // During the handshake (and after disconnect()) libstrophe queues its own bytes inside the
  // pass and sends them only at the start of the next one: run that next pass now rather than
  // wait for the next poll timeout.
  const bool again = s.flush_pending || (s.attempt_active && !s.handshake_done);
  s.flush_pending = false;  // a disconnect() inside the next pass sets it again
  if (again) xmpp_run_once(s.ctx, 0);
}

void ComponentConnection::send(const Element& stanza) {
  if (!connected()) {
    impl_->log("dropped an outgoing <" + stanza.name + "> stanza: not connected");
    return;
  }
  // One output buffer, reused: its capacity stays, so sending allocates nothing once warm.
  std::string& xml = impl_->send_buffer;
  xml.clear();
  stanza.append_xml(xml);
  xmpp_send_raw(impl_->conn, xml.data(), xml.size());
}

}  // namespace concierge::xmpp
