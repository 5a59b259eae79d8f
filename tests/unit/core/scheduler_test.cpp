// SPDX-License-Identifier: MIT
// The decision table of DESIGN §2 on stanzas, holds, notices, bounces and restarts — with a
// fake clock.
#include <gtest/gtest.h>

#include <tests/unit/core/scheduler_fixture.hpp>

#include <ical/compile.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using testing::chat;
using testing::ids_of;
using testing::kMonday0800Utc;
using testing::office_hours;
using testing::SchedulerTest;
using testing::xml;

Settings settings() { return testing::scheduler_settings(); }

TEST_F(SchedulerTest, FreeAndWorkingTargetGetsTheMessageAtOnce) {
  in(chat("alice@example.org", "bob", "m1", "hello"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("to"), "bob@example.org");
  EXPECT_TRUE(out.after_commit.empty()) << "no notice when nothing is held";
}

TEST_F(SchedulerTest, OffHoursHoldsWithOneNoticeAfterCommitNamingTheTime) {
  now = kMonday0800Utc + 10h;  // 19:00 Berlin
  in(chat("alice@example.org", "bob", "m1", "one"));
  EXPECT_TRUE(out.stanzas.empty()) << "held, not relayed";
  ASSERT_EQ(out.after_commit.size(), 1u) << "the notice waits for the commit";
  const std::string notice = out.after_commit[0].child_text("body").value();
  EXPECT_EQ(notice, "Concierge: bob@example.org is off until Tue 09:00; your message will be delivered then.");
  EXPECT_EQ(out.after_commit[0].attr("from"), "bob\\40example.org@sched.example.org");
  EXPECT_NE(out.after_commit[0].child("no-store", "urn:xmpp:hints"), nullptr);
  ASSERT_EQ(store.holds().size(), 1u) << "written to the store in the same turn";
  in(chat("alice@example.org", "bob", "m2", "two"));
  EXPECT_TRUE(out.after_commit.empty()) << "once per hold episode, not per message";
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 2u);
}

TEST_F(SchedulerTest, ReleasedAtTheNextWorkingTimeInOrderWithSummaryAndDelayStamp) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "one"));
  now += 1min;
  in(chat("carol@example.org", "bob", "c1", "from carol"));
  in(chat("alice@example.org", "bob", "m2", "two"));
  ASSERT_TRUE(router->scheduler().next_wake());
  EXPECT_EQ(*router->scheduler().next_wake(), kMonday0800Utc + 24h) << "Tue 09:00 Berlin = 08:00 UTC";
  tick_to(*router->scheduler().next_wake());
  EXPECT_EQ(released_bodies(), (std::vector<std::string>{"one", "two", "from carol"}))
      << "conversations first come first served, each in order";
  const auto& first = out.releases[0].stanza;
  EXPECT_EQ(first.attr("id"), "m1") << "ids preserved";
  EXPECT_EQ(first.attr("from"), "alice\\40example.org@sched.example.org");
  const auto* delay = first.child("delay", "urn:xmpp:delay");
  ASSERT_NE(delay, nullptr);
  EXPECT_EQ(delay->attr("stamp"), "2026-11-30T18:00:00Z");
  EXPECT_EQ(delay->attr("from"), "sched.example.org");
  auto summary = bodies(out.stanzas, "bob@example.org");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_NE(summary[0].find("2 people wrote 3 messages"), std::string::npos) << summary[0];
  // Confirmed by the ping answer: kept as `sent` for the confirm window, then deleted.
  std::vector<std::int64_t> ids;
  for (const auto& r : out.releases) ids.push_back(r.hold_id);
  router->releaser().release_confirmed(ids, now, out);
  EXPECT_EQ(store.holds().size(), 3u);
  EXPECT_EQ(store.holds()[0].state, HoldState::sent);
  tick_to(now + 15min);
  EXPECT_TRUE(store.holds().empty());
}

TEST_F(SchedulerTest, BusyInAnotherConversationQueuesWithPositionThenOneSlotAtATime) {
  converse("carol@example.org", "bob");  // bob and carol both wrote: counts against bob
  in(chat("alice@example.org", "bob", "m1", "queued"));
  EXPECT_TRUE(out.stanzas.empty());
  ASSERT_EQ(out.after_commit.size(), 1u);
  EXPECT_EQ(out.after_commit[0].child_text("body"),
            "Concierge: bob@example.org is in another conversation; you are #1 in line.");
  in(chat("boss@example.org", "bob", "b1", "me too"));
  EXPECT_EQ(out.after_commit[0].child_text("body"),
            "Concierge: bob@example.org is in another conversation; you are #2 in line.");
  // carol's conversation goes idle: one slot frees, alice (first come) is released alone.
  tick_to(now + 10min);
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"queued"});
  EXPECT_FALSE(router->presences().session_idle("bob@example.org", now))
      << "a conversation released from the queue holds its slot";
  EXPECT_FALSE(router->presences().sessions().is_open("alice@example.org", "bob@example.org", now))
      << "but it is no conversation until bob answers";
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
}

