// SPDX-License-Identifier: MIT
// The whole component loop (Service) against the in-process fake XEP-0114 server: relay,
// reconnect, keepalive, fatal identity errors, signals.
#include <component/app/service.hpp>

#include <gtest/gtest.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <thread>

#include <tests/support/fake_server.hpp>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;

config::Config make_config(std::uint16_t port, std::string jid = "sched.localhost") {
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

LoopTimings fast_timings() {
  LoopTimings t;
  t.backoff = Backoff(50ms, 200ms);
  t.stop_grace = 1000ms;
  return t;
}

// Runs a Service on its own thread; its log goes to a memory stream read after it stops.
class RunningService {
 public:
  RunningService(config::Config config, LoopTimings timings, std::string path = "unused.toml",
                 core::Store* store = nullptr) {
    sink_ = open_memstream(&log_buffer_, &log_size_);
    logger_ = std::make_unique<Logger>(LogLevel::debug, sink_);
    service_ = std::make_unique<Service>(std::move(config), std::move(path),
                                         store ? *store : store_, *logger_, timings);
    result_ = std::async(std::launch::async, [this] { return service_->run(); });
  }
  ~RunningService() {
    if (result_.valid()) {
      service_->request_stop();
      result_.wait();
    }
    std::fclose(sink_);
    std::free(log_buffer_);
  }
  // The exit code, once run() returned within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (result_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return result_.get();
  }
  int stop() {
    service_->request_stop();
    return wait_exit(5s).value_or(-1);
  }
  std::string log() {  // only after the service stopped
    std::fflush(sink_);
    return std::string(log_buffer_, log_size_);
  }

 private:
  char* log_buffer_ = nullptr;
  std::size_t log_size_ = 0;
  std::FILE* sink_ = nullptr;
  core::MemoryStore store_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Service> service_;
  std::future<int> result_;
};

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

