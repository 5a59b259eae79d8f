// SPDX-License-Identifier: MIT
// The Service releasing held messages: paced at the release rate, in order, and a message
// forwarded at once (or lost with a cut stream) never overtaking the released ones.
#include <tests/integration/service_fixture.hpp>

namespace concierge::app::service_test {
namespace {

TEST_F(ServiceTest, HeldMessagesAreReleasedInOrderPacedAtTheReleaseRate) {
  config::Config c = make_config(server.port());
  c.release.rate = 5;  // one every 200 ms
  server.set_auto_ping(true);
  RunningService service(std::move(c), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<presence from="bob@localhost" to="sched.localhost" type="subscribed"/>)");
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost" type="unavailable"/>)");
  for (int i = 0; i < 10; ++i) {
    server.send(
        R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="p)" +
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
    if (m->attr("to") != "bob@localhost" || m->attr("from") == "sched.localhost")
      continue;  // summary
    last = std::chrono::steady_clock::now();
    if (!first) first = last;
    ids.emplace_back(m->attr("id"));
    EXPECT_NE(m->child("delay", "urn:xmpp:delay"), nullptr);
  }
  EXPECT_EQ(ids,
            (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}));
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

// A message forwarded at once while held messages to the same target are still going out (paced)
// follows them: it was sent after them (in order per sender and target).
TEST_F(ServiceTest, AMessageForwardedDuringAReleaseFollowsTheReleasedOnes) {
  config::Config c = make_config(server.port());
  c.release.rate = 5;  // one every 200 ms
  RunningService service(std::move(c), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<presence from="bob@localhost" to="sched.localhost" type="subscribed"/>)");
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost" type="unavailable"/>)");
  for (int i = 0; i < 3; ++i) {
    server.send(
        R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="p)" +
        std::to_string(i) + R"("><body>held</body></message>)");
  }
  ASSERT_TRUE(next_message());  // the hold notice: all three are held
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost"/>)");
  server.send(
      R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="new"><body>now</body></message>)");
  std::vector<std::string> ids;
  while (ids.size() < 4) {
    auto m = next_message(5s);
    ASSERT_TRUE(m) << "got " << ids.size();
    if (m->attr("to") != "bob@localhost" || m->attr("from") == "sched.localhost")
      continue;  // summary
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
  RunningService service(std::move(c), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<presence from="bob@localhost" to="sched.localhost" type="subscribed"/>)");
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost" type="unavailable"/>)");
  for (int i = 0; i < 2; ++i) {
    server.send(
        R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="p)" +
        std::to_string(i) + R"("><body>held</body></message>)");
  }
  ASSERT_TRUE(next_message());  // the hold notice: both are held
  server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost"/>)");
  server.send(
      R"(<message from="alice@localhost/a" to="bob\40localhost@sched.localhost" type="chat" id="new"><body>now</body></message>)");
  auto to_bob = [&](std::size_t n) {
    std::vector<std::string> ids;
    for (int i = 0; i < 40 && ids.size() < n; ++i) {
      auto m = next_message(5s);
      if (!m) break;
      if (m->attr("to") != "bob@localhost" || m->attr("from") == "sched.localhost")
        continue;  // summary
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

}  // namespace
}  // namespace concierge::app::service_test
