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

TEST_F(SessionBookTest, OpensOnlyWhenTheOneWrittenToWritesBack) {
  book.forwarded("alice", "bob", Activity::message, t0);
  EXPECT_FALSE(book.is_open("alice", "bob", t0)) << "alice wrote; bob has not answered";
  EXPECT_EQ(book.counted("bob", t0), 0) << "an unanswered sender cannot block bob";
  EXPECT_FALSE(book.engaged("alice", "bob", t0)) << "alice writing again is no conversation";
  EXPECT_TRUE(book.engaged("bob", "alice", t0)) << "bob's answer would engage it";
  book.forwarded("bob", "alice", Activity::message, t0 + 1s);
  EXPECT_TRUE(book.is_open("alice", "bob", t0 + 1s)) << "a session has no direction";
  EXPECT_EQ(book.counted("bob", t0 + 1s), 1);
  EXPECT_EQ(book.counted("alice", t0 + 1s), 1);
  EXPECT_EQ(book.counted("bob", t0 + 1s, "alice"), 0) << "not counted against the same peer";
  EXPECT_EQ(book.peers("bob", t0 + 1s), std::vector<std::string>{"alice"});
}

TEST_F(SessionBookTest, ComposingAndReceiptsOpenNothing) {
  book.forwarded("alice", "bob", Activity::other, t0);
  book.forwarded("alice", "bob", Activity::composing, t0);
  EXPECT_EQ(book.size(), 0u) << "no body, no entry";
  book.forwarded("alice", "bob", Activity::message, t0);
  book.forwarded("bob", "alice", Activity::composing, t0 + 1s);
  EXPECT_FALSE(book.is_open("alice", "bob", t0 + 1s)) << "composing opens none (DESIGN §1)";
  book.forwarded("bob", "alice", Activity::other, t0 + 9min);
  EXPECT_FALSE(book.engaged("bob", "alice", t0 + 10min + 1s)) << "a receipt keeps nothing alive";
}

TEST_F(SessionBookTest, EndsAfterIdleAfterOfSilenceAndActivityExtendsIt) {
  book.forwarded("alice", "bob", Activity::message, t0);
  book.forwarded("bob", "alice", Activity::message, t0);
  book.forwarded("bob", "alice", Activity::active, t0 + 9min);
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
  book.forwarded("alice", "bob", Activity::message, t0);
  book.forwarded("bob", "alice", Activity::message, t0);
  EXPECT_TRUE(book.end("bob", "alice"));
  EXPECT_FALSE(book.is_open("alice", "bob", t0));
  EXPECT_FALSE(book.end("bob", "alice"));
  EXPECT_EQ(book.counted("bob", t0), 0);
}

TEST_F(SessionBookTest, AReleasedOrUrgentMessageOpensNothingButAnAnswerDoes) {
  book.delivered("alice", "bob", t0);
  EXPECT_FALSE(book.is_open("alice", "bob", t0));
  EXPECT_EQ(book.counted("bob", t0), 0);
  EXPECT_TRUE(book.peers("bob", t0).empty());
  EXPECT_FALSE(book.engaged("alice", "bob", t0)) << "alice's next message is decided afresh";
  book.forwarded("bob", "alice", Activity::message, t0 + 1min);
  EXPECT_TRUE(book.is_open("alice", "bob", t0 + 1min)) << "bob answered";
}

TEST_F(SessionBookTest, AReleaseFromTheQueueReservesTheTargetsSlotUntilItAnswers) {
  book.reserve("alice", "bob", t0);
  EXPECT_EQ(book.counted("bob", t0), 1) << "bob's slot is held for alice";
  EXPECT_EQ(book.counted("alice", t0), 0) << "not alice's";
  EXPECT_FALSE(book.is_open("alice", "bob", t0));
  EXPECT_TRUE(book.peers("bob", t0).empty()) << "no conversation yet";
  EXPECT_TRUE(book.engaged("alice", "bob", t0)) << "alice's next message goes to her slot";
  book.forwarded("bob", "alice", Activity::message, t0 + 1min);
  EXPECT_TRUE(book.is_open("alice", "bob", t0 + 1min));
  EXPECT_EQ(book.counted("alice", t0 + 1min), 1) << "now it counts for both";
  EXPECT_EQ(book.counted("bob", t0 + 11min), 0) << "ends after idle_after";
}

TEST_F(SessionBookTest, AStaleEntryIsForgottenNotResurrected) {
  book.forwarded("alice", "bob", Activity::message, t0);
  book.forwarded("bob", "alice", Activity::message, t0 + 11min);
  EXPECT_FALSE(book.is_open("alice", "bob", t0 + 11min)) << "alice's message is too old to answer";
  EXPECT_EQ(book.counted("bob", t0 + 11min), 0);
}

TEST_F(SessionBookTest, CountsSeveralPeers) {
  for (const char* peer : {"alice", "carol"}) {
    book.forwarded(peer, "bob", Activity::message, t0);
    book.forwarded("bob", peer, Activity::message, t0);
  }
  EXPECT_EQ(book.counted("bob", t0), 2);
  EXPECT_EQ(book.counted("bob", t0, "carol"), 1);
}

}  // namespace
}  // namespace concierge::core
