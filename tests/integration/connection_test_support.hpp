// SPDX-License-Identifier: MIT
#pragma once
// What the ComponentConnection tests share: Component, which owns one ComponentConnection and
// records what its handlers saw, driven by a small poll loop like the application's. Test-only;
// it touches no server but the FakeServer a test passes.
#include <xmpp/component_connection.hpp>
#include <xmpp/element.hpp>

#include <tests/support/fake_server.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace concierge::xmpp::connection_test {

using namespace std::chrono_literals;
using testing::FakeServer;

constexpr auto kWait = 5000ms;
inline const std::string kDomain = "concierge.localhost";
inline const std::string kSecret = "s3cret-of-the-component";

class Component {
 public:
  Component()
      : connection_(ComponentConnection::Handlers{
            .on_connected = [this] { ++connected_count; },
            .on_disconnected = [this](const Disconnect& d) { disconnects.push_back(d); },
            .on_stanza =
                [this](Element&& e) {
                  stanzas.push_back(std::move(e));
                  if (stanza_hook) stanza_hook(stanzas.back());
                },
            .on_log = [this](std::string_view line) { logs.emplace_back(line); },
            .on_too_deep = [this](Element&& e) { too_deep.push_back(std::move(e)); }}) {}

  ComponentConnection& connection() { return connection_; }

  bool connect(const FakeServer& server, std::string domain = kDomain,
               std::string secret = kSecret) {
    ComponentSettings settings;
    settings.host = "127.0.0.1";
    settings.port = server.port();
    settings.domain = std::move(domain);
    settings.secret = std::move(secret);
    return connection_.connect(settings);
  }

  // Polls the socket like the application does and runs libstrophe until `done` or timeout.
  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      const int fd = connection_.socket_fd();
      if (fd >= 0) {
        const short events = static_cast<short>(POLLIN | (connection_.wants_write() ? POLLOUT : 0));
        pollfd p{fd, events, 0};
        ::poll(&p, 1, 50);  // at most 50 ms: run_once runs often enough while connecting
      } else {
        ::poll(nullptr, 0, 10);
      }
      connection_.run_once();
    }
    return true;
  }

  bool pump_until_connected() {
    return pump_until([this] { return connection_.connected(); });
  }
  bool pump_until_disconnected(std::size_t count = 1) {
    return pump_until([this, count] { return disconnects.size() >= count; });
  }

  std::function<void(const Element&)> stanza_hook;  // runs inside run_once()
  int connected_count = 0;
  std::vector<Disconnect> disconnects;
  std::vector<Element> stanzas;
  std::vector<Element> too_deep;
  std::vector<std::string> logs;

 private:
  ComponentConnection connection_;
};

}  // namespace concierge::xmpp::connection_test
