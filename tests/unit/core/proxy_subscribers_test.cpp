// SPDX-License-Identifier: MIT
// ProxySubscribers with plain values, no Router and no stanzas: who subscribed to which proxy,
// what it leaves in the store for the next start, and which status changes are news.
#include <component/core/proxy_subscribers.hpp>

#include <gtest/gtest.h>

namespace concierge::core {
namespace {

class ProxySubscribersTest : public ::testing::Test {
 protected:
  // The stored subscribers, as "target>subscriber".
  std::vector<std::string> stored_subscribers() {
    std::vector<std::string> rows;
    for (const auto& p : store.proxy_subscriptions()) rows.push_back(p.target + ">" + p.subscriber);
    return rows;
  }

  MemoryStore store;
  ProxySubscribers proxies{store};
};

TEST_F(ProxySubscribersTest, ProxySubscribersAreKeptInTheStore) {
  EXPECT_TRUE(proxies.add_subscriber("bob@x", "carol@x"));
  EXPECT_FALSE(proxies.add_subscriber("bob@x", "carol@x")) << "clients repeat";
  EXPECT_TRUE(proxies.add_subscriber("bob@x", "alice@x"));
  EXPECT_EQ(proxies.subscriber_count("bob@x"), 2u);
  EXPECT_TRUE(proxies.subscribed("bob@x", "carol@x"));
  EXPECT_FALSE(proxies.subscribed("carol@x", "bob@x")) << "one direction";
  proxies.remove_subscriber("bob@x", "carol@x");
  EXPECT_FALSE(proxies.subscribed("bob@x", "carol@x"));
  EXPECT_EQ(stored_subscribers(), std::vector<std::string>{"bob@x>alice@x"});

  ProxySubscribers restarted(store);
  EXPECT_TRUE(restarted.subscribed("bob@x", "alice@x"));
  EXPECT_EQ(restarted.all_subscribers().size(), 1u);
}

TEST_F(ProxySubscribersTest, DropsTheSubscribersNoLongerAllowed) {
  for (const char* s : {"a@x", "b@y", "c@x"}) proxies.add_subscriber("bob@x", s);
  const auto dropped =
      proxies.drop_subscribers("bob@x", [](const std::string& s) { return s.ends_with("@x"); });
  EXPECT_EQ(dropped, std::vector<std::string>{"b@y"});
  EXPECT_EQ(proxies.subscribers("bob@x"), (std::set<std::string>{"a@x", "c@x"}));
  EXPECT_EQ(stored_subscribers().size(), 2u);
  proxies.drop_subscribers("bob@x", [](const std::string&) { return false; });
  EXPECT_EQ(proxies.subscriber_count("bob@x"), 0u);
  EXPECT_TRUE(proxies.all_subscribers().empty()) << "no empty entry left behind";
}

TEST_F(ProxySubscribersTest, PublishesOnlyChanges) {
  EXPECT_EQ(proxies.published("bob@x"), ProxyStatus::available) << "nothing sent yet";
  EXPECT_TRUE(proxies.publish("bob@x", ProxyStatus::off)) << "the first is news";
  EXPECT_FALSE(proxies.publish("bob@x", ProxyStatus::off));
  EXPECT_EQ(proxies.published("bob@x"), ProxyStatus::off);
  EXPECT_TRUE(proxies.publish("bob@x", ProxyStatus::in_conversation));
  proxies.forget_published();
  EXPECT_TRUE(proxies.publish("bob@x", ProxyStatus::in_conversation)) << "a new stream";
}

}  // namespace
}  // namespace concierge::core
