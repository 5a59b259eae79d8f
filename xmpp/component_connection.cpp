// SPDX-License-Identifier: MIT
#include <xmpp/component_connection.hpp>

#include <strophe.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace concierge::xmpp {
namespace {

using Clock = std::chrono::steady_clock;

// xmpp_initialize/xmpp_shutdown once per process, however many connections come and go.
class LibraryUse {
 public:
  LibraryUse() {
    std::lock_guard lock(mutex());
    if (count()++ == 0) {
      xmpp_initialize();
      ignore_sigpipe();
    }
  }
  ~LibraryUse() {
    std::lock_guard lock(mutex());
    if (--count() == 0) xmpp_shutdown();
  }
  LibraryUse(const LibraryUse&) = delete;
  LibraryUse& operator=(const LibraryUse&) = delete;

 private:
  // libstrophe writes with plain send(): a write to a socket the server has closed raises
  // SIGPIPE, which kills the process by default. Ignore it unless the process chose a handler.
  static void ignore_sigpipe() {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  }
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& count() {
    static int n = 0;
    return n;
  }
};

constexpr std::array<const char*, 24> kStreamErrorNames{"bad-format",
                                                        "bad-namespace-prefix",
                                                        "conflict",
                                                        "connection-timeout",
                                                        "host-gone",
                                                        "host-unknown",
                                                        "improper-addressing",
                                                        "internal-server-error",
                                                        "invalid-from",
                                                        "invalid-id",
                                                        "invalid-namespace",
                                                        "invalid-xml",
                                                        "not-authorized",
                                                        "policy-violation",
                                                        "remote-connection-failed",
                                                        "resource-constraint",
                                                        "restricted-xml",
                                                        "see-other-host",
                                                        "system-shutdown",
                                                        "undefined-condition",
                                                        "unsupported-encoding",
                                                        "unsupported-stanza-type",
                                                        "unsupported-version",
                                                        "not-well-formed"};
static_assert(XMPP_SE_XML_NOT_WELL_FORMED + 1 == kStreamErrorNames.size());

const char* stream_error_name(xmpp_error_type_t type) {
  const auto index = static_cast<std::size_t>(type);
  return index < kStreamErrorNames.size() ? kStreamErrorNames[index] : "unknown";
}

DisconnectCause cause_of(xmpp_error_type_t type) {
  switch (type) {
    case XMPP_SE_NOT_AUTHORIZED:
      return DisconnectCause::not_authorized;
    case XMPP_SE_HOST_UNKNOWN:
      return DisconnectCause::host_unknown;
    case XMPP_SE_CONFLICT:
      return DisconnectCause::conflict;
    default:
      return DisconnectCause::stream_error;
  }
}

// The namespaces a stanza's top level carries on the wire; neither means anything to handlers.
bool is_stream_namespace(std::string_view ns) {
  return ns == "jabber:component:accept" || ns == "jabber:client";
}

}  // namespace

const char* to_string(DisconnectCause cause) {
  switch (cause) {
    case DisconnectCause::connect_failed:
      return "connect_failed";
    case DisconnectCause::not_authorized:
      return "not_authorized";
    case DisconnectCause::host_unknown:
      return "host_unknown";
    case DisconnectCause::conflict:
      return "conflict";
    case DisconnectCause::stream_error:
      return "stream_error";
    case DisconnectCause::network:
      return "network";
    case DisconnectCause::closed:
      return "closed";
  }
  return "unknown";
}

struct ComponentConnection::Impl {
  explicit Impl(Handlers h);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void log(std::string_view line) const noexcept;
  void prepare_sm_state_once();
  void finish(const Disconnect& d);
  std::optional<Element> convert(xmpp_stanza_t* stanza, std::string_view parent_ns,
                                 int depth) const;
  // Copies the attributes into `e`; returns the namespace in force for its children.
  std::string_view convert_attributes(xmpp_stanza_t* stanza, std::string_view parent_ns, int depth,
                                      Element& e) const;

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
  mutable std::vector<const char*> attribute_scratch;
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

std::string_view ComponentConnection::Impl::convert_attributes(xmpp_stanza_t* stanza,
                                                               std::string_view parent_ns,
                                                               int depth, Element& e) const {
  const int count = xmpp_stanza_get_attribute_count(stanza);
  // Views into libstrophe's stanza, which outlives the conversion: no copy per element.
  std::string_view ns = parent_ns;
  if (count <= 0) return ns;
  // One scratch buffer for every element: its attributes are read before the recursion.
  std::vector<const char*>& attrs = attribute_scratch;
  attrs.assign(static_cast<std::size_t>(count) * 2, nullptr);
  const int filled = xmpp_stanza_get_attributes(stanza, attrs.data(), count * 2);
  e.attributes.reserve(static_cast<std::size_t>(filled) / 2);
  for (int i = 0; i + 1 < filled; i += 2) {
    const std::string_view key = attrs[static_cast<std::size_t>(i)];
    const std::string_view value = attrs[static_cast<std::size_t>(i) + 1];
    if (key == "xmlns") {
      // libstrophe's namespace-aware parser sets xmlns on every element, inherited or not;
      // keep only real declarations.
      const bool top_level_stream_ns = depth == 0 && is_stream_namespace(value);
      ns = value;
      if (value == parent_ns || top_level_stream_ns) continue;
    }
    // The parser also strips attribute prefixes; the one that matters in XMPP is xml:lang.
    e.attributes.emplace_back(key == "lang" ? std::string_view("xml:lang") : key, value);
  }
  return ns;
}

std::optional<Element> ComponentConnection::Impl::convert(xmpp_stanza_t* stanza,
                                                          std::string_view parent_ns,
                                                          int depth) const {
  if (depth > kMaxStanzaDepth) return std::nullopt;
  if (xmpp_stanza_is_text(stanza)) {
    const char* text = xmpp_stanza_get_text_ptr(stanza);
    return Element::text_node(text ? text : "");
  }
  const char* name = xmpp_stanza_get_name(stanza);
  Element e(name ? name : "");
  const std::string_view ns = convert_attributes(stanza, parent_ns, depth, e);
  for (xmpp_stanza_t* c = xmpp_stanza_get_children(stanza); c; c = xmpp_stanza_get_next(c)) {
    auto child = convert(c, ns, depth + 1);
    if (!child) return std::nullopt;
    e.children.push_back(std::move(*child));
  }
  return e;
}

int ComponentConnection::Impl::on_stanza(xmpp_conn_t*, xmpp_stanza_t* stanza,
                                         void* userdata) noexcept {
  auto* self = static_cast<Impl*>(userdata);
  try {
    if (self->in_destructor || !self->handshake_done) return 1;
    const char* ns = xmpp_stanza_get_ns(stanza);
    if (ns && std::string_view(ns) == "http://etherx.jabber.org/streams") return 1;
    auto element = self->convert(stanza, {}, 0);
    if (!element) {
      // Too deep to convert: hand on the top level alone, so its sender can be answered.
      if (!self->handlers.on_too_deep) {
        self->log("dropped a received stanza nested too deeply");
        return 1;
      }
      const char* name = xmpp_stanza_get_name(stanza);
      Element top(name ? name : "");
      self->convert_attributes(stanza, {}, 0, top);
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
