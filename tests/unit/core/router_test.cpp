// SPDX-License-Identifier: MIT
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;

Settings test_settings() {
  Settings s = testing::base_settings();
  testing::enrol(s, {"bob@example.org", "alice@example.org"});
  s.messages_per_sender_per_minute = 5;
  s.max_body_bytes = 100;
  s.version = "1.2.3";
  return s;
}

using testing::xml;

class RouterTest : public ::testing::Test {
 protected:
  MemoryStore store;
  Router router{test_settings(), store};
  Outbox out;
  Instant now{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};

  std::vector<xmpp::Element> handle(std::string_view text) {
    out.clear();
    router.handle(xml(text), now, out);
    return out.stanzas;
  }
  static std::string condition_of(const xmpp::Element& reply) {
    const auto* error = reply.child("error");
    if (!error) return "";
    for (const auto& c : error->children) {
      if (!c.is_text() && c.name != "text") return c.name;
    }
    return "";
  }
};

TEST_F(RouterTest, RelaysChatToTargetFromSendersProxyKeepingPayload) {
  auto sent = handle(
      R"(<message from="alice@example.org/phone" to="bob\40example.org@sched.example.org" type="chat" id="m1" xml:lang="de">)"
      R"(<body>Hallo Bob</body><thread>t-7</thread><active xmlns="http://jabber.org/protocol/chatstates"/>)"
      R"(<request xmlns="urn:xmpp:receipts"/></message>)");
  ASSERT_EQ(sent.size(), 1u);
  const auto& m = sent[0];
  EXPECT_EQ(m.attr("from"), "alice\\40example.org@sched.example.org");
  EXPECT_EQ(m.attr("to"), "bob@example.org");
  EXPECT_EQ(m.attr("id"), "m1");
  EXPECT_EQ(m.attr("type"), "chat");
  EXPECT_EQ(m.attr("xml:lang"), "de");
  EXPECT_EQ(m.child_text("body"), "Hallo Bob");
  EXPECT_EQ(m.child_text("thread"), "t-7");
  EXPECT_NE(m.child("active", "http://jabber.org/protocol/chatstates"), nullptr);
  EXPECT_NE(m.child("request", "urn:xmpp:receipts"), nullptr);
  EXPECT_EQ(router.stats().relayed, 1u);
}

TEST_F(RouterTest, ReplyGoesBackThroughTheOtherProxy) {
  auto sent = handle(
      R"(<message from="bob@example.org/desk" to="alice\40example.org@sched.example.org" type="chat" id="r1"><body>Hi</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("from"), "bob\\40example.org@sched.example.org");
  EXPECT_EQ(sent[0].attr("to"), "alice@example.org");
}

TEST_F(RouterTest, ResourceOnTheProxyAddressReachesThatResource) {
  auto sent = handle(
      R"(<message from="alice@example.org" to="bob\40example.org@sched.example.org/laptop" type="chat"><body>x</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("to"), "bob@example.org/laptop");
}

TEST_F(RouterTest, BodilessChatStateIsRelayed) {
  auto sent = handle(
      R"(<message from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="chat"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_NE(sent[0].child("composing"), nullptr);
}

TEST_F(RouterTest, TargetNotEnrolledGetsItemNotFoundWithText) {
  auto sent = handle(
      R"(<message from="alice@example.org/a" to="carol\40example.org@sched.example.org" type="chat" id="x"><body>hi</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("type"), "error");
  EXPECT_EQ(sent[0].attr("id"), "x");
  EXPECT_EQ(sent[0].attr("to"), "alice@example.org/a");
  EXPECT_EQ(sent[0].attr("from"), "carol\\40example.org@sched.example.org");
  EXPECT_EQ(condition_of(sent[0]), "item-not-found");
  EXPECT_EQ(sent[0].child("error")->child_text("text"), "carol@example.org does not use Concierge.");
  EXPECT_EQ(sent[0].child("body"), nullptr) << "the original body must not be echoed";
}

TEST_F(RouterTest, NotEnrolledUserMayAnswerSomeoneWhoWroteToThem) {
  // bob (enrolled) writes to carol (not enrolled) — allowed? No: carol is not enrolled.
  // But carol writing to bob is allowed, and bob's answer to carol must then pass.
  auto first = handle(
      R"(<message from="carol@example.org/c" to="bob\40example.org@sched.example.org" type="chat"><body>hi</body></message>)");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].attr("type"), "error");
  auto answer = handle(
      R"(<message from="bob@example.org/b" to="carol\40example.org@sched.example.org" type="chat"><body>yes?</body></message>)");
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].attr("to"), "carol@example.org");
  // … until the conversation has been silent for idle_after.
  now += router.settings().idle_after + 1s;
  auto late = handle(
      R"(<message from="bob@example.org/b" to="carol\40example.org@sched.example.org" type="chat"><body>still there?</body></message>)");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(condition_of(late[0]), "item-not-found");
}

