// SPDX-License-Identifier: MIT
// The decision table of DESIGN §2, holds, notices, releases — with a fake clock.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/office_hours.hpp>
#include <tests/unit/core/xml.hpp>

#include <ical/compile.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;

// Mon 2026-11-30 is a Monday. Bob works Mon-Fri 09:00-17:00 Europe/Berlin (UTC+1 in winter).
const Instant kMonday0800Utc = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 8h;

Settings settings() {
  Settings s = testing::base_settings();
  testing::enrol(s, {"bob@example.org", "alice@example.org", "carol@example.org"}, "Europe/Berlin");
  testing::enrol(s, {"boss@example.org"});
  s.users["bob@example.org"].always_through = {"boss@example.org"};
  return s;
}

using testing::office_hours;
using testing::xml;

std::string chat(const std::string& from, const std::string& to_local, const std::string& id,
                 const std::string& body, const std::string& extra = "") {
  return "<message from=\"" + from + "/r\" to=\"" + to_local +
         "\\40example.org@sched.example.org\" type=\"chat\" id=\"" + id + "\"><body>" + body +
         "</body>" + extra + "</message>";
}

class SchedulerTest : public testing::CoreTest {
 protected:
  SchedulerTest() : CoreTest(settings(), kMonday0800Utc + 1h) {}  // 10:00 Berlin: bob is working

  void SetUp() override {
    router->connected(now, out);
    out.clear();
    router->set_schedule("bob@example.org", office_hours(now), now, out);
    present("bob@example.org");
    out.clear();
  }
  // `who` granted the component's subscription request: their presence counts (DESIGN §4).
  void grant(const std::string& who) {
    router->handle(xml("<presence from=\"" + who + "\" to=\"sched.example.org\" type=\"subscribed\"/>"),
                   now, out);
  }
  void present(const std::string& who, const std::string& show = "") {
    grant(who);
    router->handle(xml("<presence from=\"" + who + "/desk\" to=\"sched.example.org\">" +
                       (show.empty() ? "" : "<show>" + show + "</show>") + "</presence>"),
                   now, out);
  }
  void gone(const std::string& who) {
    grant(who);
    router->handle(xml("<presence from=\"" + who + "/desk\" to=\"sched.example.org\" type=\"unavailable\"/>"),
                   now, out);
  }
  std::vector<std::string> bodies(const std::vector<xmpp::Element>& stanzas, const std::string& to) {
    std::vector<std::string> b;
    for (const auto& s : stanzas) {
      if (s.attr("to").starts_with(to)) b.push_back(s.child_text("body").value_or("<none>"));
    }
    return b;
  }
  std::vector<std::string> released_bodies() {
    std::vector<std::string> b;
    for (const auto& r : out.releases) b.push_back(r.stanza.child_text("body").value_or(""));
    return b;
  }
  void tick_to(Instant t) {
    now = t;
    out.clear();
    router->tick(now, out);
  }
  void converse(const std::string& a, const std::string& b_local) {
    in(chat(a, b_local, "x1", "hi"));
    in(chat(b_local + "@example.org", a.substr(0, a.find('@')), "x2", "hi back"));
  }
};

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
  EXPECT_EQ(router->holds_for("bob@example.org").size(), 2u);
}

TEST_F(SchedulerTest, ReleasedAtTheNextWorkingTimeInOrderWithSummaryAndDelayStamp) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "one"));
  now += 1min;
  in(chat("carol@example.org", "bob", "c1", "from carol"));
  in(chat("alice@example.org", "bob", "m2", "two"));
  ASSERT_TRUE(router->next_wake());
  EXPECT_EQ(*router->next_wake(), kMonday0800Utc + 24h) << "Tue 09:00 Berlin = 08:00 UTC";
  tick_to(*router->next_wake());
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
  router->release_confirmed(ids, now, out);
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
  EXPECT_FALSE(router->session_idle("bob@example.org", now))
      << "a conversation released from the queue holds its slot";
  EXPECT_FALSE(router->session_open("alice@example.org", "bob@example.org", now))
      << "but it is no conversation until bob answers";
  EXPECT_EQ(router->holds_for("bob@example.org").size(), 1u);
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
  auto held = router->holds_for("bob@example.org");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_NE(held[0].stanza.find("the typo"), std::string::npos);
  EXPECT_EQ(held[0].stanza_id, "m1");
}

