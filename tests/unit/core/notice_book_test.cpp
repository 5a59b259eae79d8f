// SPDX-License-Identifier: MIT
#include <component/core/notice_book.hpp>

#include <gtest/gtest.h>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using Kind = Remembered::Kind;

class NoticeBookTest : public ::testing::Test {
 protected:
  // The rows of `kind` in the store, as "a>b:detail".
  std::vector<std::string> rows(Kind kind) {
    std::vector<std::string> out;
    for (const auto& row : store.remembered()) {
      if (row.kind == kind) out.push_back(row.a + ">" + row.b + ":" + row.detail);
    }
    return out;
  }

  MemoryStore store;
  NoticeBook book{store};
  Instant t0{std::chrono::sys_days{std::chrono::year{2026} / 12 / 4}};
};

TEST_F(NoticeBookTest, TellsOncePerEpisodeAndAgainWhenTheReasonChanges) {
  EXPECT_FALSE(book.told("alice", "bob"));
  EXPECT_TRUE(book.tell("alice", "bob", HoldReason::away));
  EXPECT_TRUE(book.told("alice", "bob"));
  EXPECT_FALSE(book.tell("alice", "bob", HoldReason::away)) << "told already";
  EXPECT_TRUE(book.tell("alice", "bob", HoldReason::offline)) << "a new reason is news";
  EXPECT_FALSE(book.told("carol", "bob")) << "per sender";
  book.episode_ended("alice", "bob");
  EXPECT_FALSE(book.told("alice", "bob"));
  EXPECT_TRUE(book.tell("alice", "bob", HoldReason::offline)) << "a new episode is told again";
}

TEST_F(NoticeBookTest, DeliveredOnceForTheHoldsOfAToldSender) {
  book.expect_delivery("carol", "bob", {7});
  EXPECT_EQ(book.delivered("carol", "bob"), std::nullopt) << "carol was never told of a hold";
  EXPECT_TRUE(rows(Kind::delivering).empty());

  book.tell("alice", "bob", HoldReason::away);
  book.expect_delivery("alice", "bob", {1, 2, 3});
  EXPECT_EQ(rows(Kind::delivering), std::vector<std::string>{"alice>bob:1,2,3"});
  book.undelivered("alice", "bob", 2);  // cancelled on the way: not counted
  EXPECT_EQ(rows(Kind::delivering), std::vector<std::string>{"alice>bob:1,3"});
  EXPECT_EQ(book.delivered("alice", "bob"), 2u);
  EXPECT_EQ(book.delivered("alice", "bob"), std::nullopt) << "said once";
  EXPECT_TRUE(rows(Kind::delivering).empty()) << "gone from the store too";

  book.expect_delivery("alice", "bob", {4});
  book.give_up_delivery("alice", "bob");
  EXPECT_EQ(book.delivered("alice", "bob"), std::nullopt) << "the server refused it";
}

TEST_F(NoticeBookTest, ARebuiltBookKeepsWhatWasToldAndOwed) {
  book.tell("alice", "bob", HoldReason::away);
  book.expect_delivery("alice", "bob", {5, 6});
  EXPECT_TRUE(book.tell_reply("alice", "bob", t0 + 1h));

  NoticeBook rebuilt{store};
  for (const auto& row : store.remembered()) rebuilt.restore(row);
  rebuilt.told_before("alice", "bob", HoldReason::away);  // as from a held message
  EXPECT_FALSE(rebuilt.tell("alice", "bob", HoldReason::away)) << "no second notice";
  EXPECT_FALSE(rebuilt.tell_reply("alice", "bob", t0 + 1h)) << "the same 'back' time";
  EXPECT_EQ(rebuilt.delivered("alice", "bob"), 2u);
}

TEST_F(NoticeBookTest, ReplyNoticesAreToldOncePerBackTimeUntilItComes) {
  EXPECT_TRUE(book.tell_reply("alice", "bob", t0 + 1h));
  EXPECT_FALSE(book.tell_reply("alice", "bob", t0 + 1h));
  EXPECT_TRUE(book.tell_reply("alice", "bob", t0 + 2h)) << "a new 'back' time is news";
  EXPECT_EQ(rows(Kind::reply_notice).size(), 1u);
  book.forget_expired(t0 + 2h - 1s);
  EXPECT_FALSE(book.tell_reply("alice", "bob", t0 + 2h)) << "not come yet: still told";
  book.forget_expired(t0 + 2h);
  EXPECT_TRUE(rows(Kind::reply_notice).empty());
  EXPECT_TRUE(book.tell_reply("alice", "bob", t0 + 2h)) << "forgotten: told again";
}

}  // namespace
}  // namespace concierge::core
