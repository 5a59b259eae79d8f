// SPDX-License-Identifier: MIT
// The whole component loop (Service) against the in-process fake XEP-0114 server: relay,
// reconnect, keepalive, fatal identity errors, signals, a calendar upload's warnings.
#include <tests/integration/service_fixture.hpp>
#include <tests/support/refusing_port.hpp>

#include <signal.h>
#include <unistd.h>

#include <thread>

namespace concierge::app::service_test {
namespace {

TEST_F(ServiceTest, RelaysAMessageBetweenUsers) {
  RunningService service(make_config(server.port()), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(
      R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="m1"><body>hi</body><active xmlns="http://jabber.org/protocol/chatstates"/></message>)");
  auto m = next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->attr("to"), "bob@localhost");
  EXPECT_EQ(m->attr("from"), "alice\\40localhost@sched.localhost");
  EXPECT_EQ(m->attr("id"), "m1");
  EXPECT_EQ(m->child_text("body"), "hi");
  EXPECT_NE(m->child("active", "http://jabber.org/protocol/chatstates"), nullptr);
  EXPECT_EQ(service.stop(), 0);
  const std::string log = service.log();
  EXPECT_NE(log.find("connected to 127.0.0.1:"), std::string::npos) << log;
  EXPECT_EQ(log.find(">hi<"), std::string::npos) << "a message body reached the log:\n" << log;
}

TEST_F(ServiceTest, ReconnectsAfterTheServerDropsTheStreamAndRelaysAgain) {
  RunningService service(make_config(server.port()), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  ASSERT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "before"));
  server.drop_connection();
  ASSERT_TRUE(server.wait_disconnected(2s));
  ASSERT_TRUE(server.wait_connected(5s));
  EXPECT_EQ(server.handshakes_accepted(), 2);
  // The drop may come before the answer to the ping after "before": then it is sent again
  // first, with its id (DESIGN §6), and "after" follows it.
  server.send(
      R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="after"><body>hello</body></message>)");
  auto m = next_message();
  if (m && m->attr("id") == "before") m = next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->attr("id"), "after");
  EXPECT_EQ(m->attr("from"), "alice\\40localhost@sched.localhost");
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("lost the connection"), std::string::npos);
}

// DESIGN §6: a message forwarded at once stays in memory until the answer to a ping sent
// after it; a stream cut before that answer sends it again, with its id, on the next stream.
TEST_F(ServiceTest, AForwardedMessageTheServerDidNotConfirmIsSentAgainAfterAReconnect) {
  server.set_auto_ping(false);  // the test answers (or not) the pings itself
  RunningService service(make_config(server.port()), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  // Waits for the ping that follows a forwarded message (probes and presences pass by).
  auto next_forward_ping = [&]() -> std::optional<xmpp::Element> {
    for (int i = 0; i < 30; ++i) {
      auto s = server.next_stanza(3s);
      if (!s) return std::nullopt;
      if (s->name == "iq" && s->attr("id").starts_with("forward-")) return s;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "confirmed"));
  auto ping = next_forward_ping();
  ASSERT_TRUE(ping);
  EXPECT_NE(ping->child("ping", "urn:xmpp:ping"), nullptr);
  server.send(R"(<iq type="result" from="localhost" to="sched.localhost" id=")" +
              std::string(ping->attr("id")) + R"("/>)");
  ASSERT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "unconfirmed"));
  ASSERT_TRUE(next_forward_ping());  // sent, never answered: the stream is cut first
  server.drop_connection();
  ASSERT_TRUE(server.wait_disconnected(2s));
  ASSERT_TRUE(server.wait_connected(5s));
  auto again = next_message();
  ASSERT_TRUE(again) << "the unconfirmed message was not sent again";
  EXPECT_EQ(again->attr("id"), "unconfirmed");
  EXPECT_EQ(again->attr("to"), "bob@localhost");
  EXPECT_EQ(again->attr("from"), "alice\\40localhost@sched.localhost");
  EXPECT_EQ(again->child_text("body"), "hello");
  // The confirmed one is not sent again: the next message is a new one.
  EXPECT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "after"));
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("sending again 1 forwarded message the server had not confirmed"),
            std::string::npos);
}

TEST_F(ServiceTest, KeepsRetryingWhileTheServerRefusesThenConnects) {
  server.set_mode(FakeServer::Mode::close_on_accept);
  RunningService service(make_config(server.port()), fast_loop_timings());
  const auto deadline = std::chrono::steady_clock::now() + 20s;  // generous for a loaded ASan run
  while (server.connections() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // polling an observable counter, bounded
  }
  ASSERT_GE(server.connections(), 3);
  server.set_mode(FakeServer::Mode::accept);
  ASSERT_TRUE(server.wait_connected(5s));
  EXPECT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "x"));
  EXPECT_EQ(service.stop(), 0);
}

