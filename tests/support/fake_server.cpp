// SPDX-License-Identifier: MIT
#include <tests/support/fake_server.hpp>

#include <expat.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <vector>

namespace concierge::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kLingerAfterClose = std::chrono::seconds(2);

std::string sha1_hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

std::string new_stream_id() {
  static std::atomic<unsigned> counter{0};
  return "fake" + std::to_string(::getpid()) + "x" + std::to_string(++counter);
}

std::string stream_error(std::string_view condition) {
  return "<stream:error><" + std::string(condition) +
         " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>";
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

// One accepted socket and the expat parser reading its stream. Lives on the server thread.
struct FakeServer::Connection {
  FakeServer* server = nullptr;
  int fd = -1;
  XML_Parser parser = nullptr;
  int depth = 0;
  std::optional<xmpp::Element> stanza;
  std::vector<xmpp::Element*> stack;
  std::string stream_id;
  bool handshake_done = false;
  std::string out;
  bool close_after_flush = false;
  bool write_shut = false;
  Clock::time_point linger_until{};

  Connection(FakeServer* s, int socket_fd) : server(s), fd(socket_fd) {
    parser = XML_ParserCreate("UTF-8");
    if (!parser) throw std::runtime_error("expat: cannot create parser");
    XML_SetUserData(parser, this);
    XML_SetElementHandler(parser, &Connection::on_start, &Connection::on_end);
    XML_SetCharacterDataHandler(parser, &Connection::on_text);
  }
  ~Connection() {
    XML_ParserFree(parser);
    close_fd(fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void fail(std::string_view condition) {
    out += stream_error(condition);
    close_after_flush = true;
    std::lock_guard lock(server->mutex_);
    server->last_error_ = condition;
  }

  void open_stream(const XML_Char** attrs) {
    std::string to;
    for (int i = 0; attrs[i]; i += 2) {
      if (std::string_view(attrs[i]) == "to") to = attrs[i + 1];
    }
    stream_id = new_stream_id();
    out +=
        "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
        "xmlns='jabber:component:accept' from='" +
        to + "' id='" + stream_id + "'>";
    {
      std::lock_guard lock(server->mutex_);
      server->last_to_ = to;
    }
    if (to != server->domain_) fail("host-unknown");
  }

  void handle_handshake(const xmpp::Element& e) {
    Mode mode;
    {
      std::lock_guard lock(server->mutex_);
      mode = server->mode_;
    }
    switch (mode) {
      case Mode::silent:
        return;
      case Mode::not_authorized:
        fail("not-authorized");
        return;
      case Mode::conflict:
        fail("conflict");
        return;
      case Mode::accept:
      case Mode::close_on_accept:
        break;
    }
    if (e.inner_text() != sha1_hex(stream_id + server->secret_)) {
      fail("not-authorized");
      return;
    }
    out += "<handshake/>";
    handshake_done = true;
    std::lock_guard lock(server->mutex_);
    server->authenticated_ = true;
    ++server->handshakes_;
    server->changed_.notify_all();
  }

  void handle_stanza(xmpp::Element e) {
    if (!handshake_done) {
      if (e.name == "handshake") handle_handshake(e);
      return;  // nothing else counts before the handshake
    }
    std::lock_guard lock(server->mutex_);
    if (server->auto_ping_ && e.name == "iq" && e.attr("type") == "get" &&
        e.attr("to") == server->server_domain_ && e.child("ping", "urn:xmpp:ping")) {
      xmpp::Element reply("iq");
      reply.set_attr("type", "result");
      reply.set_attr("id", e.attr("id"));
      reply.set_attr("from", server->server_domain_);
      if (const std::string* from = e.find_attr("from")) reply.set_attr("to", *from);
      out += reply.to_xml();
      return;
    }
    server->received_.push_back(std::move(e));
    server->changed_.notify_all();
  }

  static void on_start(void* user, const XML_Char* name, const XML_Char** attrs) {
    auto* self = static_cast<Connection*>(user);
    if (self->depth++ == 0) {
      self->open_stream(attrs);
      return;
    }
    xmpp::Element e(name);
    for (int i = 0; attrs[i]; i += 2) e.attributes.emplace_back(attrs[i], attrs[i + 1]);
    if (self->stack.empty()) {
      self->stanza = std::move(e);
      self->stack.push_back(&*self->stanza);
    } else {
      self->stack.push_back(&self->stack.back()->add_child(std::move(e)));
    }
  }

  static void on_end(void* user, const XML_Char*) {
    auto* self = static_cast<Connection*>(user);
    if (--self->depth == 0) {
      // The component closed its stream: close ours and the socket.
      self->out += "</stream:stream>";
      self->close_after_flush = true;
      return;
    }
    if (!self->stack.empty()) self->stack.pop_back();
    if (self->stack.empty() && self->stanza) {
      xmpp::Element done = std::move(*self->stanza);
      self->stanza.reset();
      self->handle_stanza(std::move(done));
    }
  }

  static void on_text(void* user, const XML_Char* s, int len) {
    auto* self = static_cast<Connection*>(user);
    if (self->stack.empty()) return;
    xmpp::Element& parent = *self->stack.back();
    const std::string_view piece(s, static_cast<std::size_t>(len));
    if (!parent.children.empty() && parent.children.back().is_text()) {
      parent.children.back().text += piece;
    } else {
      parent.children.push_back(xmpp::Element::text_node(std::string(piece)));
    }
  }

  // false when the peer closed or the stream is broken.
  bool read_some() {
    std::array<char, 16384> buf{};
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    if (write_shut || close_after_flush) return true;  // closing: ignore what still comes
    if (XML_Parse(parser, buf.data(), static_cast<int>(n), XML_FALSE) != XML_STATUS_OK) {
      fail("not-well-formed");
    }
    return true;
  }

  bool write_some() {
    if (out.empty()) return true;
    const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n < 0) return false;
    out.erase(0, static_cast<std::size_t>(n));
    return true;
  }
};

FakeServer::FakeServer(std::string domain, std::string secret)
    : domain_(std::move(domain)), secret_(std::move(secret)) {
  const auto dot = domain_.find('.');
  server_domain_ = dot == std::string::npos ? domain_ : domain_.substr(dot + 1);

  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) throw std::runtime_error("fake server: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 8) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    close_fd(listen_fd_);
    close_fd(wake_fds_[0]);
    close_fd(wake_fds_[1]);
    throw std::runtime_error("fake server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

FakeServer::~FakeServer() {
  stop();
}

void FakeServer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
  close_fd(listen_fd_);
  close_fd(wake_fds_[0]);
  close_fd(wake_fds_[1]);
}

void FakeServer::wake() {
  if (wake_fds_[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fds_[1], &byte, 1);
  }
}

void FakeServer::set_mode(Mode mode) {
  std::lock_guard lock(mutex_);
  mode_ = mode;
}

void FakeServer::set_auto_ping(bool on) {
  std::lock_guard lock(mutex_);
  auto_ping_ = on;
}

bool FakeServer::send(std::string xml) {
  {
    std::lock_guard lock(mutex_);
    if (!open_) return false;
    outgoing_ += xml;
  }
  wake();
  return true;
}

std::optional<xmpp::Element> FakeServer::next_stanza(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return !received_.empty(); })) {
    return std::nullopt;
  }
  xmpp::Element e = std::move(received_.front());
  received_.pop_front();
  return e;
}

