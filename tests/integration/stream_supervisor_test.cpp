// SPDX-License-Identifier: MIT
// StreamSupervisor and PacedSender driven alone against the in-process fake XEP-0114 server,
// with the test as the loop (no Service, no core): hosts tried in turn, a refused identity at
// startup being fatal, releases going out with the ping whose answer confirms them, and a
// forwarded message following releases to its target but not to others.
#include <component/app/paced_sender.hpp>
#include <component/app/stream_supervisor.hpp>

#include <poll.h>

#include <cstdio>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include <tests/support/fake_server.hpp>
#include <tests/support/refusing_port.hpp>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;
using Clock = std::chrono::steady_clock;


config::Config make_config(std::vector<config::Component::Endpoint> hosts) {
  config::Config c;
  c.component.jid = "sched.localhost";
  c.component.secret = "s3cr3t";
  c.component.hosts = std::move(hosts);
  c.served.domains = {"localhost"};
  return c;
}

// The parts under test, with the test's handlers standing in for the Service.
class Stream {
 public:
  explicit Stream(config::Config config)
      : config_(std::move(config)),
        log_(LogLevel::error, stderr),
        supervisor_(config_, log_, {30s, 15s, Backoff(10ms, 20ms)},
                    {[this] { ++connected; },
                     [this](const xmpp::Disconnect& d) { disconnects.push_back(d); },
                     [this](xmpp::Element&& s) { stanzas.push_back(std::move(s)); },
                     [](xmpp::Element&&) {}}),
        paced_(config_, supervisor_, log_) {}

  StreamSupervisor& supervisor() { return supervisor_; }
  PacedSender& paced() { return paced_; }

  // The loop, until `done` (at most 5 s): poll the socket, run the connection, reconnect when due.
  // Bounded, and generous: under ASan on a loaded machine the fake server's answers have taken
  // over 5 s (a CI run); a working stream is done in milliseconds, so this costs nothing then.
  bool pump_until(const std::function<bool()>& done) {
    const auto deadline = Clock::now() + 30s;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      auto& connection = supervisor_.connection();
      pollfd p{connection.socket_fd(), POLLIN, 0};
      if (connection.wants_write()) p.events |= POLLOUT;
      ::poll(p.fd >= 0 ? &p : nullptr, p.fd >= 0 ? 1 : 0, 10);
      if (!connection.disconnected()) connection.run_once();
      if (supervisor_.reconnect_due(Clock::now())) supervisor_.connect();
    }
    return true;
  }

  int connected = 0;
  std::vector<xmpp::Disconnect> disconnects;
  std::vector<xmpp::Element> stanzas;

 private:
  config::Config config_;
  Logger log_;
  StreamSupervisor supervisor_;
  PacedSender paced_;
};

xmpp::Element chat(const std::string& to, const std::string& id) {
  xmpp::Element m = xmpp::make(
      "message",
      {{"from", "alice\\40localhost@sched.localhost"}, {"to", to}, {"type", "chat"}, {"id", id}});
  m.add_child(xmpp::make_text("body", "hi"));
  return m;
}

TEST(StreamSupervisor, AFailedHostIsFollowedByTheNextOneWithTheReasonAsStatus) {
  FakeServer server("sched.localhost", "s3cr3t");
  const testing::RefusingPort dead;
  Stream s(make_config({{"127.0.0.1", dead.port()}, {"127.0.0.1", server.port()}}));
  s.supervisor().connect();
  ASSERT_TRUE(s.pump_until([&] { return !s.disconnects.empty(); }));
  EXPECT_FALSE(s.disconnects[0].was_connected);
  const auto status = s.supervisor().retry_later(s.disconnects[0]);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->starts_with("not connected (")) << *status;
  EXPECT_TRUE(status->ends_with("); retrying")) << *status;
  EXPECT_EQ(s.supervisor().server(), "127.0.0.1:" + std::to_string(server.port()));
  ASSERT_TRUE(s.pump_until([&] { return s.connected == 1; }));
  EXPECT_TRUE(s.supervisor().connected());
  EXPECT_TRUE(server.wait_connected(5s));
}