TEST_F(ServiceTest, RelaysAMessageBetweenUsers) {
  RunningService service(make_config(server.port()), fast_timings());
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
  RunningService service(make_config(server.port()), fast_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  ASSERT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "before"));
  server.drop_connection();
  ASSERT_TRUE(server.wait_disconnected(2s));
  ASSERT_TRUE(server.wait_connected(5s));
  EXPECT_EQ(server.handshakes_accepted(), 2);
  // The drop may come before the answer to the ping after "before": then it is sent again
  // first, with its id (DESIGN §6), and "after" follows it.
  server.send(R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="after"><body>hello</body></message>)");
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
  RunningService service(make_config(server.port()), fast_timings());
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
  RunningService service(make_config(server.port()), fast_timings());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
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
  LoopTimings t = fast_timings();
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
  LoopTimings t = fast_timings();
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
  RunningService service(std::move(c), fast_timings());
  auto code = service.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  const std::string log = service.log();
  EXPECT_NE(log.find("not-authorized"), std::string::npos) << log;
  EXPECT_NE(log.find("component.secret"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong"), std::string::npos) << "the secret reached the log";
}

TEST_F(ServiceTest, UnknownComponentDomainAtStartupExitsWith2AndSaysWhy) {
  RunningService service(make_config(server.port(), "other.localhost"), fast_timings());
  auto code = service.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(service.log().find("host-unknown"), std::string::npos) << service.log();
}

TEST_F(ServiceTest, SigtermStopsCleanlyClosingTheStream) {
  RunningService service(make_config(server.port()), fast_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  auto code = service.wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(server.wait_disconnected(2s));
  EXPECT_NE(service.log().find("stopping on SIGTERM"), std::string::npos);
}

TEST_F(ServiceTest, HeldMessagesAreReleasedInOrderPacedAtTheReleaseRate) {
  config::Config c = make_config(server.port());
  c.release.rate = 5;  // one every 200 ms
  server.set_auto_ping(true);
  RunningService service(std::move(c), fast_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<presence from="bob@localhost" to="sched.localhost" type="subscribed"/>)");
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost" type="unavailable"/>)");
  for (int i = 0; i < 10; ++i) {
    server.send(R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="p)" +
                std::to_string(i) + R"("><body>held</body></message>)");
  }
  // One notice (after the commit), not ten.
  auto notice = next_message();
  ASSERT_TRUE(notice);
  EXPECT_EQ(notice->attr("to"), "alice@localhost");
  EXPECT_FALSE(next_message(300ms)) << "the hold notice goes once per episode";
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost"/>)");
  std::vector<std::string> ids;
  std::optional<std::chrono::steady_clock::time_point> first;
  auto last = std::chrono::steady_clock::now();
  while (ids.size() < 10) {
    auto m = next_message(5s);
    ASSERT_TRUE(m) << "released " << ids.size();
    if (m->attr("to") != "bob@localhost" || m->attr("from") == "sched.localhost") continue;  // summary
    last = std::chrono::steady_clock::now();
    if (!first) first = last;
    ids.emplace_back(m->attr("id"));
    EXPECT_NE(m->child("delay", "urn:xmpp:delay"), nullptr);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}));
  // A lower bound only (a slow machine can only make it longer): 9 gaps of 200 ms.
  EXPECT_GE(last - *first, 1700ms) << "released faster than release.rate";
  EXPECT_EQ(service.stop(), 0);
  // Each release leaves a debug line without its body; each confirmed batch an info line.
  const std::string log = service.log();
  std::size_t lines = 0;
  for (auto at = log.find("debug out (release of hold "); at != std::string::npos;
       at = log.find("debug out (release of hold ", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 10u) << log;
  EXPECT_NE(log.find("info the server took 1 released message\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("<body>held</body>"), std::string::npos) << "bodies stay out of the log";
}

TEST_F(ServiceTest, AFailedConnectNamesTheServerAndTheSystemError) {
  // A port nothing listens on: bound (so no one else takes it) but not listening.
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);
  RunningService service(make_config(static_cast<std::uint16_t>(port)), fast_timings());
  std::this_thread::sleep_for(300ms);  // a few attempts (backoff 50 ms); nothing to observe before stop
  EXPECT_EQ(service.stop(), 0);
  ::close(sock);
  EXPECT_NE(service.log().find("warn could not connect to 127.0.0.1:" + std::to_string(port) +
                               ": Connection refused (connect_failed); retrying in "),
            std::string::npos)
      << service.log();
}

// An uploaded calendar goes through the calendar worker and back: its warnings (a broken VTODO,
// a FREQ=SECONDLY rule, an unknown TZID) reach the user in the "in force" answer.
TEST_F(ServiceTest, AnUploadsWarningsReachTheUser) {
  RunningService service(make_config(server.port()), fast_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<message from="alice@localhost/a" to="sched.localhost" type="chat" id="u1"><body>upload
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

// A message forwarded at once while held messages to the same target are still going out (paced)
// follows them: it was sent after them (in order per sender and target).
TEST_F(ServiceTest, AMessageForwardedDuringAReleaseFollowsTheReleasedOnes) {
  config::Config c = make_config(server.port());
  c.release.rate = 5;  // one every 200 ms
  RunningService service(std::move(c), fast_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<presence from="bob@localhost" to="sched.localhost" type="subscribed"/>)");
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost" type="unavailable"/>)");
  for (int i = 0; i < 3; ++i) {
    server.send(R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="p)" +
                std::to_string(i) + R"("><body>held</body></message>)");
  }
  ASSERT_TRUE(next_message());  // the hold notice: all three are held
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost"/>)");
  server.send(R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="new"><body>now</body></message>)");
  std::vector<std::string> ids;
  while (ids.size() < 4) {
    auto m = next_message(5s);
    ASSERT_TRUE(m) << "got " << ids.size();
    if (m->attr("to") != "bob@localhost" || m->attr("from") == "sched.localhost") continue;  // summary
    ids.emplace_back(m->attr("id"));
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"p0", "p1", "p2", "new"}));
  EXPECT_EQ(service.stop(), 0);
}