TEST_F(ServiceTest, KeepaliveDetectsADeadStreamAndReconnects) {
  server.set_auto_ping(false);  // the server stops answering: the stream looks dead
  LoopTimings t = fast_loop_timings();
  t.keepalive_after = 200ms;
  t.keepalive_timeout = 300ms;
  RunningService service(make_config(server.port()), t);
  ASSERT_TRUE(server.wait_connected(5s));
  std::optional<xmpp::Element> ping;
  for (int i = 0; i < 20 && !(ping && ping->name == "iq"); ++i) {
    ping = server.next_stanza(3s);  // subscription requests to the config's users come first
  }
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->name, "iq");
  EXPECT_NE(ping->child("ping", "urn:xmpp:ping"), nullptr);
  EXPECT_EQ(ping->attr("to"), "localhost");
  ASSERT_TRUE(server.wait_disconnected(5s));
  ASSERT_TRUE(server.wait_connected(5s));
  EXPECT_EQ(server.handshakes_accepted(), 2);
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("did not answer a ping"), std::string::npos);
}

TEST_F(ServiceTest, AnsweredPingsKeepTheStreamUp) {
  LoopTimings t = fast_loop_timings();
  t.keepalive_after = 100ms;
  t.keepalive_timeout = 300ms;
  RunningService service(make_config(server.port()), t);
  ASSERT_TRUE(server.wait_connected(5s));
  EXPECT_FALSE(server.wait_disconnected(1500ms)) << "several keepalive rounds, all answered";
  EXPECT_EQ(server.handshakes_accepted(), 1);
  EXPECT_EQ(service.stop(), 0);
}

TEST_F(ServiceTest, WrongSecretAtStartupExitsWith2AndSaysWhy) {
  config::Config c = make_config(server.port());
  c.component.secret = "wrong";
  RunningService service(std::move(c), fast_loop_timings());
  auto code = service.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  const std::string log = service.log();
  EXPECT_NE(log.find("not-authorized"), std::string::npos) << log;
  EXPECT_NE(log.find("component.secret"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong"), std::string::npos) << "the secret reached the log";
}

TEST_F(ServiceTest, UnknownComponentDomainAtStartupExitsWith2AndSaysWhy) {
  RunningService service(make_config(server.port(), "other.localhost"), fast_loop_timings());
  auto code = service.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(service.log().find("host-unknown"), std::string::npos) << service.log();
}

TEST_F(ServiceTest, SigtermStopsCleanlyClosingTheStream) {
  RunningService service(make_config(server.port()), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  auto code = service.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(server.wait_disconnected(2s));
  EXPECT_NE(service.log().find("stopping on SIGTERM"), std::string::npos);
}

TEST_F(ServiceTest, AFailedConnectNamesTheServerAndTheSystemError) {
  const testing::RefusingPort refusing;  // bound, so nobody else takes it, never listening
  const int port = refusing.port();
  RunningService service(make_config(static_cast<std::uint16_t>(port)), fast_loop_timings());
  std::this_thread::sleep_for(
      300ms);  // a few attempts (backoff 50 ms); nothing to observe before stop
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("warn could not connect to 127.0.0.1:" + std::to_string(port) +
                               ": Connection refused (connect_failed); retrying in "),
            std::string::npos)
      << service.log();
}

// An uploaded calendar goes through the calendar worker and back: its warnings (a broken VTODO,
// a FREQ=SECONDLY rule, an unknown TZID) reach the user in the "in force" answer.
TEST_F(ServiceTest, AnUploadsWarningsReachTheUser) {
  RunningService service(make_config(server.port()), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(
      R"(<message from="alice@localhost/a" to="sched.localhost" type="chat" id="u1"><body>upload
BEGIN:VCALENDAR
VERSION:2.0
BEGIN:VTODO
UID:todo-7
END:VTOOD
BEGIN:VEVENT
UID:a
DTSTART;TZID=Nowhere/Special:20261201T090000
DTEND;TZID=Nowhere/Special:20261201T100000
RRULE:FREQ=SECONDLY
END:VEVENT
END:VCALENDAR</body></message>)");
  std::string told;
  for (int i = 0; i < 20 && told.rfind("Concierge: ", 0) != 0; ++i) {
    auto m = next_message(5s);
    ASSERT_TRUE(m) << "no answer after the upload's compile";
    told = m->child_text("body").value_or("");
  }
  EXPECT_EQ(told.rfind("Concierge: your schedule is in force.", 0), 0u) << told;
  EXPECT_NE(
      told.find("\nWarning: skipped a broken VTODO (UID todo-7, line 3): it ends with END:VTOOD"),
      std::string::npos)
      << told;
  EXPECT_NE(told.find("\nWarning: unknown time zone 'Nowhere/Special'"), std::string::npos) << told;
  EXPECT_NE(told.find("\nWarning: the repeat rule of an event repeats every second"),
            std::string::npos)
      << told;
  EXPECT_EQ(service.stop(), 0);
}

}  // namespace
}  // namespace concierge::app::service_test