TEST(StreamSupervisor, ARefusedSecretIsFatalOnlyBeforeTheFirstConnection) {
  FakeServer server("sched.localhost", "s3cr3t");
  server.set_mode(FakeServer::Mode::not_authorized);
  Stream first(make_config({{"127.0.0.1", server.port()}}));
  first.supervisor().connect();
  ASSERT_TRUE(first.pump_until([&] { return !first.disconnects.empty(); }));
  EXPECT_EQ(first.supervisor().retry_later(first.disconnects[0]), std::nullopt);

  // The same refusal after a good connection is retried (the server's config may be changing).
  server.set_mode(FakeServer::Mode::accept);
  Stream later(make_config({{"127.0.0.1", server.port()}}));
  later.supervisor().connect();
  ASSERT_TRUE(later.pump_until([&] { return later.connected == 1; }));
  server.set_mode(FakeServer::Mode::not_authorized);
  server.drop_connection();
  ASSERT_TRUE(later.pump_until([&] { return !later.disconnects.empty(); }));
  ASSERT_TRUE(later.supervisor().retry_later(later.disconnects[0]));
  ASSERT_TRUE(later.pump_until([&] { return later.disconnects.size() == 2; }));  // reconnected
  ASSERT_EQ(later.disconnects[1].cause, xmpp::DisconnectCause::not_authorized);
  const auto status = later.supervisor().retry_later(later.disconnects[1]);
  ASSERT_TRUE(status);
  EXPECT_NE(status->find("refused the component secret"), std::string::npos) << *status;
}

TEST(PacedSender, ReleasesGoOutInOrderThenAPingWhoseAnswerConfirmsThem) {
  FakeServer server("sched.localhost", "s3cr3t");  // answers pings by itself
  Stream s(make_config({{"127.0.0.1", server.port()}}));
  s.supervisor().connect();
  ASSERT_TRUE(s.pump_until([&] { return s.connected == 1; }));

  s.paced().queue_release({11, chat("bob@localhost", "held-1")});
  s.paced().queue_release({12, chat("bob@localhost/phone", "held-2")});
  // Forwarded now: one to bob must not overtake his releases; one to carol goes at once.
  xmpp::Element to_bob = chat("bob@localhost", "now-bob");
  xmpp::Element to_carol = chat("carol@localhost", "now-carol");
  EXPECT_TRUE(s.paced().follow_releases(to_bob));
  EXPECT_FALSE(s.paced().follow_releases(to_carol));
  s.supervisor().connection().send(to_carol);
  // At release.rate (200/s) one goes now, with a ping confirming it; the rest a turn later.
  const auto now = Clock::now();
  s.paced().send_releases(now);
  s.paced().send_releases(now + 1s);
  ASSERT_TRUE(s.pump_until([&] { return server.pending_stanzas() >= 4 && s.stanzas.size() >= 2; }));
  std::vector<std::string> ids;
  while (server.pending_stanzas() > 0)
    ids.push_back(std::string(server.next_stanza(1s)->attr("id")));
  EXPECT_EQ(ids, (std::vector<std::string>{"now-carol", "held-1", "held-2", "now-bob"}));

  // The server's answers to the pings after each batch confirm its holds (not the forward).
  ASSERT_EQ(s.stanzas.size(), 2u);
  const std::string first(s.stanzas[0].attr("id")), second(s.stanzas[1].attr("id"));
  EXPECT_TRUE(first.starts_with("release-")) << first;
  EXPECT_EQ(s.paced().release_answered(first), (std::vector<std::int64_t>{11}));
  EXPECT_EQ(s.paced().release_answered(second), (std::vector<std::int64_t>{12}));
  EXPECT_EQ(s.paced().release_answered(first), std::nullopt);  // once
}

}  // namespace
}  // namespace concierge::app
