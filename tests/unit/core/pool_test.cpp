// SPDX-License-Identifier: MIT
// Pools (DESIGN §3): one address, several people; the sender never learns who answered.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;

Settings pool_settings() {
  Settings s = testing::base_settings();
  testing::enrol(s, {"bob@example.org", "carol@example.org"});
  s.pools["helpdesk"] = {"bob@example.org", "carol@example.org"};
  return s;
}

using testing::xml;

class PoolTest : public ::testing::Test {
 protected:
  MemoryStore store;
  Router router{pool_settings(), store};
  Outbox out;
  Instant now{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30} + 9h};

  void SetUp() override {
    router.connected(now, out);
    for (const char* m : {"bob@example.org", "carol@example.org"}) {
      // Each member granted the component's subscription: their presence counts (DESIGN §4).
      router.handle(xml(std::string("<presence from=\"") + m + "\" to=\"sched.example.org\" type=\"subscribed\"/>"),
                    now, out);
      router.handle(xml(std::string("<presence from=\"") + m + "/d\" to=\"sched.example.org\"/>"), now, out);
    }
    out.clear();
  }
  void in(const std::string& text) {
    out.clear();
    router.handle(xml(text), now, out);
  }
  std::string ask(const std::string& who, const std::string& id) {
    in("<message from=\"" + who + "/r\" to=\"helpdesk@sched.example.org\" type=\"chat\" id=\"" + id +
       "\"><body>help me</body></message>");
    return out.stanzas.empty() ? "" : std::string(out.stanzas[0].attr("to"));
  }
};

TEST_F(PoolTest, GoesToAFreeMemberUnderAReservedAddressAndStaysThere) {
  const std::string member = ask("alice@example.org", "a1");
  ASSERT_FALSE(member.empty());
  EXPECT_EQ(out.stanzas[0].attr("from"), "helpdesk\\20alice\\40example.org@sched.example.org");
  EXPECT_EQ(ask("alice@example.org", "a2"), member) << "the conversation stays with that member";
  // The member answers the reserved address: alice sees only the pool.
  in("<message from=\"" + member + "/d\" to=\"helpdesk\\20alice\\40example.org@sched.example.org\" "
     "type=\"chat\" id=\"r1\"><body>how can I help?</body></message>");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("from"), "helpdesk@sched.example.org");
  EXPECT_EQ(out.stanzas[0].attr("to"), "alice@example.org");
  EXPECT_EQ(out.stanzas[0].to_xml().find(member), std::string::npos) << "who answered stays hidden";
}

TEST_F(PoolTest, TheSecondSenderGetsTheOtherMemberThenTheQueue) {
  // alice's conversation with the first member counts once both wrote.
  const std::string first = ask("alice@example.org", "a1");
  in("<message from=\"" + first + "/d\" to=\"helpdesk\\20alice\\40example.org@sched.example.org\" "
     "type=\"chat\"><body>yes?</body></message>");
  const std::string second = ask("dave@example.org", "d1");
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  in("<message from=\"" + second + "/d\" to=\"helpdesk\\20dave\\40example.org@sched.example.org\" "
     "type=\"chat\"><body>yes?</body></message>");
  EXPECT_EQ(ask("erin@example.org", "e1"), "") << "nobody free: held";
  ASSERT_EQ(out.after_commit.size(), 1u);
  EXPECT_EQ(out.after_commit[0].child_text("body"),
            "Concierge: everyone at helpdesk@sched.example.org is busy; you are #1 in line.");
  EXPECT_EQ(out.after_commit[0].attr("from"), "helpdesk@sched.example.org");
  // A member's conversation goes idle: erin's conversation goes to that member.
  now += 10min;
  out.clear();
  router.tick(now, out);
  ASSERT_EQ(out.releases.size(), 1u);
  EXPECT_EQ(out.releases[0].stanza.attr("from"), "helpdesk\\20erin\\40example.org@sched.example.org");
  EXPECT_TRUE(out.releases[0].stanza.attr("to") == first || out.releases[0].stanza.attr("to") == second)
      << "addressed to a member: " << out.releases[0].stanza.to_xml();
  EXPECT_NE(out.releases[0].stanza.child("delay", "urn:xmpp:delay"), nullptr);
}