// DESIGN §2, first row: a target who is not enrolled is refused only when no session with them
// is open *and* they have not written within idle_after — bob may go on writing to carol in
// an open conversation after her last word is older than that.
TEST_F(RouterTest, NotEnrolledUserIsReachedWhileAConversationWithThemIsOpen) {
  handle(R"(<message from="carol@example.org/c" to="bob\40example.org@sched.example.org" type="chat"><body>hi</body></message>)");
  auto answer = handle(
      R"(<message from="bob@example.org/b" to="carol\40example.org@sched.example.org" type="chat"><body>yes?</body></message>)");
  ASSERT_EQ(answer.size(), 1u);
  ASSERT_EQ(answer[0].attr("to"), "carol@example.org") << "bob answered: the conversation is open";
  const Duration step = router.settings().idle_after / 2;
  for (int i = 0; i < 4; ++i) {  // two idle_after of bob alone, carol silent
    now += step;
    auto more = handle(
        R"(<message from="bob@example.org/b" to="carol\40example.org@sched.example.org" type="chat"><body>and another thing</body></message>)");
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0].attr("to"), "carol@example.org") << "message " << i << " still reaches carol";
  }
  now += router.settings().idle_after + 1s;  // silence both ways: the conversation ended
  auto late = handle(
      R"(<message from="bob@example.org/b" to="carol\40example.org@sched.example.org" type="chat"><body>hello?</body></message>)");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(condition_of(late[0]), "item-not-found");
}

TEST_F(RouterTest, SenderOutsideServedDomainsIsRefusedNeverRelayed) {
  auto sent = handle(
      R"(<message from="mallory@evil.example" to="bob\40example.org@sched.example.org" type="chat"><body>spam</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("type"), "error");
  EXPECT_EQ(sent[0].attr("to"), "mallory@evil.example");
  EXPECT_EQ(condition_of(sent[0]), "not-allowed");
  EXPECT_EQ(router.stats().relayed, 0u);
}

TEST_F(RouterTest, RefusedChatStateIsDroppedNotAnswered) {
  auto sent = handle(
      R"(<message from="mallory@evil.example" to="bob\40example.org@sched.example.org" type="chat"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>)");
  EXPECT_TRUE(sent.empty());
}

TEST_F(RouterTest, GroupchatGetsBadRequest) {
  auto sent = handle(
      R"(<message from="alice@example.org" to="bob\40example.org@sched.example.org" type="groupchat"><body>x</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition_of(sent[0]), "bad-request");
}

TEST_F(RouterTest, HeadlineIsRelayedAndNeverAnsweredWithError) {
  auto ok = handle(
      R"(<message from="alice@example.org" to="bob\40example.org@sched.example.org" type="headline"><body>news</body></message>)");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].attr("type"), "headline");
  auto refused = handle(
      R"(<message from="alice@example.org" to="carol\40example.org@sched.example.org" type="headline"><body>news</body></message>)");
  EXPECT_TRUE(refused.empty());
}