TEST_F(SchedulerTest, HoldsSurviveARestartAndAreNotAnnouncedTwice) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "durable"));
  restart(settings());  // a crash and restart
  Outbox o;
  router->connected(now, o);
  router->set_schedule("bob@example.org", office_hours(now), now, o);
  EXPECT_EQ(router->holds_for("bob@example.org").size(), 1u);
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
  router->disconnected();  // no ping answer came
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
  router->release_confirmed({out.releases[0].hold_id}, now, out);
  in("<message from=\"bob@example.org\" to=\"alice\\40example.org@sched.example.org\" type=\"error\" id=\"m1\">"
     "<error type=\"cancel\"><service-unavailable xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/></error></message>");
  EXPECT_TRUE(out.stanzas.empty()) << "the bounce is not passed on: the message is held again";
  ASSERT_EQ(router->holds_for("bob@example.org").size(), 1u);
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
  EXPECT_EQ(router->holds_count(), 0u);
  ASSERT_EQ(bodies(out.stanzas, "alice@example.org").size(), 1u);
  EXPECT_NE(bodies(out.stanzas, "alice@example.org")[0].find("the server refused it"), std::string::npos);
}

TEST_F(SchedulerTest, HoldsExpireWithANoticeToTheSender) {
  now = kMonday0800Utc + 10h;
  Settings s = settings();
  s.max_hold_age = 1h;
  router->reconfigure(s);
  in(chat("alice@example.org", "bob", "m1", "x"));
  tick_to(now + 1h);
  EXPECT_TRUE(store.holds().empty());
  ASSERT_EQ(bodies(out.stanzas, "alice@example.org").size(), 1u);
  EXPECT_NE(bodies(out.stanzas, "alice@example.org")[0].find("expired undelivered"), std::string::npos);
}

TEST_F(SchedulerTest, SendersCanListAndCancelWhatTheySent) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "x"));
  in("<message from=\"alice@example.org/r\" to=\"sched.example.org\" type=\"chat\"><body>held</body></message>");
  EXPECT_NE(out.stanzas[0].child_text("body")->find("bob@example.org: 1 message"), std::string::npos);
  in("<message from=\"alice@example.org/r\" to=\"sched.example.org\" type=\"chat\"><body>cancel</body></message>");
  EXPECT_EQ(out.stanzas[0].child_text("body"), "Cancelled 1 held message.");
  EXPECT_TRUE(store.holds().empty());
}

TEST_F(SchedulerTest, PauseMakesBusyUntilItEnds) {
  router->pause("bob@example.org", now + 1h, now, out);
  in(chat("alice@example.org", "bob", "p1", "during the pause"));
  EXPECT_TRUE(out.stanzas.empty());
  EXPECT_NE(out.after_commit[0].child_text("body")->find("is busy until Mon 11:00"), std::string::npos)
      << *out.after_commit[0].child_text("body");
  tick_to(now + 1h);
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"during the pause"});
}

TEST_F(SchedulerTest, ProxyPresenceShowsOffUntilTheNextWorkingTime) {
  now = kMonday0800Utc + 10h;
  in("<presence from=\"alice@example.org/r\" to=\"bob\\40example.org@sched.example.org\" type=\"subscribe\"/>");
  ASSERT_EQ(out.stanzas.size(), 2u);
  EXPECT_EQ(out.stanzas[1].child_text("show"), "xa");
  EXPECT_EQ(out.stanzas[1].child_text("status"), "off until Tue 09:00");
  tick_to(kMonday0800Utc + 24h);  // Tue 09:00 Berlin: bob's day starts
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].child("show"), nullptr) << "available";
}

TEST_F(SchedulerTest, RemovedFromTheConfigMeansUnenrolledAndHoldsBounced) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "x"));
  Settings s = settings();
  s.enrolled.erase("bob@example.org");
  out.clear();
  router->reconfigure(s, now, out);
  EXPECT_FALSE(router->enrolled("bob@example.org"));
  EXPECT_TRUE(store.holds().empty());
  auto told = bodies(out.stanzas, "alice@example.org");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("could not be delivered: they no longer use Concierge."), std::string::npos);
}

TEST_F(SchedulerTest, ChatCommandsStatusPauseEndWhen) {
  EXPECT_EQ(say("bob@example.org", "status"), "You are working until Mon 17:00. Nothing is held for you.\nWorking time this week (Europe/Berlin):\n  Mon 30 Nov: 09:00-17:00\n  Tue  1 Dec: 09:00-17:00\n  Wed  2 Dec: 09:00-17:00\n  Thu  3 Dec: 09:00-17:00\n  Fri  4 Dec: 09:00-17:00\n  Sat  5 Dec: off\n  Sun  6 Dec: off");
  EXPECT_EQ(say("bob@example.org", "pause 30m"), "Paused until Mon 10:30: messages wait until then.");
  EXPECT_EQ(router->status_of("bob@example.org", now), ical::Status::busy);
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"),
            "bob@example.org is busy until Mon 10:30; a message will wait until then.");
  EXPECT_EQ(say("bob@example.org", "end"), "Pause ended: messages reach you again.");
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"), "bob@example.org is free now.");
  EXPECT_EQ(say("alice@example.org", "when nobody@example.org"), "nobody@example.org does not use Concierge.");
  EXPECT_NE(say("bob@example.org", "pause forever").find("Say how long"), std::string::npos);
}

