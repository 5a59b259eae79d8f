// SPDX-License-Identifier: MIT
// Releases, expiry, pauses and unenrolment of held messages (DESIGN §2, §6) — fake clock.
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

TEST_F(SchedulerTest, HoldsExpireWithANoticeToTheSender) {
  now = kMonday0800Utc + 10h;
  Settings s = settings();
  s.max_hold_age = 1h;
  router->reconfigure(s, now, out);
  in(chat("alice@example.org", "bob", "m1", "x"));
  tick_to(now + 1h);
  EXPECT_TRUE(store.holds().empty());
  ASSERT_EQ(bodies(out.stanzas, "alice@example.org").size(), 1u);
  EXPECT_NE(bodies(out.stanzas, "alice@example.org")[0].find("expired undelivered"), std::string::npos);
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
  EXPECT_FALSE(router->directory().enrolled("bob@example.org"));
  EXPECT_TRUE(store.holds().empty());
  auto told = bodies(out.stanzas, "alice@example.org");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("could not be delivered: they no longer use Concierge."), std::string::npos);
}

TEST_F(SchedulerTest, DeliveredHoldsNoLongerCountAgainstTheSendersCap) {
  Settings s = settings();
  s.holds_per_sender = 2;
  router->reconfigure(s, now, out);
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "one"));
  in(chat("alice@example.org", "bob", "m2", "two"));
  tick_to(kMonday0800Utc + 24h);
  ASSERT_EQ(out.releases.size(), 2u);
  router->releaser().release_confirmed(ids_of(out), now, out);
  tick_to(now + 16min);
  ASSERT_EQ(router->scheduler().holds().size(), 0u);
  now = kMonday0800Utc + 34h;  // Tue 19:00: off again
  in(chat("alice@example.org", "bob", "m3", "three"));
  EXPECT_TRUE(out.stanzas.empty()) << "held, not refused as over the cap";
  EXPECT_EQ(router->scheduler().holds().size(), 1u);
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
  router->releaser().release_confirmed(ids, now, out);
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
  EXPECT_TRUE(router->scheduler().holds_for("bob@example.org").empty());
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
  EXPECT_EQ(r.scheduler().holds().size(), 0u);
  EXPECT_TRUE(st.holds().empty());
}

TEST_F(SchedulerTest, ReleasingManyHoldsIsLinear) {
  Settings s = settings();
  s.holds_per_target = 100000;
  router->reconfigure(s, now, out);
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
  router->releaser().release_confirmed(ids_of(out), now, out);
  tick_to(now + 16min);
  EXPECT_EQ(router->scheduler().holds().size(), 0u);
}

}  // namespace
}  // namespace concierge::core
