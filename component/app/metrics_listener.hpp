// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

struct MHD_Daemon;

namespace concierge::app {

// The [metrics] HTTP listener: libmicrohttpd in external mode, turned by Concierge's own loop
// (no thread of its own). It answers GET /metrics with `render()` as OpenMetrics text, 404 for
// other paths and 405 for other methods, and bounds every client: a few connections at once,
// a small request buffer (a huge request line or header gets 431) and a timeout for the slow.
//
// The loop polls fd() for POLLIN, sleeps at most timeout(), and calls run() after each poll.
// Not copyable: `this` is the library's callback argument.
class MetricsListener {
 public:
  using Render = std::function<std::string()>;

  // Limits (tests shorten the timeout).
  struct Limits {
    unsigned connections = 8;                       // at once; more wait in the kernel's backlog
    std::size_t memory_per_connection = 16 * 1024;  // request line + headers must fit
    unsigned timeout_seconds = 10;                  // a connection idle this long is closed
  };

  // Listens on `listen` ("127.0.0.1:9464", "[::1]:9464"); the reason in words when it cannot.
  static std::variant<std::unique_ptr<MetricsListener>, std::string> start(
      const std::string& listen, Render render, Limits limits);
  static std::variant<std::unique_ptr<MetricsListener>, std::string> start(
      const std::string& listen, Render render) {
    return start(listen, std::move(render), Limits{});
  }
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;

  int fd() const;  // libmicrohttpd's epoll descriptor: readable when there is work
  std::optional<std::chrono::milliseconds> timeout() const;  // its next connection timeout
  void run();                  // accepts, reads, answers, closes; never blocks
  std::uint16_t port() const;  // the bound port (useful with port 0)

 private:
  explicit MetricsListener(Render render) : render_(std::move(render)) {}

  Render render_;  // the library's callback argument: its address must not change
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace concierge::app
