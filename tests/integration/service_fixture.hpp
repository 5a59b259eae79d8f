// SPDX-License-Identifier: MIT
#pragma once
// What the Service tests share: a config with alice and bob enrolled, and the fixture that owns
// the fake XEP-0114 server and reads the component's messages from it. The service itself runs
// in a testing::RunningService each test starts. Not in an anonymous namespace: the fixture is
// one type for every file of the ServiceTest suite.
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include <component/app/service.hpp>
#include <tests/support/fake_server.hpp>
#include <tests/support/running_service.hpp>

namespace concierge::app::service_test {

using namespace std::chrono_literals;
using concierge::testing::FakeServer;
using concierge::testing::RunningService;

using concierge::testing::fast_loop_timings;

inline config::Config make_config(std::uint16_t port, std::string jid = "sched.localhost") {
  config::Config c;
  c.file = "test.toml";
  c.component.jid = std::move(jid);
  c.component.secret = "s3cr3t";
  c.component.host = "127.0.0.1";
  c.component.port = port;
  c.served.domains = {"localhost"};
  for (const char* u : {"alice@localhost", "bob@localhost"}) {
    config::User user;
    user.jid = u;
    user.timezone = "Europe/Berlin";
    c.users.push_back(user);
  }
  return c;
}

class ServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Service::block_signals(); }
  FakeServer server{"sched.localhost", "s3cr3t"};

  std::optional<xmpp::Element> next_message(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = server.next_stanza(100ms);
      if (s && s->name == "message") return s;
    }
    return std::nullopt;
  }
  bool relays_alice_to(const std::string& target_proxy, const std::string& id) {
    server.send(R"(<message from="alice@localhost/a" to=")" + target_proxy +
                R"(" type="chat" id=")" + id + R"("><body>hello</body></message>)");
    auto m = next_message();
    return m && m->attr("id") == id && m->attr("type") == "chat" &&
           m->attr("from") == "alice\\40localhost@sched.localhost";
  }
};

}  // namespace concierge::app::service_test
