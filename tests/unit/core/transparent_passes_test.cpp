// SPDX-License-Identifier: MIT
// Passes (xmpp/server/PROTOCOL.md "Passes"): a `deliver` that lets the next plain messages go
// without a divert — DESIGN §2 read ahead — and the revokes that end them as soon as what they
// were decided on changes, before anything that follows from the change. Fake clock.
#include <tests/unit/core/transparent_fixture.hpp>

namespace concierge::core::testing {
namespace {

using Scope = divert::Pass::Scope;

class PassesTest : public TransparentTest {
 protected:
  // The pass of the only verdict in out.stanzas (nullopt: a deliver without one).
  std::optional<divert::Pass> granted() {
    const auto v = verdicts(out.stanzas);
    EXPECT_EQ(v.size(), 1u);
    if (v.size() != 1 || !std::holds_alternative<divert::Deliver>(v[0].decision)) {
      ADD_FAILURE() << "no deliver";
      return std::nullopt;
    }
    return std::get<divert::Deliver>(v[0].decision).pass;
  }
  // The passes revoked in out.stanzas, as "to" or "to<-from", and where the first revoke is.
  std::vector<std::string> revoked(std::size_t* first_at = nullptr) {
    std::vector<std::string> r;
    for (std::size_t i = 0; i < out.stanzas.size(); ++i) {
      auto revoke = divert::decode_revoke(out.stanzas[i]);
      if (!revoke) continue;
      if (first_at && r.empty()) *first_at = i;
      EXPECT_EQ(revoke->envelope.to, "example.org");
      for (const auto& p : revoke->passes) r.push_back(p.from.empty() ? p.to : p.to + "<-" + p.from);
    }
    return r;
  }
  void report(const std::string& from, const std::string& to, const std::string& state,
              bool body, bool passed = false) {
    divert::Report r{{"example.org", "sched.example.org", ""}, from, to, "chat", "r", state, body};
    r.passed = passed;
    pass(divert::encode(r));
  }
};

TEST_F(PassesTest, AFreeTargetOnDutyGivesAnAnyPassThatEndsBeforeTheDayDoes) {
  divert_to_bob("alice@example.org/phone", "p1", "lunch?");
  auto p = granted();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scope, Scope::any);
  EXPECT_EQ(p->ttl_ms, 60000u);
  EXPECT_EQ(p->urgent_prefix, router->settings().urgent_prefix);
  // Half a minute before bob's day ends (17:00 Berlin, 16:00 UTC): short of it by 2 s.
  now = kMonday0800Utc + 8h - 30s;
  divert_to_bob("alice@example.org/phone", "p2", "still there?");
  p = granted();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ttl_ms, 28000u);
  // Within the last second nothing is passed ahead: each message is asked about.
  now = kMonday0800Utc + 8h - 2500ms;
  divert_to_bob("alice@example.org/phone", "p3", "bye");
  EXPECT_FALSE(granted());
}

TEST_F(PassesTest, NoAnyPassForATargetWhoBlocksSomeone) {
  // bob blocks carol: a pass for anyone would let carol through.
  router->block("bob@example.org", "carol@example.org", true);
  divert_to_bob("dave@example.org/pc", "q1", "hi");
  EXPECT_FALSE(granted());
  router->block("bob@example.org", "carol@example.org", false);
  divert_to_bob("dave@example.org/pc", "q2", "hi again");
  EXPECT_TRUE(granted());
}

TEST_F(PassesTest, APauseRevokesTheAnyPassBeforeBobHearsItIsSet) {
  divert_to_bob("alice@example.org/phone", "r1", "lunch?");
  ASSERT_TRUE(granted());
  pass(xml("<message from=\"bob@example.org/desk\" to=\"sched.example.org\" type=\"chat\">"
           "<body>pause 1h</body></message>"));
  std::size_t at = 99;
  EXPECT_EQ(revoked(&at), std::vector<std::string>{"bob@example.org"});
  EXPECT_EQ(at, 0u) << "the revoke goes before the answer";
  ASSERT_EQ(bodies_to(out.stanzas, "bob@example.org").size(), 1u);
  // And the next message is held again, as it would have been without passes.
  divert_to_bob("alice@example.org/phone", "r2", "still?");
  EXPECT_EQ(verdicts(out.after_commit).size(), 1u);
}

