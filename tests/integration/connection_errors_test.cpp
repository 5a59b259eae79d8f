// SPDX-License-Identifier: MIT
// How a ComponentConnection's stream ends or never starts, against the fake XEP-0114 server:
// drops, stream errors, wrong secret, unknown domain, conflict, refused and hanging connects.
#include <tests/integration/connection_test_support.hpp>

namespace concierge::xmpp {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;
using namespace connection_test;

TEST(ComponentConnection, ServerDropIsNetworkAndReconnectWorks) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  ASSERT_TRUE(server.wait_connected(kWait));

  server.drop_connection();
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::network) << c.disconnects[0].detail;
  EXPECT_TRUE(c.disconnects[0].was_connected);
  EXPECT_TRUE(c.connection().disconnected());
  EXPECT_FALSE(c.connection().connected());
  EXPECT_EQ(c.connection().socket_fd(), -1);
  c.connection().send(make("presence"));  // dropped, with a log line
  EXPECT_FALSE(c.logs.empty());

  // The same ComponentConnection connects again and still receives stanzas.
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  EXPECT_EQ(c.connected_count, 2);
  ASSERT_TRUE(server.wait_connected(kWait));
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.handshakes_accepted(), 2);
  ASSERT_TRUE(server.send("<presence from='alice@localhost/pc' to='concierge.localhost'/>"));
  ASSERT_TRUE(c.pump_until([&] { return c.stanzas.size() == 1; }));
  EXPECT_EQ(c.stanzas[0].name, "presence");
  c.connection().send(make("presence", {{"to", "alice@localhost"}}));
  auto got = std::optional<Element>();
  ASSERT_TRUE(c.pump_until([&] { return (got = server.next_stanza(0ms)).has_value(); }));
  EXPECT_EQ(got->attr("to"), "alice@localhost");
}

TEST(ComponentConnection, ServerClosingTheStreamIsNetwork) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  server.close_stream();
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::network) << c.disconnects[0].detail;
  EXPECT_TRUE(c.disconnects[0].was_connected);
}

TEST(ComponentConnection, OtherStreamErrorsCarryConditionAndText) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  ASSERT_TRUE(server.send(
      "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
      "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>going down</text></stream:error>"
      "</stream:stream>"));
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::stream_error);
  EXPECT_TRUE(c.disconnects[0].was_connected);
  EXPECT_NE(c.disconnects[0].detail.find("system-shutdown"), std::string::npos)
      << c.disconnects[0].detail;
  EXPECT_NE(c.disconnects[0].detail.find("going down"), std::string::npos);
  EXPECT_TRUE(c.stanzas.empty());  // the stream error is not a stanza
  EXPECT_STREQ(to_string(c.disconnects[0].cause), "stream_error");
}

TEST(ComponentConnection, DisconnectIsClosed) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  c.connection().disconnect();
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::closed);
  EXPECT_TRUE(c.disconnects[0].was_connected);
  EXPECT_TRUE(server.wait_disconnected(kWait));
  EXPECT_TRUE(c.connection().disconnected());
}

TEST(ComponentConnection, WrongSecretIsNotAuthorized) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server, kDomain, "wrong"));
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::not_authorized) << c.disconnects[0].detail;
  EXPECT_FALSE(c.disconnects[0].was_connected);
  EXPECT_EQ(c.connected_count, 0);
  EXPECT_EQ(server.last_stream_error(), "not-authorized");
  for (const std::string& line : c.logs) {
    EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
    EXPECT_EQ(line.find("wrong"), std::string::npos) << line;
  }
}

TEST(ComponentConnection, RetryAfterAStreamErrorStillReceives) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server, kDomain, "wrong"));
  ASSERT_TRUE(c.pump_until_disconnected());
  ASSERT_TRUE(c.connect(server, "other.localhost"));
  ASSERT_TRUE(c.pump_until_disconnected(2));
  EXPECT_EQ(c.disconnects[1].cause, DisconnectCause::host_unknown);
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  ASSERT_TRUE(server.send("<message from='alice@localhost' to='concierge.localhost'/>"));
  ASSERT_TRUE(c.pump_until([&] { return c.stanzas.size() == 1; }));
  EXPECT_EQ(c.disconnects.size(), 2u);
}

TEST(ComponentConnection, UnknownDomainIsHostUnknown) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server, "other.localhost"));
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::host_unknown) << c.disconnects[0].detail;
  EXPECT_FALSE(c.disconnects[0].was_connected);
  EXPECT_EQ(server.last_stream_to(), "other.localhost");
}

TEST(ComponentConnection, ConflictIsReported) {
  FakeServer server(kDomain, kSecret);
  server.set_mode(FakeServer::Mode::conflict);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::conflict) << c.disconnects[0].detail;
}

TEST(ComponentConnection, NothingListeningIsConnectFailed) {
  // A port that was free a moment ago.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(s);

  Component c;
  ComponentSettings settings;
  settings.port = ntohs(addr.sin_port);
  settings.domain = kDomain;
  settings.secret = kSecret;
  if (c.connection().connect(settings)) {
    ASSERT_TRUE(c.pump_until_disconnected());
  }
  ASSERT_EQ(c.disconnects.size(), 1u);
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::connect_failed) << c.disconnects[0].detail;
  EXPECT_FALSE(c.disconnects[0].was_connected);
  EXPECT_TRUE(c.connection().disconnected());
}

TEST(ComponentConnection, ServerClosingBeforeHandshakeIsConnectFailedOrNetwork) {
  FakeServer server(kDomain, kSecret);
  server.set_mode(FakeServer::Mode::close_on_accept);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_FALSE(c.disconnects[0].was_connected);
  EXPECT_NE(c.disconnects[0].cause, DisconnectCause::closed);
  EXPECT_EQ(server.connections(), 1);
}

TEST(ComponentConnection, SilentServerTimesOut) {
  FakeServer server(kDomain, kSecret);
  server.set_mode(FakeServer::Mode::silent);
  Component c;
  ComponentSettings settings;
  settings.port = server.port();
  settings.domain = kDomain;
  settings.secret = kSecret;
  settings.connect_timeout_ms = 300;
  ASSERT_TRUE(c.connection().connect(settings));
  ASSERT_TRUE(c.pump_until_disconnected(1));
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::connect_failed) << c.disconnects[0].detail;
  EXPECT_FALSE(c.disconnects[0].was_connected);
}

TEST(ComponentConnection, TcpConnectThatHangsTimesOut) {
  // A listener whose accept queue is full drops further SYNs: the connect hangs.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    ::connect(fillers.back(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }

  Component c;
  ComponentSettings settings;
  settings.port = ntohs(addr.sin_port);
  settings.domain = kDomain;
  settings.secret = kSecret;
  settings.connect_timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  if (c.connection().connect(settings)) {
    EXPECT_TRUE(c.connection().wants_write());
    ASSERT_TRUE(c.pump_until_disconnected());
  }
  ASSERT_EQ(c.disconnects.size(), 1u);
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::connect_failed) << c.disconnects[0].detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST(ComponentConnection, DestroyWhileConnectedIsQuiet) {
  FakeServer server(kDomain, kSecret);
  {
    Component c;
    ASSERT_TRUE(c.connect(server));
    ASSERT_TRUE(c.pump_until_connected());
  }
  EXPECT_TRUE(server.wait_disconnected(kWait));
}

}  // namespace
}  // namespace concierge::xmpp