std::vector<std::int64_t> ids_of(const Outbox& o) {
  std::vector<std::int64_t> v;
  for (const auto& r : o.releases) v.push_back(r.hold_id);
  return v;
}

TEST_F(SchedulerTest, DeliveredHoldsNoLongerCountAgainstTheSendersCap) {
  Settings s = settings();
  s.holds_per_sender = 2;
  router->reconfigure(s);
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "one"));
  in(chat("alice@example.org", "bob", "m2", "two"));
  tick_to(kMonday0800Utc + 24h);
  ASSERT_EQ(out.releases.size(), 2u);
  router->release_confirmed(ids_of(out), now, out);
  tick_to(now + 16min);
  ASSERT_EQ(router->holds_count(), 0u);
  now = kMonday0800Utc + 34h;  // Tue 19:00: off again
  in(chat("alice@example.org", "bob", "m3", "three"));
  EXPECT_TRUE(out.stanzas.empty()) << "held, not refused as over the cap";
  EXPECT_EQ(router->holds_count(), 1u);
}

TEST_F(SchedulerTest, ReleasedMessagesDoNotMakeAFreeTargetLookBusy) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "one"));
  tick_to(kMonday0800Utc + 24h);
  ASSERT_EQ(out.releases.size(), 1u);
  const auto ids = ids_of(out);
  now += 1s;
  in(chat("carol@example.org", "bob", "c1", "hello"));
  EXPECT_EQ(out.stanzas.size(), 1u) << "in flight is not waiting in line";
  router->release_confirmed(ids, now, out);
  now += 1s;
  in(chat("boss@example.org", "bob", "b1", "hello"));
  EXPECT_EQ(out.stanzas.size(), 1u) << "sent is not waiting in line";
}

TEST_F(SchedulerTest, AQueuedConversationThatOpensAgainIsReleasedFirst) {
  present("alice@example.org");
  converse("carol@example.org", "bob");
  in(chat("alice@example.org", "bob", "m1", "first"));
  ASSERT_TRUE(out.stanzas.empty());
  // bob answers alice directly: their conversation is open, so "first" goes now.
  in("<message from=\"bob@example.org/r\" to=\"alice\\40example.org@sched.example.org\" type=\"chat\" "
     "id=\"x\"><body>yes?</body></message>");
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"first"});
  EXPECT_TRUE(router->holds_for("bob@example.org").empty());
}

TEST_F(SchedulerTest, AnUnreadableHoldIsDroppedWithoutHarm) {
  MemoryStore st;
  Hold bad;
  bad.id = 1;
  bad.sender = "alice@example.org";
  bad.target = "bob@example.org";
  bad.stanza = "<message";
  bad.received = now;
  bad.reason = HoldReason::offline;
  st.put_hold(bad);
  Router r(settings(), st);
  Outbox o;
  r.connected(now, o);
  r.handle(xml("<presence from=\"bob@example.org\" to=\"sched.example.org\" type=\"subscribed\"/>"), now, o);
  r.handle(xml("<presence from=\"bob@example.org/desk\" to=\"sched.example.org\"/>"), now, o);
  EXPECT_EQ(r.holds_count(), 0u);
  EXPECT_TRUE(st.holds().empty());
}

TEST_F(SchedulerTest, ReleasingManyHoldsIsLinear) {
  Settings s = settings();
  s.holds_per_target = 100000;
  router->reconfigure(s);
  gone("bob@example.org");
  for (int i = 0; i < 2000; ++i) {
    for (int j = 0; j < 5; ++j) {
      router->handle(xml(chat("u" + std::to_string(i) + "@example.org", "bob", "m" + std::to_string(j), "x")),
                     now, out);
    }
  }
  out.clear();
  // Was seconds per presence and per release with 10 000 holds; bounded by counting work,
  // not time: every hold is released exactly once in order.
  present("bob@example.org");
  ASSERT_EQ(out.releases.size(), 10000u);
  router->release_confirmed(ids_of(out), now, out);
  tick_to(now + 16min);
  EXPECT_EQ(router->holds_count(), 0u);
}

