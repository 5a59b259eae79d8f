// SPDX-License-Identifier: MIT
// The Service releasing a diverted message (transparent way, xmpp/server/PROTOCOL.md): the
// extension's answer to the release iq is the confirmation — it answers only once the server
// took the message or bounced it — so no ping follows, and a bounce holds it again.
#include <tests/integration/service_fixture.hpp>

#include <xmpp/divert.hpp>

namespace concierge::app::service_test {
namespace {

namespace divert = xmpp::divert;

class TransparentServiceTest : public ServiceTest {
 protected:
  TransparentServiceTest() { server.set_auto_ping(false); }  // every ping shows up here

  static config::Config transparent_config(std::uint16_t port) {
    config::Config c = make_config(port);
    c.served.mode = config::ServedMode::transparent;
    return c;
  }
  // The next stanza `match` accepts within `timeout`; the ones it skips are counted in `seen`.
  std::optional<xmpp::Element> next(const std::function<bool(const xmpp::Element&)>& match,
                                    std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = server.next_stanza(50ms);
      if (!s) continue;
      seen.push_back(*s);
      if (match(*s)) return s;
    }
    return std::nullopt;
  }
  static bool is_release(const xmpp::Element& s) { return divert::decode_release(s).has_value(); }
  static bool is_release_ping(const xmpp::Element& s) {
    return s.name == "iq" && s.child("ping", "urn:xmpp:ping") && s.attr("id").starts_with("release-");
  }
  static bool to_alice(const xmpp::Element& s) {
    return s.name == "message" && s.attr("to") == "alice@localhost";
  }
  void bob(const std::string& presence) {
    server.send(R"(<presence from="bob@localhost/desk" to="sched.localhost")" + presence + "/>");
  }
  void divert_alices(const std::string& id) {
    const xmpp::Element m = xml(R"(<message xmlns="jabber:client" from="alice@localhost/a" )"
                                R"(to="bob@localhost" type="chat" id="m-)" + id +
                                R"("><body>held</body></message>)");
    server.send(divert::encode(divert::Divert{{"localhost", "sched.localhost", "cd-" + id}, id,
                                              "token-" + id, "", m}));
  }
  static xmpp::Element xml(const std::string& text) { return *xmpp::parse_xml(text); }
  void answer(const xmpp::Element& release, divert::ReleaseAnswer::Outcome outcome) {
    const bool taken = outcome == divert::ReleaseAnswer::Outcome::kTaken;
    server.send(divert::encode(divert::ReleaseAnswer{
        {"localhost", "sched.localhost", std::string(release.attr("id"))}, outcome,
        taken ? "" : "service-unavailable"}));
  }

  std::vector<xmpp::Element> seen;
};

TEST_F(TransparentServiceTest, TheAnswerToAReleaseConfirmsItAndABounceHoldsItAgain) {
  RunningService service(transparent_config(server.port()), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  server.send(R"(<presence from="bob@localhost" to="sched.localhost" type="subscribed"/>)");
  bob(R"( type="unavailable")");
  divert_alices("1");
  const auto verdict = next([](const xmpp::Element& s) { return divert::decode_verdict(s).has_value(); });
  ASSERT_TRUE(verdict);
  ASSERT_TRUE(std::holds_alternative<divert::Held>(divert::decode_verdict(*verdict)->decision));
  ASSERT_TRUE(next(to_alice)) << "the hold notice";

  // Bob comes back: the release iq goes out, and nothing else asks whether the server took it.
  bob("");
  auto release = next(is_release);
  ASSERT_TRUE(release);
  EXPECT_FALSE(next(is_release_ping, 600ms)) << "no ping after a release iq";
  EXPECT_FALSE(next(to_alice, 100ms)) << "not delivered before the extension says so";
  // The extension bounces it (bob's last session closed meanwhile): held again.
  answer(*release, divert::ReleaseAnswer::Outcome::kBounced);
  bob(R"( type="unavailable")");
  EXPECT_FALSE(next(is_release, 300ms));
  bob("");
  release = next(is_release);
  ASSERT_TRUE(release) << "released again once bob is back";
  EXPECT_EQ(divert::decode_release(*release)->divert_id, "1");
  answer(*release, divert::ReleaseAnswer::Outcome::kTaken);
  const auto delivered = next(to_alice);
  ASSERT_TRUE(delivered);
  EXPECT_NE(delivered->child_text("body").value_or("").find("was delivered"), std::string::npos)
      << delivered->to_xml();
  EXPECT_EQ(service.stop(), 0);
  for (const auto& s : seen) EXPECT_FALSE(is_release_ping(s)) << s.to_xml();
  const std::string log = service.log();
  EXPECT_NE(log.find("info the server took 1 released message\n"), std::string::npos) << log;
}

}  // namespace
}  // namespace concierge::app::service_test
