// SPDX-License-Identifier: MIT
// The HoldBook on its own: ids in arrival order, counts per sender and per episode, in-flight
// releases, confirmation and re-holding, written through to the store — no router, no stanzas.
#include <component/core/hold_book.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;

class HoldBookTest : public ::testing::Test {
 protected:
  MemoryStore store;
  std::vector<std::pair<std::string, std::string>> ended;
  int changes = 0;
  HoldBook book{store, [this](const std::string& s, const std::string& t) { ended.emplace_back(s, t); },
                [this] { ++changes; }};
  Instant now{std::chrono::sys_days{std::chrono::year{2026} / 12 / 1}};

  std::int64_t add(const std::string& sender, const std::string& target) {
    Hold h;
    h.sender = sender;
    h.target = target;
    h.stanza = "<message/>";
    h.received = now;
    return book.add(std::move(h));
  }
};

TEST_F(HoldBookTest, IdsRiseWithArrivalAndEveryHoldIsStored) {
  const auto a = add("alice@example.org", "bob@example.org");
  const auto b = add("carol@example.org", "bob@example.org");
  EXPECT_LT(a, b);
  EXPECT_EQ(store.holds().size(), 2u);
  ASSERT_NE(book.of_target("bob@example.org"), nullptr);
  EXPECT_EQ(book.of_target("bob@example.org")->size(), 2u);
  EXPECT_EQ(book.of_target("dave@example.org"), nullptr);
  EXPECT_GT(changes, 0);
}

TEST_F(HoldBookTest, CountsPerSenderAndPairFollowTheHeldState) {
  const auto a = add("alice@example.org", "bob@example.org");
  add("alice@example.org", "carol@example.org");
  EXPECT_EQ(book.held_by("alice@example.org"), 2u);
  EXPECT_TRUE(book.pair_held("alice@example.org", "bob@example.org"));
  EXPECT_FALSE(book.pair_held("bob@example.org", "alice@example.org"));
  book.mark_in_flight(a);
  EXPECT_FALSE(book.has_waiting("bob@example.org")) << "on its way out is not waiting";
  EXPECT_TRUE(book.has_waiting("carol@example.org"));
  book.confirm(book.at(a), now);
  EXPECT_EQ(book.at(a).state, HoldState::sent);
  EXPECT_EQ(book.held_by("alice@example.org"), 1u);
  EXPECT_FALSE(book.pair_held("alice@example.org", "bob@example.org"));
  ASSERT_EQ(ended.size(), 1u) << "the episode ends with the last held message of the pair";
  EXPECT_EQ(ended[0], (std::pair<std::string, std::string>{"alice@example.org", "bob@example.org"}));
}

TEST_F(HoldBookTest, ABouncedReleaseIsHeldAgainAndCountedOnce) {
  const auto a = add("alice@example.org", "bob@example.org");
  book.mark_in_flight(a);
  book.unmark_in_flight(a);
  book.confirm(book.at(a), now);
  book.hold_again(book.at(a));
  EXPECT_EQ(book.at(a).state, HoldState::held);
  EXPECT_EQ(book.held_by("alice@example.org"), 1u);
  EXPECT_TRUE(book.has_waiting("bob@example.org"));
  EXPECT_EQ(book.bounced(a), 1);
  EXPECT_EQ(book.bounced(a), 2);
}

TEST_F(HoldBookTest, ErasingForgetsEverythingAndTheStoreCopy) {
  const auto a = add("alice@example.org", "bob@example.org");
  book.mark_in_flight(a);
  book.summarise({a});
  book.erase(a);
  EXPECT_EQ(book.find(a), nullptr);
  EXPECT_FALSE(book.in_flight(a));
  EXPECT_FALSE(book.summarised(a));
  EXPECT_EQ(book.of_target("bob@example.org"), nullptr);
  EXPECT_EQ(book.held_by("alice@example.org"), 0u);
  EXPECT_TRUE(store.holds().empty());
  EXPECT_EQ(ended.size(), 1u);
}

TEST_F(HoldBookTest, LoadingTheStoreContinuesIdsAndReportsWhatIsHeld) {
  const auto a = add("alice@example.org", "bob@example.org");
  const auto b = add("carol@example.org", "bob@example.org");
  book.confirm(book.at(b), now);
  HoldBook again{store, [](const std::string&, const std::string&) {}, [] {}};
  std::vector<std::int64_t> held;
  again.load([&](const Hold& h) { held.push_back(h.id); });
  EXPECT_EQ(held, std::vector<std::int64_t>{a}) << "a sent one is not held";
  EXPECT_EQ(again.size(), 2u);
  Hold h;
  h.sender = "dave@example.org";
  h.target = "bob@example.org";
  EXPECT_GT(again.add(std::move(h)), b);
  EXPECT_FALSE(again.in_flight(a)) << "nothing is in flight after a restart";
}

}  // namespace
}  // namespace concierge::core
