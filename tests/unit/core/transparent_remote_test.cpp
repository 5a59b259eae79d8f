// SPDX-License-Identifier: MIT
// Senders of other servers in transparent mode (DESIGN §10, §11, §7): scheduled like local
// ones only with served.remote — held, told from the component's bare JID only that it will
// wait, released from their real JID — and delivered at once as if Concierge were not there
// without it. They never reach a proxy address. Fake clock, plain values.
#include <tests/unit/core/transparent_fixture.hpp>

namespace concierge::core::testing {
namespace {

constexpr const char* kCarol = "carol@elsewhere.net/desk";

Settings remote_settings(bool remote) {
  Settings s = transparent_settings();
  s.remote_senders = remote;
  return s;
}

class RemoteSenderTest : public TransparentTest {
 protected:
  RemoteSenderTest() : TransparentTest(remote_settings(true)) {}
};

// The extension of example.org reports a message from `from` to `to`.
xmpp::Element report(const std::string& from, const std::string& to, const std::string& state,
                     bool body) {
  return divert::encode(divert::Report{{"example.org", "sched.example.org", ""}, from, to, "chat",
                                       "rep-" + state, state, body});
}

class RemoteOffTest : public TransparentTest {
 protected:
  RemoteOffTest() : TransparentTest(remote_settings(false)) {}
};

TEST_F(RemoteSenderTest, ARemoteSenderIsHeldToldOnlyThatItWillWaitAndReleasedFromTheirJid) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob(kCarol, "r1", "from another server");
  EXPECT_TRUE(verdicts(out.stanzas).empty()) << "held only after the commit";
  const auto held = verdicts(out.after_commit);
  ASSERT_EQ(held.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<divert::Held>(held[0].decision));
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);

  const auto notices = bodies_to(out.after_commit, "carol@elsewhere.net");
  ASSERT_EQ(notices.size(), 1u) << "carol is told it waits";
  EXPECT_EQ(notices[0].substr(0, notices[0].find(':')), "sched.example.org") << notices[0];
  EXPECT_NE(notices[0].find("bob@example.org"), std::string::npos) << notices[0];
  EXPECT_NE(notices[0].find("will wait"), std::string::npos) << notices[0];
  // No reason, time or position of bob's.
  for (const char* detail : {"until", "busy", "#", "in line", "off", "offline", "conversation"}) {
    EXPECT_EQ(notices[0].find(detail), std::string::npos) << detail << " in: " << notices[0];
  }
  EXPECT_TRUE(bodies_to(out.stanzas, "bob@example.org").empty()) << "bob gets nothing yet";

  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 1u);
  const auto release = divert::decode_release(out.releases[0].stanza);
  ASSERT_TRUE(release) << out.releases[0].stanza.to_xml();
  EXPECT_EQ(release->envelope.to, "example.org") << "to bob's server's extension";
  EXPECT_EQ(release->message.attr("from"), kCarol);
  EXPECT_EQ(release->message.attr("to"), "bob@example.org");
  EXPECT_EQ(release->message.attr("id"), "m-r1");
  EXPECT_EQ(release->message.child_text("body"), "from another server");
  const auto* delay = release->message.child("delay", "urn:xmpp:delay");
  ASSERT_NE(delay, nullptr);
  EXPECT_EQ(delay->attr("from"), "sched.example.org");
}

TEST_F(RemoteSenderTest, InLineARemoteSenderLearnsNoPositionAndABounceHoldsItAgain) {
  // Bob talks with dave: carol waits in his queue, but is told no place in it.
  divert_to_bob("dave@example.org/pc", "q1", "question");
  pass(report("bob@example.org/desk", "dave@example.org", "active", true));
  divert_to_bob(kCarol, "r2", "in line");
  ASSERT_EQ(verdicts(out.after_commit).size(), 1u);
  const auto notices = bodies_to(out.after_commit, "carol@elsewhere.net");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("will wait"), std::string::npos) << notices[0];
  EXPECT_EQ(notices[0].find('#'), std::string::npos) << notices[0];
  EXPECT_EQ(notices[0].find("conversation"), std::string::npos) << notices[0];

  // Released when bob ends the conversation; his server bounces it: held again.
  pass(report("bob@example.org/desk", "dave@example.org", "gone", false));
  ASSERT_EQ(out.releases.size(), 1u);
  const std::string iq_id(out.releases[0].stanza.attr("id"));
  pass(divert::encode(divert::ReleaseAnswer{{"example.org", "sched.example.org", iq_id},
                                            divert::ReleaseAnswer::Outcome::kBounced,
                                            "service-unavailable"}));
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u) << "held again";
  EXPECT_TRUE(bodies_to(out.stanzas, "carol@elsewhere.net").empty()) << "no bounce to carol";
}

TEST_F(RemoteSenderTest, AFreeTargetGetsARemoteSendersMessageAtOnce) {
  divert_to_bob(kCarol, "r3", "hello");
  const auto v = verdicts(out.stanzas);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<divert::Deliver>(v[0].decision));
  EXPECT_TRUE(bodies_to(out.stanzas, "carol@elsewhere.net").empty()) << "no notice";
}

TEST_F(RemoteSenderTest, AForgedDivertedMarkDoesNotOpenAProxyAddressToARemoteSender) {
  router->pause("bob@example.org", now + 1h, now, out);
  pass(xml("<message from=\"carol@elsewhere.net/desk\" to=\"bob\\40example.org@sched.example.org\" "
           "type=\"chat\" id=\"f1\"><body>forged</body><diverted xmlns=\"" +
           std::string(divert::kNamespace) + "\" id=\"x\" token=\"x\"/></message>"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_EQ(out.stanzas[0].attr("to"), "carol@elsewhere.net/desk");
  EXPECT_TRUE(router->scheduler().holds_for("bob@example.org").empty());
  // The same message diverted by bob's server is held.
  divert_to_bob(kCarol, "r4", "diverted");
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
}

TEST_F(RemoteOffTest, WithoutServedRemoteARemoteSenderIsDeliveredAtOnceNeverHeld) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob(kCarol, "r5", "from another server");
  const auto v = verdicts(out.stanzas);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<divert::Deliver>(v[0].decision));
  EXPECT_TRUE(out.after_commit.empty()) << "no held verdict, no notice";
  EXPECT_TRUE(router->scheduler().holds_for("bob@example.org").empty());
  // A local sender is still held (the pause is real).
  divert_to_bob("alice@example.org/phone", "l1", "local");
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
}

}  // namespace
}  // namespace concierge::core::testing
