// SPDX-License-Identifier: MIT
#include <component/app/unconfirmed_forwards.hpp>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

xmpp::Element message(const std::string& id) {
  xmpp::Element m = xmpp::make("message", {{"id", id}, {"to", "bob@localhost"}});
  m.add_child(xmpp::make_text("body", "hello"));
  return m;
}

std::vector<std::string> ids(const std::deque<UnconfirmedForwards::Kept>& kept) {
  std::vector<std::string> out;
  for (const auto& k : kept) out.emplace_back(k.stanza.attr("id"));
  return out;
}

core::Instant at(int seconds) { return core::Instant{std::chrono::seconds(seconds)}; }

TEST(UnconfirmedForwards, APingAnswerConfirmsWhatWasSentBeforeThePingOnly) {
  UnconfirmedForwards f;
  f.keep(message("a"));
  f.keep(message("b"));
  EXPECT_TRUE(f.wants_ping());
  f.ping_sent("forward-1");
  EXPECT_FALSE(f.wants_ping()) << "one ping in flight at a time";
  f.keep(message("c"));
  f.answered("forward-1");
  EXPECT_EQ(f.size(), 1u);
  EXPECT_TRUE(f.wants_ping()) << "c is not covered by the answered ping";
  EXPECT_EQ(ids(f.take_all()), std::vector<std::string>({"c"}));
}

TEST(UnconfirmedForwards, AStreamCutVoidsPingsInFlightAndKeepsEverythingInOrder) {
  UnconfirmedForwards f;
  f.keep(message("a"));
  f.ping_sent("forward-1");
  f.keep(message("b"));
  f.disconnected();
  f.answered("forward-1");  // a late answer from the old stream confirms nothing
  auto again = f.take_all();
  EXPECT_EQ(ids(again), std::vector<std::string>({"a", "b"}));
  EXPECT_EQ(f.size(), 0u);
  EXPECT_FALSE(f.wants_ping()) << "handed over: nothing is kept until it is sent again";
  for (const auto& k : again) f.keep(k.stanza, k.received);  // sent on the new stream
  EXPECT_TRUE(f.wants_ping()) << "what is sent again needs a ping of the new stream";
  f.ping_sent("forward-2");
  f.answered("forward-2");
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(f.bytes(), 0u);
  EXPECT_FALSE(f.wants_ping());
}

TEST(UnconfirmedForwards, ForgetsTheOldestPastItsBounds) {
  UnconfirmedForwards by_count(2);
  EXPECT_EQ(by_count.keep(message("a")), 0u);
  EXPECT_EQ(by_count.keep(message("b")), 0u);
  EXPECT_EQ(by_count.keep(message("c")), 1u);
  EXPECT_EQ(ids(by_count.take_all()), std::vector<std::string>({"b", "c"}));

  const std::size_t one = message("x").to_xml().size();
  UnconfirmedForwards by_bytes(100, 2 * one);
  by_bytes.keep(message("x"));
  by_bytes.keep(message("y"));
  EXPECT_EQ(by_bytes.keep(message("z")), 1u);
  EXPECT_EQ(by_bytes.bytes(), 2 * one);
  EXPECT_EQ(ids(by_bytes.take_all()), std::vector<std::string>({"y", "z"}));
}

TEST(UnconfirmedForwards, HandsBackWhenEachMessageWasReceived) {
  UnconfirmedForwards f;
  f.keep(message("a"), at(10));
  f.keep(message("b"), at(20));
  auto all = f.take_all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].received, at(10));
  EXPECT_EQ(all[1].received, at(20));
  EXPECT_EQ(f.bytes(), 0u);
}

}  // namespace
}  // namespace concierge::app