TEST_F(PoolTest, AnAdminFlushesPeopleNotPoolsAndDropsAPoolsLine) {
  Settings s = pool_settings();
  s.admins = {"admin@example.org"};
  router.reconfigure(s, now, out);
  for (const char* who : {"alice", "dave", "erin"}) {
    const std::string sender = std::string(who) + "@example.org";
    const std::string member = ask(sender, "1");
    if (!member.empty()) {
      in("<message from=\"" + member + "/d\" to=\"helpdesk\\20" + who +
         "\\40example.org@sched.example.org\" type=\"chat\"><body>yes?</body></message>");
    }
  }
  ASSERT_EQ(router.scheduler().holds_for("helpdesk@sched.example.org").size(), 1u) << "erin waits";
  auto admin = [&](const std::string& text) {
    in("<message from=\"admin@example.org/r\" to=\"sched.example.org\" type=\"chat\"><body>" + text +
       "</body></message>");
    for (const auto& m : out.stanzas) {
      if (m.attr("to") == "admin@example.org/r") return m.child_text("body").value_or("");
    }
    return std::string("<no answer>");
  };
  EXPECT_EQ(admin("flush helpdesk@sched.example.org confirm"),
            "A pool's messages go to whichever member is free first; flush a member, or drop them.");
  EXPECT_TRUE(out.releases.empty()) << "nothing goes out without an address";
  EXPECT_EQ(admin("drop helpdesk@sched.example.org confirm"),
            "Dropped 1 held message for helpdesk@sched.example.org.");
  EXPECT_TRUE(router.scheduler().holds_for("helpdesk@sched.example.org").empty());
  bool erin_told = false;
  for (const auto& m : out.stanzas) erin_told |= m.attr("to") == "erin@example.org";
  EXPECT_TRUE(erin_told) << "the sender hears that the message was dropped";
}

TEST_F(PoolTest, TheMemberWhoseLastConversationEndedLongestAgoIsPreferred) {
  const std::string first = ask("alice@example.org", "a1");
  in("<message from=\"" + first + "/d\" to=\"helpdesk\\20alice\\40example.org@sched.example.org\" "
     "type=\"chat\" id=\"r1\"><body>hi</body></message>");
  now += 11min;
  out.clear();
  router.tick(now, out);
  const std::string other = first == "bob@example.org" ? "carol@example.org" : "bob@example.org";
  EXPECT_EQ(ask("dave@example.org", "d1"), other) << "the other member has been free longer";
}

TEST_F(PoolTest, ABounceOfAReleasedPoolMessageIsHeldAgain) {
  for (const char* who : {"x1", "x2"}) {
    const std::string m = ask(std::string(who) + "@example.org", "1");
    in("<message from=\"" + m + "/d\" to=\"helpdesk\\20" + who + "\\40example.org@sched.example.org\" "
       "type=\"chat\"><body>hi</body></message>");
  }
  ask("alice@example.org", "a1");
  ASSERT_TRUE(out.stanzas.empty());
  now += 11min;
  out.clear();
  router.tick(now, out);
  ASSERT_EQ(out.releases.size(), 1u);
  const std::string member(out.releases[0].stanza.attr("to"));
  in("<message from=\"" + member + "\" to=\"helpdesk\\20alice\\40example.org@sched.example.org\" type=\"error\" "
     "id=\"a1\"><error type=\"cancel\"><service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></message>");
  EXPECT_TRUE(out.stanzas.empty()) << "held again, not passed on";
  EXPECT_EQ(router.scheduler().holds().size(), 1u);
}

TEST_F(PoolTest, ExpiryNoticesComeFromThePoolAddress) {
  Settings s = pool_settings();
  s.max_hold_age = 1h;
  router.reconfigure(s, now, out);
  for (const char* who : {"x1", "x2"}) {
    const std::string m = ask(std::string(who) + "@example.org", "1");
    in("<message from=\"" + m + "/d\" to=\"helpdesk\\20" + who + "\\40example.org@sched.example.org\" "
       "type=\"chat\"><body>hi</body></message>");
  }
  router.handle(xml("<presence from=\"bob@example.org/d\" to=\"sched.example.org\"><show>dnd</show></presence>"), now, out);
  router.handle(xml("<presence from=\"carol@example.org/d\" to=\"sched.example.org\"><show>dnd</show></presence>"), now, out);
  ask("alice@example.org", "a1");
  now += 1h;
  out.clear();
  router.tick(now, out);
  bool told = false;
  for (const auto& m : out.stanzas) {
    if (m.attr("to") == "alice@example.org") {
      EXPECT_EQ(m.attr("from"), "helpdesk@sched.example.org");
      told = true;
    }
  }
  EXPECT_TRUE(told);
}

TEST_F(PoolTest, OnlyMembersMayAnswerThroughAReservedAddress) {
  in("<message from=\"mallory@example.org/m\" to=\"helpdesk\\20alice\\40example.org@sched.example.org\" "
     "type=\"chat\"><body>I am the helpdesk</body></message>");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_EQ(out.stanzas[0].attr("to"), "mallory@example.org/m");
}

}  // namespace
}  // namespace concierge::core