TEST_F(ServiceTest, AForwardedMessageACutStreamLostDoesNotOvertakeTheReleasesLostWithIt) {
  // Releases and a message forwarded behind them go out; the stream is cut before the server
  // confirms any. After the reconnect the forwarded one must not go first (it would arrive
  // before the messages its sender wrote earlier): it is held behind them, then released.
  server.set_auto_ping(false);  // nothing is confirmed on the first stream
  config::Config c = make_config(server.port());
  c.release.rate = 1000;
  RunningService service(std::move(c), fast_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<presence from="bob@localhost" to="sched.localhost" type="subscribed"/>)");
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost" type="unavailable"/>)");
  for (int i = 0; i < 2; ++i) {
    server.send(R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="p)" +
                std::to_string(i) + R"("><body>held</body></message>)");
  }
  ASSERT_TRUE(next_message());  // the hold notice: both are held
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost"/>)");
  server.send(R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="new"><body>now</body></message>)");
  auto to_bob = [&](std::size_t n) {
    std::vector<std::string> ids;
    for (int i = 0; i < 40 && ids.size() < n; ++i) {
      auto m = next_message(5s);
      if (!m) break;
      if (m->attr("to") != "bob@localhost" || m->attr("from") == "sched.localhost") continue;  // summary
      ids.emplace_back(m->attr("id"));
    }
    return ids;
  };
  ASSERT_EQ(to_bob(3), (std::vector<std::string>{"p0", "p1", "new"})) << "the first stream";
  server.drop_connection();
  ASSERT_TRUE(server.wait_disconnected(2s));
  ASSERT_TRUE(server.wait_connected(5s));
  server.set_auto_ping(true);
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost"/>)");
  EXPECT_EQ(to_bob(3), (std::vector<std::string>{"p0", "p1", "new"})) << "after the reconnect";
  EXPECT_EQ(service.stop(), 0);
  const std::string log = service.log();
  EXPECT_NE(log.find("held 1 forwarded message the server had not confirmed behind their senders' "
                     "earlier held messages"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("sending again"), std::string::npos) << log;
}

TEST_F(ServiceTest, SighupReloadsEnrolledUsers) {
  char dir_template[] = "/tmp/concierge-reload-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/concierge.toml";
  auto write_config = [&](bool with_carol) {
    std::ofstream f(path);
    f << "[component]\njid = \"sched.localhost\"\nsecret = \"s3cr3t\"\nport = " << server.port()
      << "\n[served]\ndomains = [\"localhost\"]\n"
      << "[users.\"alice@localhost\"]\ntimezone = \"Europe/Berlin\"\n"
      << (with_carol ? "[users.\"carol@localhost\"]\ntimezone = \"Europe/Berlin\"\n" : "");
  };
  write_config(false);
  auto parsed = config::parse_file(path);
  ASSERT_TRUE(std::holds_alternative<config::Config>(parsed));
  RunningService service(std::get<config::Config>(parsed), fast_timings(), path);
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(
      R"(<message from="alice@localhost/a" to="carol\40localhost@sched.localhost" type="chat" id="c1"><body>x</body></message>)");
  auto refused = next_message();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->attr("type"), "error");

  write_config(true);
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  bool relayed = false;
  for (int i = 0; i < 50 && !relayed; ++i) {  // the reload is asynchronous: retry, bounded
    relayed = relays_alice_to("carol\\40localhost@sched.localhost", "c" + std::to_string(i + 2));
  }
  EXPECT_TRUE(relayed);
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("reloaded"), std::string::npos);
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