std::size_t FakeServer::pending_stanzas() const {
  std::lock_guard lock(mutex_);
  return received_.size();
}

bool FakeServer::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return authenticated_; });
}

bool FakeServer::wait_disconnected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return !open_; });
}

bool FakeServer::authenticated() const {
  std::lock_guard lock(mutex_);
  return authenticated_;
}

void FakeServer::drop_connection() {
  {
    std::lock_guard lock(mutex_);
    drop_requested_ = true;
  }
  wake();
}

void FakeServer::close_stream() {
  {
    std::lock_guard lock(mutex_);
    close_requested_ = true;
  }
  wake();
}

int FakeServer::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

int FakeServer::handshakes_accepted() const {
  std::lock_guard lock(mutex_);
  return handshakes_;
}

std::string FakeServer::last_stream_to() const {
  std::lock_guard lock(mutex_);
  return last_to_;
}

std::string FakeServer::last_stream_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void FakeServer::run() {
  std::unique_ptr<Connection> conn;
  auto close_connection = [&] {
    conn.reset();
    std::lock_guard lock(mutex_);
    open_ = false;
    authenticated_ = false;
    outgoing_.clear();
    changed_.notify_all();
  };

  for (;;) {
    bool drop = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      drop = drop_requested_;
      drop_requested_ = false;
      if (conn && !outgoing_.empty()) {
        conn->out += outgoing_;
        outgoing_.clear();
      }
      if (conn && close_requested_ && !conn->close_after_flush) {
        conn->out += "</stream:stream>";
        conn->close_after_flush = true;
      }
      close_requested_ = false;
    }
    if (drop && conn) {
      // A reset, not a FIN: the component sees the stream cut, as when a server dies.
      const linger hard{1, 0};
      ::setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      close_connection();
    }
    if (conn && conn->close_after_flush && conn->out.empty() && !conn->write_shut) {
      // Half-close and wait for the component to close its side, so it reads everything.
      ::shutdown(conn->fd, SHUT_WR);
      conn->write_shut = true;
      conn->linger_until = Clock::now() + kLingerAfterClose;
    }
    if (conn && conn->write_shut && Clock::now() >= conn->linger_until) close_connection();

    std::vector<pollfd> fds{{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (conn) {
      short events = POLLIN;
      if (!conn->out.empty()) events |= POLLOUT;
      fds.push_back({conn->fd, events, 0});
    }
    if (::poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) break;

    if (fds[0].revents & POLLIN) {
      std::array<char, 64> drain{};
      while (::read(wake_fds_[0], drain.data(), drain.size()) > 0) {
      }
    }
    if (conn && fds.size() > 2) {
      const short rev = fds[2].revents;
      bool alive = true;
      if (rev & (POLLIN | POLLHUP | POLLERR)) alive = conn->read_some();
      if (alive && (rev & POLLOUT)) alive = conn->write_some();
      if (alive && !conn->out.empty()) alive = conn->write_some();
      if (!alive) close_connection();
    }
    if (fds[1].revents & POLLIN) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        if (conn) close_connection();  // one component at a time: the newest wins
        Mode mode;
        {
          std::lock_guard lock(mutex_);
          ++connections_;
          mode = mode_;
          open_ = mode != Mode::close_on_accept;
          changed_.notify_all();
        }
        if (mode == Mode::close_on_accept) {
          ::close(fd);
        } else {
          // Like a real server configured for components: no Nagle delay on small stanzas.
          const int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn = std::make_unique<Connection>(this, fd);
        }
      }
    }
  }
  conn.reset();
  std::lock_guard lock(mutex_);
  open_ = false;
  authenticated_ = false;
  changed_.notify_all();
}

}  // namespace concierge::testing
