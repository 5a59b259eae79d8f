// SPDX-License-Identifier: MIT
#include <component/core/session_book.hpp>

#include <gtest/gtest.h>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;

class SessionBookTest : public ::testing::Test {
 protected:
  SessionBook book{10min};
  Instant t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};
};

TEST_F(SessionBookTest, OpensOnlyWhenDeliveredToAnAvailableTarget) {
  book.forwarded("alice", "bob", Activity::message, t0, /*to_available=*/false);
  EXPECT_FALSE(book.is_open("alice", "bob", t0));
  book.forwarded("alice", "bob", Activity::message, t0, true);
  EXPECT_TRUE(book.is_open("bob", "alice", t0)) << "a session has no direction";
}

TEST_F(SessionBookTest, CountsOnlyOnceBothHaveWritten) {
  book.forwarded("alice", "bob", Activity::message, t0, true);
  EXPECT_EQ(book.counted("bob", t0), 0) << "an unanswered sender cannot block bob";
  book.forwarded("bob", "alice", Activity::composing, t0 + 1s, true);
  EXPECT_EQ(book.counted("bob", t0 + 1s), 1);
  EXPECT_EQ(book.counted("alice", t0 + 1s), 1);
  EXPECT_EQ(book.counted("bob", t0 + 1s, "alice"), 0) << "not counted against the same peer";
}

TEST_F(SessionBookTest, ReceiptsNeitherOpenNorKeepAlive) {
  book.forwarded("alice", "bob", Activity::other, t0, true);
  EXPECT_FALSE(book.is_open("alice", "bob", t0));
  book.forwarded("alice", "bob", Activity::message, t0, true);
  book.forwarded("bob", "alice", Activity::other, t0 + 9min, true);
  EXPECT_FALSE(book.is_open("alice", "bob", t0 + 10min));
}

TEST_F(SessionBookTest, EndsAfterIdleAfterOfSilenceAndActivityExtendsIt) {
  book.forwarded("alice", "bob", Activity::message, t0, true);
  book.forwarded("bob", "alice", Activity::active, t0 + 9min, true);
  EXPECT_TRUE(book.is_open("alice", "bob", t0 + 18min));
  EXPECT_FALSE(book.is_open("alice", "bob", t0 + 19min));
  EXPECT_EQ(book.next_expiry(), t0 + 19min);
  EXPECT_TRUE(book.expire(t0 + 19min - 1ms).empty());
  auto ended = book.expire(t0 + 19min);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0], (std::pair<std::string, std::string>{"alice", "bob"}));
  EXPECT_EQ(book.size(), 0u);
  EXPECT_FALSE(book.next_expiry());
}

TEST_F(SessionBookTest, GoneOrEndCommandEndsAtOnce) {
  book.forwarded("alice", "bob", Activity::message, t0, true);
  EXPECT_TRUE(book.end("bob", "alice"));
  EXPECT_FALSE(book.is_open("alice", "bob", t0));
  EXPECT_FALSE(book.end("bob", "alice"));
  EXPECT_EQ(book.counted("bob", t0), 0);
}

TEST_F(SessionBookTest, ReleasedConversationCountsFromRelease) {
  book.open_released("alice", "bob", t0);
  EXPECT_EQ(book.counted("bob", t0), 1);
  EXPECT_EQ(book.peers("bob", t0), std::vector<std::string>{"alice"});
}

TEST_F(SessionBookTest, AStaleSessionIsNotResurrectedByAMessageToAnOfflineTarget) {
  book.forwarded("alice", "bob", Activity::message, t0, true);
  book.forwarded("bob", "alice", Activity::message, t0, true);
  book.forwarded("alice", "bob", Activity::message, t0 + 11min, /*to_available=*/false);
  EXPECT_FALSE(book.is_open("alice", "bob", t0 + 11min));
  EXPECT_EQ(book.counted("bob", t0 + 11min), 0);
}

TEST_F(SessionBookTest, CountsSeveralPeers) {
  for (const char* peer : {"alice", "carol"}) {
    book.forwarded(peer, "bob", Activity::message, t0, true);
    book.forwarded("bob", peer, Activity::message, t0, true);
  }
  EXPECT_EQ(book.counted("bob", t0), 2);
  EXPECT_EQ(book.counted("bob", t0, "carol"), 1);
}

}  // namespace
}  // namespace concierge::core