TEST_F(ServiceTest, AReloadRefusesWhatCheckConfigRefusesAndKeepsTheOldConfig) {
  char dir_template[] = "/tmp/concierge-reload-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/concierge.toml";
  auto write_config = [&](const std::string& carol_hours) {
    std::ofstream f(path);
    f << "[component]\njid = \"sched.localhost\"\nsecret = \"s3cr3t\"\nport = " << server.port()
      << "\n[served]\ndomains = [\"localhost\"]\n[admin]\njids = [\"alice@localhost\"]\n"
      << "[users.\"alice@localhost\"]\ntimezone = \"Europe/Berlin\"\n"
      << (carol_hours.empty() ? "" : "[users.\"carol@localhost\"]\ntimezone = \"Europe/Berlin\"\nhours = \"" +
                                         carol_hours + "\"\n");
  };
  write_config("");
  auto parsed = config::parse_file(path);
  ASSERT_TRUE(std::holds_alternative<config::Config>(parsed));
  RunningService service(std::get<config::Config>(parsed), fast_timings(), path);
  ASSERT_TRUE(server.wait_connected(5s));
  // Parses as TOML, but the hours cannot be read: --check-config refuses it, so must a reload.
  write_config("Mox-Fri 09:00-17:00");
  server.send(R"(<message from="alice@localhost/a" to="sched.localhost" type="chat"><body>reload</body></message>)");
  std::optional<xmpp::Element> answer;
  for (int i = 0; i < 3 && !(answer && !answer->child_text("body")->starts_with("Reloading")); ++i) {
    answer = next_message();
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->child_text("body"),
            "Reload failed (1 problem(s), see the log): the previous configuration stays in force.");
  server.send(
      R"(<message from="alice@localhost/a" to="carol\40localhost@sched.localhost" type="chat" id="c1"><body>x</body></message>)");
  auto refused = next_message();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->attr("type"), "error") << "carol is not enrolled: the old config stays";
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("hours"), std::string::npos) << "the log names the key";
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

// A store whose backup takes as long as the test says (a large store, in effect).
class SlowBackupStore final : public core::Store {
 public:
  std::promise<void> finish;
  std::vector<core::Enrolment> enrolments() override { return memory.enrolments(); }
  std::optional<core::Enrolment> enrolment(const std::string& j) override { return memory.enrolment(j); }
  void put_enrolment(const core::Enrolment& e) override { memory.put_enrolment(e); }
  void remove_enrolment(const std::string& j) override { memory.remove_enrolment(j); }
  std::vector<core::SubscriptionState> subscriptions() override { return memory.subscriptions(); }
  void put_subscription(const core::SubscriptionState& s) override { memory.put_subscription(s); }
  void remove_subscription(const std::string& j) override { memory.remove_subscription(j); }
  std::vector<core::ProxySubscription> proxy_subscriptions() override { return memory.proxy_subscriptions(); }
  void add_proxy_subscription(const core::ProxySubscription& s) override { memory.add_proxy_subscription(s); }
  void remove_proxy_subscription(const core::ProxySubscription& s) override {
    memory.remove_proxy_subscription(s);
  }
  std::vector<core::UserSetting> settings() override { return memory.settings(); }
  void put_setting(const core::UserSetting& s) override { memory.put_setting(s); }
  void remove_setting(const std::string& j, const std::string& k) override { memory.remove_setting(j, k); }
  std::vector<core::Hold> holds() override { return memory.holds(); }
  void put_hold(const core::Hold& h) override { memory.put_hold(h); }
  void remove_hold(std::int64_t id) override { memory.remove_hold(id); }
  bool commit() override { return memory.commit(); }
  bool backup_to(const std::string& path, std::string*) override {
    finished_.wait_for(std::chrono::seconds(10));  // until the test says the copy is done (bounded)
    backed_up_to = path;
    return true;
  }
  std::string backed_up_to;

 private:
  core::MemoryStore memory;
  std::shared_future<void> finished_ = finish.get_future().share();
};

