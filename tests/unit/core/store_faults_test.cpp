// SPDX-License-Identifier: MIT
// StoreFaults alone, over a HoldBook and a NoticeWriter built by hand: which holds a failed
// commit withdraws (still held, not on their way out), the refusals their senders get, the
// hold notices that must not go, and refusing while the store fails.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <component/core/hold_book.hpp>
#include <component/core/notice_writer.hpp>
#include <component/core/scheduler_rooms.hpp>
#include <component/core/store_faults.hpp>
#include <tests/unit/core/scheduler_fixture.hpp>

namespace concierge::core::testing {
namespace {

const std::string kBob = "bob@example.org";
const std::string kAlice = "alice@example.org";
const std::string kCarol = "carol@example.org";

class StoreFaultsTest : public ::testing::Test, protected HandBuiltRooms {
 protected:
  // A hold of `sender`'s message `id` for `target`, taken this turn.
  std::int64_t hold(const std::string& sender, const std::string& target, const std::string& id) {
    const xmpp::Element original = xml(chat(sender, target.substr(0, target.find('@')), id, id));
    Hold h;
    h.sender = sender;
    h.target = target;
    h.stanza_id = id;
    h.stanza = original.to_xml();
    h.received = kMonday0800Utc;
    h.reason = HoldReason::off_hours;
    const std::int64_t hold_id = holds.add(std::move(h));
    faults.held(hold_id, original, target);
    return hold_id;
  }

  HoldBook holds{store, [](const std::string&, const std::string&) {}, [] {}};
  NoticeWriter notices{rooms, holds};
  std::vector<std::int64_t> erased;
  StoreFaults faults{holds, notices, stats, [this](std::int64_t id) {
                       erased.push_back(id);
                       holds.erase(id);
                     }};
  Outbox out;
};

TEST_F(StoreFaultsTest, UnwatchedEveryHoldCountsAsCommitted) {
  const std::int64_t id = hold(kAlice, kBob, "m1");
  EXPECT_FALSE(faults.uncommitted(id));
  EXPECT_TRUE(faults.failed(out).empty());
  EXPECT_TRUE(erased.empty());
  EXPECT_TRUE(out.stanzas.empty());
  EXPECT_TRUE(faults.failing());
}

TEST_F(StoreFaultsTest, AFailedCommitWithdrawsTheHoldsItLackedAndRefusesThem) {
  faults.watch();
  const std::int64_t gone = hold(kAlice, kBob, "m1");
  const std::int64_t on_its_way = hold(kAlice, kBob, "m2");
  const std::int64_t other = hold(kCarol, kBob, "m3");
  EXPECT_TRUE(faults.uncommitted(gone));
  holds.mark_in_flight(on_its_way);  // released this turn: on its way, not refused
  stats.held = 3;

  const auto withdrawn = faults.failed(out);
  EXPECT_EQ(erased, (std::vector<std::int64_t>{gone, other}));
  EXPECT_FALSE(faults.uncommitted(gone));
  ASSERT_EQ(out.stanzas.size(), 2u);
  for (const auto& refusal : out.stanzas) {
    EXPECT_EQ(refusal.attr("type"), "error");
    EXPECT_NE(refusal.child("error")->child("resource-constraint"), nullptr);
  }
  EXPECT_EQ(out.stanzas[0].attr("to"), kAlice + "/r");
  EXPECT_EQ(stats.held, 1u);
  EXPECT_EQ(stats.refused, 2u);
  // Alice still has m2 held for bob: her notice may go; carol has nothing held any more.
  ASSERT_EQ(withdrawn.size(), 1u);
  EXPECT_EQ(withdrawn.begin()->second, kCarol);
  EXPECT_TRUE(faults.failing());
}

TEST_F(StoreFaultsTest, WhileTheStoreFailsMessagesAreRefusedUntilACommitSucceeds) {
  const xmpp::Element original = xml(chat(kAlice, "bob", "m1", "x"));
  EXPECT_FALSE(faults.refused(original, kBob, out));
  faults.failed(out);
  EXPECT_TRUE(faults.refused(original, kBob, out));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_EQ(stats.refused, 1u);

  out.clear();
  faults.succeeded(out);
  EXPECT_FALSE(faults.failing());
  ASSERT_EQ(out.logs.size(), 1u);
  EXPECT_NE(out.logs[0].text.find("commits again"), std::string::npos);
  EXPECT_FALSE(faults.refused(original, kBob, out));
  out.clear();
  faults.succeeded(out);
  EXPECT_TRUE(out.logs.empty()) << "told once, when the store came back";
}

}  // namespace
}  // namespace concierge::core::testing
