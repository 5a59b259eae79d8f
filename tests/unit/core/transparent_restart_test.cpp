// SPDX-License-Identifier: MIT
// A transparent conversation survives a restart (DESIGN §10: the sessions in force are in the
// store): Concierge restarted on the same store still sees bob in the conversation a reported
// reply engaged, the message held for him still goes back to its extension, and a cancel
// still finds its hold. Fake clock.
#include <tests/unit/core/transparent_fixture.hpp>

namespace concierge::core::testing {
namespace {

class TransparentRestartTest : public TransparentTest {
 protected:
  // A new Router and TransparentWay on the same store; bob's presence comes again as after a
  // reconnect.
  void restart_concierge() {
    restart(transparent_settings());
    way = TransparentWay(router->settings());
    SetUp();
    way.connected(*router, now, out);  // the stream is up again
    out.clear();
  }
};

TEST_F(TransparentRestartTest, ARestartKeepsTheConversationAReportedReplyEngaged) {
  divert_to_bob("dave@example.org/pc", "d1", "question");  // dave is not enrolled
  pass(divert::encode(divert::Report{{"example.org", "sched.example.org", ""},
                                     "bob@example.org/desk", "dave@example.org", "chat", "r1",
                                     "active", true}));
  restart_concierge();
  divert_to_bob("alice@example.org/phone", "d2", "me too");
  ASSERT_EQ(verdicts(out.after_commit).size(), 1u) << "held: bob is still talking to dave";
  const auto notices = bodies_to(out.after_commit, "alice@example.org");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("in another conversation"), std::string::npos) << notices[0];
  EXPECT_EQ(notices[0].substr(0, notices[0].find(':')), "sched.example.org");
}

TEST_F(TransparentRestartTest, AMessageHeldBeforeARestartIsReleasedToItsExtension) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "d3", "later");
  restart_concierge();
  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 1u);
  const auto release = divert::decode_release(out.releases[0].stanza);
  ASSERT_TRUE(release) << out.releases[0].stanza.to_xml();
  EXPECT_EQ(release->divert_id, "d3");
  EXPECT_EQ(release->token, "token-d3");
  EXPECT_EQ(release->message.attr("from"), "alice@example.org/phone");
  EXPECT_EQ(release->message.attr("to"), "bob@example.org");
}

// The extension failed open just as Concierge restarted (its cancel arrives after the
// restart): the hold made before it is dropped, bob does not get the message twice.
TEST_F(TransparentRestartTest, ACancelAfterARestartStillDropsItsHold) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "d4", "kept");
  divert_to_bob("alice@example.org/phone", "d5", "delivered by the extension");
  restart_concierge();
  ASSERT_EQ(router->scheduler().holds_for("bob@example.org").size(), 2u);
  pass(divert::encode(divert::Cancel{{"example.org", "sched.example.org", "cc-d5"}, "d5"}));
  const auto left = router->scheduler().holds_for("bob@example.org");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].stanza.find("kept"), std::string::npos);
}

}  // namespace
}  // namespace concierge::core::testing
