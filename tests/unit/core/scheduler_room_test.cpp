// SPDX-License-Identifier: MIT
// The Scheduler and the Releaser driven directly with plain values (an Inbound, an instant, an
// Outbox) over rooms built by hand: no Router, no stanza parsing of the way in.
#include <gtest/gtest.h>

#include <component/core/availability.hpp>
#include <component/core/directory.hpp>
#include <component/core/presence_book.hpp>
#include <component/core/releaser.hpp>
#include <component/core/scheduler.hpp>
#include <component/core/session_book.hpp>
#include <component/core/subscriptions.hpp>
#include <tests/unit/core/scheduler_fixture.hpp>

namespace concierge::core::testing {
namespace {

const std::string kBob = "bob@example.org";
const std::string kAlice = "alice@example.org";

class SchedulerRoomTest : public ::testing::Test, protected HandBuiltRooms {
 protected:
  SchedulerRoomTest() {
    availability.set_schedule(kBob, office_hours(kMonday0800Utc));
    ResourceState desk;
    desk.resource = "desk";
    presence.available(kBob, desk);
    releaser.connected();
  }

  // alice writes `body` to bob at `at`: what the scheduler did is in `out`.
  bool send(const std::string& id, const std::string& body, Instant at) {
    const xmpp::Element stanza = xml(chat(kAlice, "bob", id, body));
    const auto sender = *xmpp::Jid::parse(kAlice + "/r");
    const auto target = *xmpp::Jid::parse(kBob);
    return scheduler.schedule_message(inbound_of(stanza, sender, target), at, out);
  }
  std::vector<std::string> released_ids() const {
    std::vector<std::string> ids;
    for (const auto& r : out.releases) ids.emplace_back(r.stanza.attr("id"));
    return ids;
  }

  Scheduler scheduler{rooms};
  Releaser releaser{rooms, scheduler};
  Outbox out;
};

TEST_F(SchedulerRoomTest, WhileTheTargetWorksAMessageGoesAtOnceAndNothingIsHeld) {
  const Instant monday_10 = kMonday0800Utc + 1h;  // 10:00 in Berlin
  EXPECT_TRUE(send("m1", "hello", monday_10));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("to"), kBob);
  EXPECT_EQ(scheduler.holds().size(), 0u);
  EXPECT_EQ(stats.relayed, 1u);
}

TEST_F(SchedulerRoomTest, OffHoursTheMessageIsHeldToldOnceAndReleasedWhenWorkStarts) {
  const Instant monday_0730 = kMonday0800Utc - 1h - 30min;  // 07:30 in Berlin
  EXPECT_FALSE(send("m1", "first", monday_0730));
  EXPECT_FALSE(send("m2", "second", monday_0730 + 1min));
  EXPECT_TRUE(out.stanzas.empty());  // nothing relayed
  EXPECT_EQ(scheduler.holds().size(), 2u);
  ASSERT_EQ(out.after_commit.size(), 1u);  // one notice for the episode, after the commit
  EXPECT_EQ(out.after_commit[0].attr("to"), kAlice);
  EXPECT_NE(out.after_commit[0].to_xml().find("off until Mon 09:00"), std::string::npos);

  // Still off at 08:30: nothing goes.
  out.clear();
  releaser.release_ready(kBob, kMonday0800Utc - 30min, out);
  EXPECT_TRUE(out.releases.empty());

  // 09:00 in Berlin: both go, in order, after a summary to bob.
  out.clear();
  releaser.release_ready(kBob, kMonday0800Utc, out);
  EXPECT_EQ(released_ids(), (std::vector<std::string>{"m1", "m2"}));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("to"), kBob);
  EXPECT_NE(out.stanzas[0].to_xml().find("while you were away"), std::string::npos);

  // Confirmed by the server: the holds are sent, and alice hears "delivered" once.
  std::vector<std::int64_t> ids;
  for (const auto& r : out.releases) ids.push_back(r.hold_id);
  out.clear();
  releaser.release_confirmed(ids, kMonday0800Utc + 1s, out);
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("to"), kAlice);
  EXPECT_NE(out.stanzas[0].to_xml().find("were delivered"), std::string::npos);
  EXPECT_TRUE(scheduler.holds_for(kBob).empty());
}

TEST_F(SchedulerRoomTest, WhileTheStreamIsDownNothingIsReleased) {
  EXPECT_FALSE(send("m1", "first", kMonday0800Utc - 1h));
  releaser.disconnected();
  out.clear();
  releaser.release_ready(kBob, kMonday0800Utc + 1h, out);
  EXPECT_TRUE(out.releases.empty());
  EXPECT_EQ(scheduler.holds_for(kBob).size(), 1u);
  releaser.connected();
  releaser.release_ready(kBob, kMonday0800Utc + 1h, out);
  EXPECT_EQ(released_ids(), (std::vector<std::string>{"m1"}));
}

}  // namespace
}  // namespace concierge::core::testing
