// SPDX-License-Identifier: MIT
#include <component/core/presence_book.hpp>

#include <gtest/gtest.h>

namespace concierge::core {
namespace {

ResourceState res(std::string name, Show show = Show::online, int priority = 0) {
  ResourceState r;
  r.resource = std::move(name);
  r.show = show;
  r.priority = static_cast<std::int8_t>(priority);
  return r;
}

TEST(PresenceBook, NeverSeenIsUnknownNotOffline) {
  PresenceBook book;
  EXPECT_EQ(book.reachability("bob@x"), Reachability::unknown);
}

TEST(PresenceBook, UnavailableMakesKnownOffline) {
  PresenceBook book;
  book.available("bob@x", res("phone"));
  EXPECT_EQ(book.reachability("bob@x"), Reachability::available);
  book.unavailable("bob@x", "phone", {});
  EXPECT_EQ(book.reachability("bob@x"), Reachability::offline);
  book.unavailable("carol@x", "", {});
  EXPECT_EQ(book.reachability("carol@x"), Reachability::offline);
}

TEST(PresenceBook, DndOnlyWhenEveryEligibleResourceIsDnd) {
  PresenceBook book;
  book.available("bob@x", res("desk", Show::dnd));
  EXPECT_EQ(book.reachability("bob@x"), Reachability::dnd);
  book.available("bob@x", res("phone", Show::away));
  EXPECT_EQ(book.reachability("bob@x"), Reachability::available) << "away still takes messages";
  book.available("bob@x", res("phone", Show::dnd));
  EXPECT_EQ(book.reachability("bob@x"), Reachability::dnd) << "the same resource, updated";
}

TEST(PresenceBook, NegativePriorityResourcesDoNotCount) {
  PresenceBook book;
  book.available("bob@x", res("bot", Show::online, -1));
  EXPECT_EQ(book.reachability("bob@x"), Reachability::offline)
      << "RFC 6121 delivers bare-JID messages to no negative-priority resource";
  book.available("bob@x", res("desk", Show::dnd, 0));
  EXPECT_EQ(book.reachability("bob@x"), Reachability::dnd);
}

TEST(PresenceBook, ResourcesSortedByPriority) {
  PresenceBook book;
  book.available("bob@x", res("a", Show::online, 1));
  book.available("bob@x", res("b", Show::online, 5));
  auto r = book.resources("bob@x");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].resource, "b");
}

TEST(PresenceBook, ForgetAndClearMakeUnknownAgain) {
  PresenceBook book;
  book.available("bob@x", res("a"));
  book.forget("bob@x");
  EXPECT_EQ(book.reachability("bob@x"), Reachability::unknown);
  book.unavailable("carol@x", "", {});
  book.clear();
  EXPECT_EQ(book.reachability("carol@x"), Reachability::unknown);
  EXPECT_EQ(book.tracked_users(), 0u);
}

}  // namespace
}  // namespace concierge::core
