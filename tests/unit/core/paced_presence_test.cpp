// SPDX-License-Identifier: MIT
// After connecting, the users' presences, probes and subscription requests are handed out in
// portions (Router::connected, then pace_more) instead of all at once.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

namespace concierge::core {
namespace {

constexpr std::size_t kUsers = Router::kPacedUsersAtOnce + 500;

std::string user(std::size_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "u%05zu@example.org", i);  // JID order = index order
  return name;
}

class PacedPresenceTest : public ::testing::Test {
 protected:
  PacedPresenceTest() {
    for (std::size_t i = 0; i < kUsers; ++i) {
      // Even users approved our subscription before (a probe each); odd ones were never asked.
      if (i % 2 == 0) store.put_subscription(SubscriptionState{user(i), true, true, false});
    }
    Settings s;
    s.component_domain = "sched.example.org";
    s.served_domains = {"example.org"};
    for (std::size_t i = 0; i < kUsers; ++i) s.enrolled.insert(user(i));
    router = std::make_unique<Router>(std::move(s), store);
  }
  MemoryStore store;
  std::unique_ptr<Router> router;
  Instant now{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};
};

TEST_F(PacedPresenceTest, TheFirstUsersComeAtConnectAndTheRestAsAskedInJidOrder) {
  Outbox out;
  router->connected(now, out);
  ASSERT_EQ(out.paced.size(), Router::kPacedUsersAtOnce) << "one stanza per user here";
  EXPECT_TRUE(out.stanzas.empty()) << "nothing unpaced";
  EXPECT_EQ(out.paced.front().attr("to"), user(0));
  EXPECT_EQ(out.paced.front().attr("type"), "probe");
  EXPECT_EQ(out.paced[1].attr("type"), "subscribe");
  EXPECT_EQ(out.paced.back().attr("to"), user(Router::kPacedUsersAtOnce - 1));

  Outbox more;
  EXPECT_TRUE(router->presences().pace_more(400, more));
  ASSERT_EQ(more.paced.size(), 400u);
  EXPECT_EQ(more.paced.front().attr("to"), user(Router::kPacedUsersAtOnce));
  Outbox rest;
  EXPECT_FALSE(router->presences().pace_more(400, rest)) << "no users left";
  ASSERT_EQ(rest.paced.size(), 100u);
  EXPECT_EQ(rest.paced.back().attr("to"), user(kUsers - 1));
  Outbox none;
  EXPECT_FALSE(router->presences().pace_more(400, none));
  EXPECT_TRUE(none.paced.empty());

  std::set<std::string> asked;
  for (const auto& s : store.subscriptions()) {
    if (s.asked) asked.insert(s.jid);
  }
  EXPECT_EQ(asked.size(), kUsers) << "every user asked once, recorded as they were handed out";
}

TEST_F(PacedPresenceTest, AfterADisconnectNothingMoreIsHandedOutAndTheNextConnectStartsOver) {
  Outbox out;
  router->connected(now, out);
  router->releaser().disconnected();
  Outbox more;
  EXPECT_FALSE(router->presences().pace_more(400, more));
  EXPECT_TRUE(more.paced.empty());
  std::size_t asked = 0;
  for (const auto& s : store.subscriptions()) asked += s.asked ? 1 : 0;
  EXPECT_EQ(asked, kUsers / 2 + Router::kPacedUsersAtOnce / 2)
      << "users not handed out are not recorded as asked";
  Outbox again;
  router->connected(now, again);
  EXPECT_EQ(again.paced.front().attr("to"), user(0));
  EXPECT_EQ(again.paced.size(), Router::kPacedUsersAtOnce / 2)
      << "probes for the first users again; the ones asked before are not asked twice";
}

}  // namespace
}  // namespace concierge::core
