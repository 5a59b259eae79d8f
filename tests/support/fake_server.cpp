// SPDX-License-Identifier: MIT
// The fake XEP-0114 server: its listening socket, thread and what tests ask of it. One stream
// at a time is read by a Connection (fake_server_connection.hpp).
#include <tests/support/fake_server.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tests/support/fake_server_connection.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <vector>

namespace concierge::testing {
namespace {

using fake_server_detail::close_fd;
using Clock = fake_server_detail::Clock;

constexpr auto kLingerAfterClose = std::chrono::seconds(2);

}  // namespace

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
