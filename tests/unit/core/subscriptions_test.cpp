// SPDX-License-Identifier: MIT
// Subscriptions with plain values, no Router and no stanzas: what it answers, and what it
// leaves in the store for the next start.
#include <component/core/subscriptions.hpp>

#include <gtest/gtest.h>

namespace concierge::core {

// Beside the type, for gtest's EXPECT_EQ to find.
static bool operator==(const SubscriptionState& a, const SubscriptionState& b) {
  return a.jid == b.jid && a.asked == b.asked && a.to == b.to && a.from == b.from;
}

namespace {

class SubscriptionsTest : public ::testing::Test {
 protected:
  // What the store holds for `bare` (nothing: all false).
  SubscriptionState stored(const std::string& bare) {
    for (const auto& s : store.subscriptions()) {
      if (s.jid == bare) return s;
    }
    return {.jid = bare};
  }

  MemoryStore store;
  Subscriptions subs{store};
};

TEST_F(SubscriptionsTest, AsksOnceAndStopsAskingWhenGranted) {
  EXPECT_TRUE(subs.ask("bob@x"));
  EXPECT_EQ(stored("bob@x"), (SubscriptionState{.jid = "bob@x", .asked = true}));
  subs.granted("bob@x");
  EXPECT_EQ(stored("bob@x"), (SubscriptionState{.jid = "bob@x", .asked = true, .to = true}));
  EXPECT_FALSE(subs.ask("bob@x")) << "granted: nothing to ask";
}

TEST_F(SubscriptionsTest, ApprovingAsksBackOnlyWhenNeverAsked) {
  EXPECT_TRUE(subs.approve("bob@x")) << "never asked: asks for theirs in turn";
  EXPECT_EQ(stored("bob@x"), (SubscriptionState{.jid = "bob@x", .asked = true, .from = true}));
  EXPECT_FALSE(subs.approve("bob@x")) << "asked already";
  subs.granted("carol@x");
  EXPECT_FALSE(subs.approve("carol@x")) << "granted already";
  EXPECT_TRUE(subs.of("carol@x").from);
  subs.unsubscribed("carol@x");
  EXPECT_FALSE(stored("carol@x").from);
  EXPECT_TRUE(stored("carol@x").to) << "the other direction stays";
}

TEST_F(SubscriptionsTest, PresenceCountsOnlyByRight) {
  EXPECT_FALSE(subs.believe_presence("bob@x", true, true)) << "no grant, no privilege";
  subs.granted("bob@x");
  EXPECT_TRUE(subs.believe_presence("bob@x", false, false)) << "granted: even from the bare JID";
  EXPECT_FALSE(subs.believe_presence("carol@x", true, true));
  EXPECT_TRUE(subs.set_presence_privilege(true));
  EXPECT_FALSE(subs.set_presence_privilege(true)) << "no change";
  EXPECT_TRUE(subs.believe_presence("carol@x", true, true)) << "privileged: a resource's";
  EXPECT_FALSE(subs.believe_presence("carol@x", false, true)) << "not the bare JID's";
}

TEST_F(SubscriptionsTest, ADenialWithoutPrivilegeForgetsWhatWasKnown) {
  subs.granted("bob@x");
  EXPECT_TRUE(subs.denied("bob@x", true)) << "what we knew no longer holds";
  EXPECT_EQ(stored("bob@x"), (SubscriptionState{.jid = "bob@x", .asked = true}));
  EXPECT_FALSE(subs.believe_presence("bob@x", true, true));
  EXPECT_FALSE(subs.greeting("bob@x").ask) << "a refusal is not asked again on connect";
}

TEST_F(SubscriptionsTest, ADenialsEchoesAreIgnoredUntilTheNextAvailable) {
  subs.set_presence_privilege(true);
  subs.granted("bob@x");
  EXPECT_FALSE(subs.denied("bob@x", true)) << "presence still comes by right";
  EXPECT_FALSE(subs.believe_presence("bob@x", true, false)) << "the server's echo";
  EXPECT_TRUE(subs.believe_presence("bob@x", true, true));
  EXPECT_TRUE(subs.believe_presence("bob@x", true, false)) << "after an available: believed";
  subs.denied("carol@x", false);
  EXPECT_TRUE(subs.believe_presence("carol@x", true, false)) << "not enrolled: not remembered";
}

TEST_F(SubscriptionsTest, ForgettingAUserReturnsTheirSubscribers) {
  subs.approve("bob@x");
  subs.proxies().add_subscriber("bob@x", "carol@x");
  subs.proxies().add_subscriber("alice@x", "bob@x");
  subs.proxies().publish("bob@x", ProxyStatus::off);
  EXPECT_EQ(subs.forget("bob@x"), std::set<std::string>{"carol@x"});
  EXPECT_EQ(subs.proxies().subscriber_count("bob@x"), 0u);
  EXPECT_EQ(subs.proxies().published("bob@x"), ProxyStatus::available);
  EXPECT_FALSE(subs.of("bob@x").from);
  EXPECT_TRUE(subs.proxies().subscribed("alice@x", "bob@x"))
      << "their own subscriptions are others'";
  EXPECT_TRUE(subs.approved().empty());
}

TEST_F(SubscriptionsTest, GreetsByWhatEachUserGranted) {
  subs.approve("a@x");  // approved, asked, not granted
  subs.granted("b@x");
  const auto a = subs.greeting("a@x");
  EXPECT_TRUE(a.presence);
  EXPECT_FALSE(a.probe);
  EXPECT_FALSE(a.ask) << "asked before";
  const auto b = subs.greeting("b@x");
  EXPECT_FALSE(b.presence);
  EXPECT_TRUE(b.probe);
  const auto c = subs.greeting("c@x");
  EXPECT_TRUE(c.ask) << "never asked";
  EXPECT_TRUE(stored("c@x").asked);
  EXPECT_FALSE(subs.greeting("c@x").ask) << "asked once";
}

TEST_F(SubscriptionsTest, PacesUsersInPortions) {
  subs.start_pacing({"a@x", "b@x", "c@x"});
  EXPECT_TRUE(subs.pacing());
  EXPECT_EQ(subs.next_paced(2), (std::vector<std::string>{"a@x", "b@x"}));
  EXPECT_TRUE(subs.pacing());
  EXPECT_EQ(subs.next_paced(2), std::vector<std::string>{"c@x"});
  EXPECT_FALSE(subs.pacing());
  EXPECT_TRUE(subs.next_paced(2).empty());

  subs.start_pacing({"a@x", "b@x"});
  subs.stop_pacing();
  EXPECT_FALSE(subs.pacing());
  EXPECT_TRUE(subs.next_paced(2).empty()) << "disconnected: the rest are not greeted";
}

}  // namespace
}  // namespace concierge::core