TEST_F(SchedulerTest, AdHocCommandsListExecuteAndAskForWhatTheyNeed) {
  in("<iq type=\"get\" id=\"l\" from=\"bob@example.org/r\" to=\"sched.example.org\"><query "
     "xmlns=\"http://jabber.org/protocol/disco#items\" node=\"http://jabber.org/protocol/commands\"/></iq>");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_NE(out.stanzas[0].to_xml().find("node=\"pause\""), std::string::npos);
  in("<iq type=\"set\" id=\"s\" from=\"bob@example.org/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"status\" action=\"execute\"/></iq>");
  ASSERT_EQ(out.stanzas.size(), 1u);
  const auto* done = out.stanzas[0].child("command");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->attr("status"), "completed");
  EXPECT_EQ(done->child_text("note"), "You are working until Mon 17:00. Nothing is held for you.\nWorking time this week (Europe/Berlin):\n  Mon 30 Nov: 09:00-17:00\n  Tue  1 Dec: 09:00-17:00\n  Wed  2 Dec: 09:00-17:00\n  Thu  3 Dec: 09:00-17:00\n  Fri  4 Dec: 09:00-17:00\n  Sat  5 Dec: off\n  Sun  6 Dec: off");
  // pause: first a form, then the submitted value.
  in("<iq type=\"set\" id=\"p1\" from=\"bob@example.org/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"pause\" action=\"execute\"/></iq>");
  const auto* asking = out.stanzas[0].child("command");
  ASSERT_NE(asking, nullptr);
  EXPECT_EQ(asking->attr("status"), "executing");
  EXPECT_NE(asking->to_xml().find("var=\"duration\""), std::string::npos);
  const std::string session(asking->attr("sessionid"));
  in("<iq type=\"set\" id=\"p2\" from=\"bob@example.org/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"pause\" sessionid=\"" + session +
     "\"><x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"duration\"><value>1h</value></field></x>"
     "</command></iq>");
  EXPECT_EQ(out.stanzas[0].child("command")->child_text("note"), "Paused until Mon 11:00: messages wait until then.");
  EXPECT_EQ(router->status_of("bob@example.org", now), ical::Status::busy);
  in("<iq type=\"set\" id=\"x\" from=\"eve@evil.example/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"status\" action=\"execute\"/></iq>");
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
}

TEST_F(SchedulerTest, UsersChooseTheirPrivacyAndBlocklistAndItIsRemembered) {
  EXPECT_EQ(say("bob@example.org", "privacy wait"), "Privacy set to wait: senders learn only that a message will wait.");
  EXPECT_EQ(say("bob@example.org", "block carol@example.org"),
            "Blocked carol@example.org: their messages to you are refused.");
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "x"));
  ASSERT_EQ(out.after_commit.size(), 1u);
  EXPECT_EQ(out.after_commit[0].child_text("body"),
            "Concierge: bob@example.org can't take messages right now; your message will wait and be "
            "delivered later.")
      << "no times with privacy wait";
  in(chat("carol@example.org", "bob", "c1", "x"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  // Remembered across a restart.
  restart(settings());
  in(chat("carol@example.org", "bob", "c2", "x"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"),
            "bob@example.org shares no times with you; a message will wait until they can take it.");
  EXPECT_EQ(say("bob@example.org", "privacy none"), "Privacy set to none: senders learn nothing of your schedule.");
  EXPECT_EQ(say("bob@example.org", "unblock carol@example.org"), "Unblocked carol@example.org.");
  EXPECT_EQ(say("bob@example.org", "blocked"), "You block nobody.");
}

TEST_F(SchedulerTest, AdminCommandsOnlyForAdminsAndDestructiveOnesNeedConfirmation) {
  Settings s = settings();
  s.admins = {"boss@example.org"};
  router->reconfigure(s);
  EXPECT_EQ(say("alice@example.org", "stats"), "Only Concierge's admins may use \"stats\".");
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "x"));
  EXPECT_NE(say("boss@example.org", "stats").find("Held: 1"), std::string::npos);
  EXPECT_EQ(say("boss@example.org", "queues"), "Held per target:\n  bob@example.org: 1");
  EXPECT_NE(say("boss@example.org", "flush bob@example.org").find("send \"flush bob@example.org confirm\""),
            std::string::npos);
  EXPECT_EQ(router->holds_for("bob@example.org").size(), 1u) << "not without confirmation";
  say("boss@example.org", "flush bob@example.org confirm");
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"x"});
  EXPECT_NE(say("boss@example.org", "stats").find("Released in the last hour: 1."), std::string::npos);
  now += 61min;
  EXPECT_NE(say("boss@example.org", "stats").find("Released in the last hour: 0."), std::string::npos)
      << "a rolling hour";
  say("boss@example.org", "reload");
  ASSERT_EQ(out.admin.size(), 1u);
  EXPECT_EQ(out.admin[0].kind, Outbox::AdminRequest::Kind::reload);
  EXPECT_EQ(out.admin[0].reply_to, "boss@example.org/r");
  say("alice@example.org", "backup");
  EXPECT_TRUE(out.admin.empty()) << "refused for a non-admin";
}

TEST_F(SchedulerTest, BlockedSenderIsRefused) {
  router->block("bob@example.org", "alice@example.org", true);
  in(chat("alice@example.org", "bob", "m1", "x"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_NE(out.stanzas[0].to_xml().find("not-acceptable"), std::string::npos);
}

}  // namespace
}  // namespace concierge::core