TEST_F(SchedulerTest, KnownOfflineInWorkingTimeHoldsUntilBackThenReleases) {
  gone("bob@example.org");
  in(chat("alice@example.org", "bob", "m1", "are you there"));
  ASSERT_EQ(out.after_commit.size(), 1u);
  EXPECT_EQ(out.after_commit[0].child_text("body"),
            "Concierge: bob@example.org is offline; your message will be delivered when they are back.");
  out.clear();
  present("bob@example.org");
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"are you there"});
}

TEST_F(SchedulerTest, UnknownPresenceForwardsAndDndQueues) {
  router->handle(xml(chat("alice@example.org", "carol", "u1", "x")), now, out);
  in(chat("alice@example.org", "carol", "u2", "unknown presence goes through"));
  EXPECT_EQ(out.stanzas.size(), 1u);
  present("bob@example.org", "dnd");
  in(chat("alice@example.org", "bob", "d1", "dnd"));
  EXPECT_TRUE(out.stanzas.empty());
  out.clear();
  present("bob@example.org");  // leaving dnd frees the slot
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"dnd"});
}

TEST_F(SchedulerTest, ChatStatesAreNeverHeldOnlyDropped) {
  now = kMonday0800Utc + 10h;
  in("<message from=\"alice@example.org/r\" to=\"bob\\40example.org@sched.example.org\" type=\"chat\">"
     "<composing xmlns=\"http://jabber.org/protocol/chatstates\"/></message>");
  EXPECT_TRUE(out.stanzas.empty());
  EXPECT_TRUE(out.after_commit.empty());
  EXPECT_TRUE(store.holds().empty());
}

TEST_F(SchedulerTest, UrgentFromAlwaysThroughGoesThroughWithinTheHourlyLimit) {
  now = kMonday0800Utc + 10h;
  gone("bob@example.org");  // offline: no session opens, every message is decided afresh
  for (int i = 0; i < 3; ++i) {
    in(chat("boss@example.org", "bob", "u" + std::to_string(i), "!urgent server down"));
    ASSERT_EQ(out.stanzas.size(), 2u) << i;
    EXPECT_EQ(out.stanzas[0].child_text("body"), "server down") << "prefix stripped";
    EXPECT_NE(out.stanzas[0].child("attention", "urn:xmpp:attention:0"), nullptr);
    EXPECT_EQ(out.stanzas[1].child_text("body"), "Concierge: delivered to bob@example.org as urgent.");
  }
  in(chat("boss@example.org", "bob", "u4", "!urgent again"));
  EXPECT_TRUE(out.stanzas.empty()) << "above urgent.max_per_hour: decided as not urgent, held";
  in(chat("alice@example.org", "bob", "a1", "!urgent me too"));
  EXPECT_TRUE(out.stanzas.empty()) << "alice is not on bob's always-through list";
}

TEST_F(SchedulerTest, UrgentPrefixIsStrippedAndMarkupOffsetsFollow) {
  gone("bob@example.org");
  in(chat("boss@example.org", "bob", "u1", "!urgent fix prod now",
          "<markup xmlns=\"urn:xmpp:markup:0\"><span start=\"12\" end=\"16\"><emphasis/></span></markup>"));
  ASSERT_EQ(out.stanzas.size(), 2u);
  EXPECT_EQ(out.stanzas[0].child_text("body"), "fix prod now");
  const auto* span = out.stanzas[0].child("markup")->child("span");
  EXPECT_EQ(span->attr("start"), "4") << "\"prod\" still marked";
  EXPECT_EQ(span->attr("end"), "8");
}

TEST_F(SchedulerTest, RepliesFollowTheTableForTheOtherSideAndTellWhenTheReplierIsBack) {
  now = kMonday0800Utc + 7h + 50min;  // 16:50 Berlin: bob's day ends in 10 min
  in(chat("bob@example.org", "alice", "r1", "sure"));
  ASSERT_EQ(out.stanzas.size(), 2u);
  EXPECT_EQ(out.stanzas[0].attr("to"), "alice@example.org");
  EXPECT_EQ(out.stanzas[1].child_text("body"),
            "Concierge: bob@example.org's working time ends soon; back Tue 09:00.");
  in(chat("bob@example.org", "alice", "r2", "one more"));
  EXPECT_EQ(out.stanzas.size(), 1u) << "told once";
}