TEST_F(PassesTest, DndPresenceAndAPauseSetElsewhereRevokeTheAnyPass) {
  divert_to_bob("alice@example.org/phone", "s1", "lunch?");
  ASSERT_TRUE(granted());
  pass(xml("<presence from=\"bob@example.org/desk\" to=\"sched.example.org\"><show>dnd</show>"
           "</presence>"));
  EXPECT_EQ(revoked(), std::vector<std::string>{"bob@example.org"});
  pass(xml("<presence from=\"bob@example.org/desk\" to=\"sched.example.org\"/>"));
  EXPECT_TRUE(revoked().empty()) << "nothing left to revoke";
  divert_to_bob("alice@example.org/phone", "s2", "lunch now?");
  ASSERT_TRUE(granted());
  // A pause set by no stanza of bob's (an admin, a reload): the next outbox revokes it.
  out.clear();
  router->pause("bob@example.org", now + 1h, now, out);
  way.recheck_passes(now, *router, out);
  EXPECT_EQ(revoked(), std::vector<std::string>{"bob@example.org"});
}

TEST_F(PassesTest, AConversationGivesASenderPassThatPassedMessagesKeepAndGoneEnds) {
  // dave writes to a free bob (a pass for anyone), bob answers: a conversation. The extension
  // dropped bob's any pass when bob wrote; dave's next message gets a pass for himself only.
  divert_to_bob("dave@example.org/pc", "t0", "got a minute?");
  ASSERT_TRUE(granted());
  report("bob@example.org/desk", "dave@example.org", "active", true);
  EXPECT_EQ(revoked(), std::vector<std::string>{"bob@example.org"})
      << "dropped by the extension too, but a verdict on its way may bring it back";
  EXPECT_EQ(way.passes().size(), 0u);
  divert_to_bob("dave@example.org/pc", "t1", "sure");
  auto p = granted();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scope, Scope::sender);
  EXPECT_EQ(p->ttl_ms, 60000u);
  // What the pass lets through is reported: nothing held, nothing revoked, nothing relayed.
  report("dave@example.org/pc", "bob@example.org", "active", true, /*passed=*/true);
  EXPECT_TRUE(out.stanzas.empty()) << out.stanzas[0].to_xml();
  EXPECT_TRUE(out.after_commit.empty());
  EXPECT_EQ(router->scheduler().holds().size(), 0u);
  // alice meanwhile waits in line behind the conversation, and gets no pass.
  divert_to_bob("alice@example.org/phone", "t2", "me too");
  EXPECT_EQ(verdicts(out.after_commit).size(), 1u);
  EXPECT_TRUE(revoked().empty()) << "dave's pass still holds";
  // dave leaves the conversation: his pass ends with it.
  report("dave@example.org/pc", "bob@example.org", "gone", false);
  EXPECT_EQ(revoked(), std::vector<std::string>{"bob@example.org<-dave@example.org"});
}

TEST_F(PassesTest, BobAnsweringByTheProxyWayRevokesHisAnyPass) {
  divert_to_bob("alice@example.org/phone", "u1", "lunch?");
  ASSERT_TRUE(granted());
  // bob answers carol (not through a divert: by the proxy way), so he is talking to her...
  pass(xml("<message from=\"bob@example.org/desk\" to=\"carol\\40example.org@sched.example.org\" "
           "type=\"chat\"><body>yes?</body></message>"));
  EXPECT_EQ(revoked(), std::vector<std::string>{"bob@example.org"}) << "an answer may engage him";
  EXPECT_EQ(way.passes().size(), 0u);
}

TEST_F(PassesTest, PassesNobodyRecheckedAreForgottenOnceTheirTimeIsUp) {
  divert_to_bob("alice@example.org/phone", "w1", "lunch?");
  ASSERT_TRUE(granted());
  tick_to(now + 30s);
  EXPECT_EQ(way.passes().size(), 1u) << "still running";
  tick_to(now + 61s);
  EXPECT_EQ(way.passes().size(), 0u);
}

TEST_F(PassesTest, AStreamLostForgetsEveryPass) {
  divert_to_bob("alice@example.org/phone", "v1", "lunch?");
  ASSERT_TRUE(granted());
  EXPECT_EQ(way.passes().size(), 1u);
  way.disconnected();
  EXPECT_EQ(way.passes().size(), 0u);
  pass(xml("<presence from=\"bob@example.org/desk\" to=\"sched.example.org\"><show>dnd</show>"
           "</presence>"));
  EXPECT_TRUE(revoked().empty()) << "the extension dropped them with the stream";
}

}  // namespace
}  // namespace concierge::core::testing
