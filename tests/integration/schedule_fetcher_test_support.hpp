// SPDX-License-Identifier: MIT
#pragma once
// What the schedule fetcher tests share: ScriptedServer, an HTTP server on 127.0.0.1:0 that
// answers from a script the test writes, and drive(), a small poll loop like Concierge's own.
// Test-only; every wait is bounded.
#include <component/app/schedule_fetcher.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace concierge::app::schedule_fetcher_test {

using namespace std::chrono_literals;

struct Reply {
  std::string raw;    // the whole HTTP response
  bool hang = false;  // send raw, then keep the connection open without finishing
};

// One thread, one connection at a time: reads a request head, answers from the script, closes.
class ScriptedServer {
 public:
  using Script = std::function<Reply(const std::string& path, const std::string& head)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    for (int fd : hung_) ::close(fd);
    ::close(listener_);
  }

  std::string url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }
  std::vector<std::string> heads() const {
    std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      std::string head;
      char buf[4096];
      const auto until = std::chrono::steady_clock::now() + 2s;
      while (head.find("\r\n\r\n") == std::string::npos &&
             std::chrono::steady_clock::now() < until) {
        pollfd c{fd, POLLIN, 0};
        if (::poll(&c, 1, 20) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
        if (head[0] == '\x16') break;  // a TLS ClientHello: no HTTP head will come
      }
      {
        std::lock_guard lock(mutex_);
        heads_.push_back(head);
      }
      const auto sp1 = head.find(' ');
      const auto sp2 = sp1 == std::string::npos ? sp1 : head.find(' ', sp1 + 1);
      const std::string path =
          sp2 == std::string::npos ? std::string{} : head.substr(sp1 + 1, sp2 - sp1 - 1);
      const Reply reply = script_(path, head);
      std::size_t sent = 0;
      while (sent < reply.raw.size()) {
        const ssize_t n =
            ::send(fd, reply.raw.data() + sent, reply.raw.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the client gave up (size cap): fine
        sent += static_cast<std::size_t>(n);
      }
      if (reply.hang) {
        hung_.push_back(fd);
      } else {
        ::close(fd);
      }
    }
  }

  Script script_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> heads_;
  std::vector<int> hung_;  // touched by the server thread only until join
};

inline std::string response(int status, const std::string& reason, const std::string& body,
                            const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         extra_headers + "\r\n" + body;
}

// Concierge's loop in miniature: poll fds() for at most timeout(), dispatch, until a result.
inline std::vector<FetchResult> drive(ScheduleFetcher& fetcher,
                                      std::chrono::milliseconds bound = 5s) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < until) {
    if (auto done = fetcher.take_done(); !done.empty()) return done;
    std::vector<pollfd> polled;
    for (const PollFd& f : fetcher.fds()) polled.push_back({f.fd, f.events, 0});
    auto wait = fetcher.timeout().value_or(100ms);
    wait = std::min<std::chrono::milliseconds>(wait, 100ms);
    const int n = ::poll(polled.data(), polled.size(), static_cast<int>(wait.count()));
    if (n > 0) {
      for (const pollfd& p : polled) {
        if (p.revents != 0) fetcher.on_ready(p.fd, p.revents);
      }
    }
    if (auto t = fetcher.timeout(); t && *t <= 0ms) fetcher.on_timeout();
  }
  return {};
}

inline FetchLimits local_limits() {
  FetchLimits limits;
  limits.allow_private = true;
  limits.connect_timeout = 2s;
  limits.total_timeout = 3s;
  return limits;
}

inline const FetchError& error_of(const FetchResult& r) {
  return std::get<FetchError>(r.outcome);
}

constexpr const char* kCalendar =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1M\r\n"
    "BEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

inline Reply redirect_chain(const std::string& path) {
  // /r/N redirects to /r/N-1; /r/0 answers.
  const int n = std::stoi(path.substr(3));
  if (n == 0) return Reply{response(200, "OK", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")};
  return Reply{"HTTP/1.1 302 Found\r\nLocation: /r/" + std::to_string(n - 1) +
               "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
}

}  // namespace concierge::app::schedule_fetcher_test