TEST_F(SchedulerTest, CorrectionsAndRetractionsApplyToHeldCopies) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "teh typo"));
  in(chat("alice@example.org", "bob", "m1c", "the typo", "<replace xmlns=\"urn:xmpp:message-correct:0\" id=\"m1\"/>"));
  in(chat("alice@example.org", "bob", "m2", "never mind"));
  in(chat("alice@example.org", "bob", "m2r", "", "<retract xmlns=\"urn:xmpp:message-retract:1\" id=\"m2\"/>"));
  auto held = router->scheduler().holds_for("bob@example.org");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_NE(held[0].stanza.find("the typo"), std::string::npos);
  EXPECT_EQ(held[0].stanza_id, "m1");
}

TEST_F(SchedulerTest, ARetractionWithoutABodyStillRemovesTheHeldCopy) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "sent to the wrong person"));
  in(chat("alice@example.org", "bob", "m2", "still wanted"));
  in("<message from=\"alice@example.org/r\" to=\"bob\\40example.org@sched.example.org\" "
     "type=\"chat\" id=\"m1r\"><retract xmlns=\"urn:xmpp:message-retract:1\" id=\"m1\"/></message>");
  const auto held = router->scheduler().holds_for("bob@example.org");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].stanza_id, "m2") << "only the retracted one is gone";
  in("<message from=\"alice@example.org/r\" to=\"bob\\40example.org@sched.example.org\" "
     "type=\"chat\" id=\"m2c\"><replace xmlns=\"urn:xmpp:message-correct:0\" id=\"m2\"/></message>");
  ASSERT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
  EXPECT_NE(router->scheduler().holds_for("bob@example.org")[0].stanza.find("still wanted"),
            std::string::npos)
      << "a correction with nothing in it does not empty the held copy";
}

TEST_F(SchedulerTest, HoldsSurviveARestartAndAreNotAnnouncedTwice) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "durable"));
  restart(settings());  // a crash and restart
  Outbox o;
  router->connected(now, o);
  router->set_schedule("bob@example.org", office_hours(now), now, o);
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
  in(chat("alice@example.org", "bob", "m2", "again"));
  EXPECT_TRUE(out.after_commit.empty()) << "same episode as before the restart";
  present("bob@example.org");
  tick_to(kMonday0800Utc + 24h);
  EXPECT_EQ(released_bodies(), (std::vector<std::string>{"durable", "again"}));
}

TEST_F(SchedulerTest, UnconfirmedReleasesGoOutAgainAfterAReconnect) {
  gone("bob@example.org");
  in(chat("alice@example.org", "bob", "m1", "x"));
  out.clear();
  present("bob@example.org");
  ASSERT_EQ(out.releases.size(), 1u);
  router->releaser().disconnected();  // no ping answer came
  out.clear();
  router->connected(now, out);
  present("bob@example.org");
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"x"}) << "at-least-once";
}

TEST_F(SchedulerTest, BounceInsideTheConfirmWindowHoldsAgain) {
  gone("bob@example.org");
  in(chat("alice@example.org", "bob", "m1", "x"));
  out.clear();
  present("bob@example.org");
  router->releaser().release_confirmed({out.releases[0].hold_id}, now, out);
  in("<message from=\"bob@example.org\" to=\"alice\\40example.org@sched.example.org\" type=\"error\" id=\"m1\">"
     "<error type=\"cancel\"><service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></message>");
  EXPECT_TRUE(out.stanzas.empty()) << "the bounce is not passed on: the message is held again";
  ASSERT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
}

TEST_F(SchedulerTest, AMessageTheServerKeepsBouncingIsGivenUpWithANotice) {
  gone("bob@example.org");
  in(chat("alice@example.org", "bob", "m1", "x"));
  const std::string bounce =
      "<message from=\"bob@example.org\" to=\"alice\\40example.org@sched.example.org\" type=\"error\" "
      "id=\"m1\"><error type=\"cancel\"><not-acceptable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></message>";
  for (int i = 0; i < 4; ++i) {
    // Each time bob comes back (or, the conversation being open, even as he leaves) the
    // message goes out again, and the server bounces it again.
    out.clear();
    present("bob@example.org");
    gone("bob@example.org");
    ASSERT_EQ(out.releases.size(), 1u) << i;
    in(bounce);
  }
  EXPECT_EQ(router->scheduler().holds().size(), 0u);
  ASSERT_EQ(bodies(out.stanzas, "alice@example.org").size(), 1u);
  EXPECT_NE(bodies(out.stanzas, "alice@example.org")[0].find("the server refused it"), std::string::npos);
}

}  // namespace
}  // namespace concierge::core