TEST_F(RouterTest, ProxyOfAProxyIsALoop) {
  auto sent = handle(
      R"(<message from="alice@example.org" to="bob\5c40example.org\40sched.example.org@sched.example.org" type="chat"><body>x</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition_of(sent[0]), "not-acceptable");
  EXPECT_EQ(router.stats().relayed, 0u);
}

TEST_F(RouterTest, LocalpartThatIsNotAnEscapedJidIsJidMalformed) {
  auto sent = handle(
      R"(<message from="alice@example.org" to="bob@sched.example.org" type="chat"><body>x</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition_of(sent[0]), "jid-malformed");
}

TEST_F(RouterTest, ErrorFromTargetGoesBackToOriginalSenderAndIsNeverAnswered) {
  auto sent = handle(
      R"(<message from="bob@example.org" to="alice\40example.org@sched.example.org" type="error" id="m1"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("type"), "error");
  EXPECT_EQ(sent[0].attr("to"), "alice@example.org");
  EXPECT_EQ(sent[0].attr("from"), "bob\\40example.org@sched.example.org");
  EXPECT_EQ(sent[0].attr("id"), "m1");
  // An error from outside, or to the component itself: dropped, never an error for an error.
  EXPECT_TRUE(handle(R"(<message from="x@evil.example" to="alice\40example.org@sched.example.org" type="error"/>)").empty());
  EXPECT_TRUE(handle(R"(<message from="bob@example.org" to="sched.example.org" type="error"/>)").empty());
}

TEST_F(RouterTest, ServerBounceReachesTheResourceThatSentTheMessage) {
  handle(R"(<message from="alice@example.org/phone" to="bob\40example.org@sched.example.org" type="chat" id="b1"><body>x</body></message>)");
  auto sent = handle(
      R"(<message from="bob@example.org" to="alice\40example.org@sched.example.org" type="error" id="b1"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("to"), "alice@example.org/phone")
      << "servers drop errors sent to a bare JID";
  EXPECT_EQ(sent[0].attr("from"), "bob\\40example.org@sched.example.org");
}

TEST_F(RouterTest, MissingOrSpoofedFromIsDropped) {
  EXPECT_TRUE(handle(R"(<message to="bob\40example.org@sched.example.org" type="chat"><body>x</body></message>)").empty());
  EXPECT_TRUE(handle(R"(<message from="@@" to="bob\40example.org@sched.example.org" type="chat"><body>x</body></message>)").empty());
  EXPECT_TRUE(handle(R"(<message from="a\40b@sched.example.org" to="bob\40example.org@sched.example.org" type="chat"><body>x</body></message>)").empty());
  EXPECT_EQ(router.stats().dropped, 3u);
  EXPECT_EQ(router.stats().relayed, 0u);
}

TEST_F(RouterTest, FloodFromOneSenderIsRateLimitedThenRecovers) {
  const std::string msg =
      R"(<message from="alice@example.org" to="bob\40example.org@sched.example.org" type="chat"><body>x</body></message>)";
  for (int i = 0; i < 5; ++i) ASSERT_EQ(handle(msg)[0].attr("type"), "chat") << i;
  auto limited = handle(msg);
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(condition_of(limited[0]), "resource-constraint");
  // Another sender is not affected.
  EXPECT_EQ(handle(R"(<message from="bob@example.org" to="alice\40example.org@sched.example.org" type="chat"><body>x</body></message>)")[0].attr("type"), "chat");
  now += 12s;  // 5 per minute: one token back every 12 s
  EXPECT_EQ(handle(msg)[0].attr("type"), "chat");
}

TEST_F(RouterTest, OversizedBodyIsPolicyViolation) {
  auto sent = handle(
      R"(<message from="alice@example.org" to="bob\40example.org@sched.example.org" type="chat"><body>)" +
      std::string(101, 'x') + "</body></message>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition_of(sent[0]), "policy-violation");
}

TEST_F(RouterTest, DeeplyNestedStanzaIsRefused) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<x>";
  for (int i = 0; i < 40; ++i) deep += "</x>";
  auto sent = handle(
      R"(<message from="alice@example.org" to="bob\40example.org@sched.example.org" type="chat"><body>x</body>)" +
      deep + "</message>");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition_of(sent[0]), "policy-violation");
}

TEST_F(RouterTest, HelpToTheComponentAnswersWithWhatItCanDo) {
  auto sent = handle(
      R"(<message from="alice@example.org/a" to="sched.example.org" type="chat"><body> Help </body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("from"), "sched.example.org");
  EXPECT_EQ(sent[0].attr("to"), "alice@example.org/a");
  auto body = sent[0].child_text("body");
  ASSERT_TRUE(body);
  EXPECT_NE(body->find("bob\\40example.org@sched.example.org"), std::string::npos) << *body;
  auto unknown = handle(
      R"(<message from="alice@example.org/a" to="sched.example.org" type="chat"><body>frobnicate now</body></message>)");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_NE(unknown[0].child_text("body")->find("Unknown command \"frobnicate\""), std::string::npos);
}

TEST_F(RouterTest, DiscoInfoOnComponentAndProxy) {
  auto comp = handle(
      R"(<iq from="alice@example.org/a" to="sched.example.org" type="get" id="d1"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>)");
  ASSERT_EQ(comp.size(), 1u);
  EXPECT_EQ(comp[0].attr("type"), "result");
  EXPECT_EQ(comp[0].attr("id"), "d1");
  const auto* q = comp[0].child("query", "http://jabber.org/protocol/disco#info");
  ASSERT_NE(q, nullptr);
  std::vector<std::string> features;
  for (const auto& c : q->children) {
    if (c.name == "feature") features.emplace_back(c.attr("var"));
  }
  EXPECT_NE(std::find(features.begin(), features.end(), "urn:xmpp:ping"), features.end());
  EXPECT_NE(std::find(features.begin(), features.end(), "jabber:iq:version"), features.end());

  auto proxy = handle(
      R"(<iq from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="get" id="d2"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>)");
  ASSERT_EQ(proxy.size(), 1u);
  EXPECT_EQ(proxy[0].attr("type"), "result");
  EXPECT_NE(proxy[0].to_xml().find("http://jabber.org/protocol/chatstates"), std::string::npos);

  auto unknown = handle(
      R"(<iq from="alice@example.org/a" to="carol\40example.org@sched.example.org" type="get" id="d3"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>)");
  EXPECT_EQ(condition_of(unknown[0]), "item-not-found");
}

TEST_F(RouterTest, VersionPingAndUnknownIq) {
  auto version = handle(
      R"(<iq from="alice@example.org/a" to="sched.example.org" type="get" id="v"><query xmlns="jabber:iq:version"/></iq>)");
  ASSERT_EQ(version.size(), 1u);
  EXPECT_EQ(version[0].child("query")->child_text("version"), "1.2.3");
  auto ping = handle(
      R"(<iq from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>)");
  ASSERT_EQ(ping.size(), 1u);
  EXPECT_EQ(ping[0].attr("type"), "result");
  auto vcard = handle(
      R"(<iq from="alice@example.org/a" to="sched.example.org" type="get" id="vc"><vCard xmlns="vcard-temp"/></iq>)");
  EXPECT_EQ(condition_of(vcard[0]), "service-unavailable");
  EXPECT_TRUE(handle(R"(<iq from="alice@example.org/a" to="sched.example.org" type="result" id="zz"/>)").empty());
}

TEST_F(RouterTest, ReconfigureEnrolsNewUsers) {
  const std::string msg =
      R"(<message from="alice@example.org" to="carol\40example.org@sched.example.org" type="chat"><body>x</body></message>)";
  EXPECT_EQ(condition_of(handle(msg)[0]), "item-not-found");
  Settings s = test_settings();
  s.enrolled.insert("carol@example.org");
  router.reconfigure(s, now, out);
  EXPECT_EQ(handle(msg)[0].attr("to"), "carol@example.org");
}

}  // namespace
}  // namespace concierge::core