TEST_F(ServiceTest, TheAdminsBackupRunsOffTheLoopAndAnswersWhenDone) {
  auto config = make_config(server.port());
  config.admin.jids = {"alice@localhost"};
  SlowBackupStore store;
  RunningService service(std::move(config), fast_timings(), "unused.toml", &store);
  ASSERT_TRUE(server.wait_connected(5s));
  auto admin_says = [&](const std::string& text) {
    server.send(R"(<message from="alice@localhost/a" to="sched.localhost" type="chat"><body>)" + text +
                "</body></message>");
  };
  admin_says("backup");
  auto started = next_message();
  ASSERT_TRUE(started);
  EXPECT_EQ(started->child_text("body"), "Backing up the store…");
  // While the copy runs, the loop relays and answers.
  EXPECT_TRUE(relays_alice_to("bob\\40localhost@sched.localhost", "during-backup"));
  admin_says("backup");
  std::optional<xmpp::Element> busy;
  for (int i = 0; i < 3 && !(busy && busy->child_text("body")->starts_with("A backup")); ++i) {
    busy = next_message();
  }
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->child_text("body"), "A backup is already running; you will hear when it is done.");
  store.finish.set_value();
  auto done = next_message();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->attr("to"), "alice@localhost/a");
  EXPECT_EQ(done->child_text("body"), "Backed up the store to " + store.backed_up_to + ".");
  EXPECT_NE(store.backed_up_to.find(".backup-"), std::string::npos);
  EXPECT_EQ(service.stop(), 0);
}

// systemd's notification socket, as a unit with Type=notify and WatchdogSec would provide it.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = ::testing::TempDir() + "notify-" + std::to_string(::getpid());
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // Datagrams until one contains `what` or `timeout` passes; all of them, in order.
  std::vector<std::string> until(const std::string& what, std::chrono::milliseconds timeout,
                                 int times = 1) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int seen = 0;
    while (std::chrono::steady_clock::now() < deadline && seen < times) {
      char buffer[512];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      received_.emplace_back(buffer, static_cast<std::size_t>(n));
      if (received_.back().find(what) != std::string::npos) ++seen;
    }
    return received_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> received_;
};

std::size_t count_of(const std::vector<std::string>& messages, const std::string& what) {
  std::size_t n = 0;
  for (const auto& m : messages) n += m.find(what) != std::string::npos;
  return n;
}

TEST_F(ServiceTest, TellsSystemdItIsReadyFeedsTheWatchdogAndSaysWhenItStops) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "200000", 1);  // WatchdogSec=0.2s: a ping every 100 ms
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  RunningService service(make_config(server.port()), fast_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  auto messages = systemd.until("READY=1", 5s);
  ASSERT_EQ(count_of(messages, "READY=1"), 1u);
  EXPECT_NE(messages.back().find("STATUS=connected to 127.0.0.1:"), std::string::npos) << messages.back();
  messages = systemd.until("WATCHDOG=1", 5s, 3);
  EXPECT_GE(count_of(messages, "WATCHDOG=1"), 3u) << "the loop keeps feeding the watchdog";
  EXPECT_EQ(service.stop(), 0);
  messages = systemd.until("STOPPING=1", 2s);
  EXPECT_EQ(count_of(messages, "STOPPING=1"), 1u);
}

TEST_F(ServiceTest, ServerDownStillReportsReadyWithTheReasonSoBootIsNotHeldUp) {
  NotifySocket systemd;
  const auto port = server.port();
  server.stop();
  RunningService service(make_config(port), fast_timings());
  auto messages = systemd.until("READY=1", 5s);
  ASSERT_EQ(count_of(messages, "READY=1"), 1u);
  EXPECT_NE(messages.back().find("STATUS=not connected"), std::string::npos) << messages.back();
  EXPECT_EQ(service.stop(), 0);
}

}  // namespace
}  // namespace concierge::app
