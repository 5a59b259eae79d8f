// SPDX-License-Identifier: MIT
// DESIGN §2's decision table as a pure function: one row per row of the table, and the rows'
// precedence, with plain values — no stanzas, no router, no clock.
#include <component/core/decision.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace concierge::core {
namespace {

using ical::Status;

// B free: working, available, no conversation, nobody waiting.
TargetState free_b() {
  TargetState b;
  b.status = Status::working;
  b.reach = Reachability::available;
  return b;
}

const Decision kForward{Action::forward};
const Decision kUrgent{Action::forward_urgent};
Decision hold(HoldReason r) { return {Action::hold, r}; }

struct Row {
  std::string name;  // the row of DESIGN §2 (and what it wins against)
  TargetState b;
  Decision expected;
};

std::vector<Row> rows() {
  std::vector<Row> r;
  auto with = [](auto change) {
    TargetState b = free_b();
    change(b);
    return b;
  };
  // Row 2: B paused — holds everything, an open conversation and B's whole schedule included.
  r.push_back({"paused_holds", with([](TargetState& b) { b.paused = true; }), hold(HoldReason::busy)});
  r.push_back({"paused_beats_open_conversation",
               with([](TargetState& b) { b.paused = b.engaged = true; }), hold(HoldReason::busy)});
  r.push_back({"paused_beats_off_hours", with([](TargetState& b) {
                 b.paused = true;
                 b.status = Status::off_hours;
               }),
               hold(HoldReason::busy)});
  r.push_back({"paused_lets_urgent_from_always_through",
               with([](TargetState& b) { b.paused = b.urgent = true; }), kUrgent});
  // Row 3: an open conversation with A, B not known offline — whatever the schedule, queue, dnd.
  r.push_back({"open_conversation_forwards", with([](TargetState& b) { b.engaged = true; }), kForward});
  r.push_back({"open_conversation_beats_off_hours", with([](TargetState& b) {
                 b.engaged = true;
                 b.status = Status::off_hours;
               }),
               kForward});
  r.push_back({"open_conversation_beats_queue_and_dnd", with([](TargetState& b) {
                 b.engaged = b.others_waiting = true;
                 b.reach = Reachability::dnd;
                 b.counted = 3;
               }),
               kForward});
  r.push_back({"open_conversation_with_unknown_presence_forwards", with([](TargetState& b) {
                 b.engaged = true;
                 b.reach = Reachability::unknown;
               }),
               kForward});
  r.push_back({"open_conversation_but_offline_falls_to_offline_row", with([](TargetState& b) {
                 b.engaged = true;
                 b.reach = Reachability::offline;
               }),
               hold(HoldReason::offline)});
  r.push_back({"open_conversation_but_offline_still_lets_urgent_through", with([](TargetState& b) {
                 b.engaged = b.urgent = true;
                 b.reach = Reachability::offline;
               }),
               kUrgent});
  // Row 4: urgent (allowed, within the hourly limit) — beats the schedule and the queue.
  r.push_back({"urgent_forwards_when_free", with([](TargetState& b) { b.urgent = true; }), kUrgent});
  r.push_back({"urgent_beats_off_hours", with([](TargetState& b) {
                 b.urgent = true;
                 b.status = Status::off_hours;
               }),
               kUrgent});
  r.push_back({"urgent_beats_offline", with([](TargetState& b) {
                 b.urgent = true;
                 b.reach = Reachability::offline;
               }),
               kUrgent});
  r.push_back({"urgent_beats_queue", with([](TargetState& b) {
                 b.urgent = b.others_waiting = true;
                 b.counted = 1;
               }),
               kUrgent});
  // Row 5: off_hours / away / busy — before presence.
  r.push_back({"off_hours_holds", with([](TargetState& b) { b.status = Status::off_hours; }),
               hold(HoldReason::off_hours)});
  r.push_back({"away_holds", with([](TargetState& b) { b.status = Status::away; }), hold(HoldReason::away)});
  r.push_back({"busy_holds", with([](TargetState& b) { b.status = Status::busy; }), hold(HoldReason::busy)});
  r.push_back({"off_hours_beats_offline", with([](TargetState& b) {
                 b.status = Status::off_hours;
                 b.reach = Reachability::offline;
               }),
               hold(HoldReason::off_hours)});
  r.push_back({"off_hours_beats_unknown_presence", with([](TargetState& b) {
                 b.status = Status::away;
                 b.reach = Reachability::unknown;
               }),
               hold(HoldReason::away)});
  // Row 6: working, B known offline — before the queue.
  r.push_back({"offline_holds", with([](TargetState& b) { b.reach = Reachability::offline; }),
               hold(HoldReason::offline)});
  r.push_back({"offline_beats_queue", with([](TargetState& b) {
                 b.reach = Reachability::offline;
                 b.others_waiting = true;
                 b.counted = 1;
               }),
               hold(HoldReason::offline)});
  // Row 7: working, but another counted session, dnd, or a queue that is not empty.
  r.push_back({"another_conversation_queues", with([](TargetState& b) { b.counted = 1; }),
               hold(HoldReason::queue)});
  r.push_back({"dnd_queues", with([](TargetState& b) { b.reach = Reachability::dnd; }),
               hold(HoldReason::queue)});
  r.push_back({"others_waiting_queue", with([](TargetState& b) { b.others_waiting = true; }),
               hold(HoldReason::queue)});
  r.push_back({"a_free_slot_of_several_forwards", with([](TargetState& b) {
                 b.counted = 1;
                 b.max_concurrent = 2;
               }),
               kForward});
  r.push_back({"unknown_presence_with_others_waiting_queues", with([](TargetState& b) {
                 b.reach = Reachability::unknown;
                 b.others_waiting = true;
               }),
               hold(HoldReason::queue)});
  // Row 8: working, session-idle, available — or presence unknown: forward now.
  r.push_back({"free_forwards", free_b(), kForward});
  r.push_back({"unknown_presence_forwards", with([](TargetState& b) {
                 b.reach = Reachability::unknown;
                 b.counted = 5;  // unknown presence does not wait for conversations
               }),
               kForward});
  // Never held (chat states, receipts, no-store, headline): dropped where a body is held,
  // relayed where one would go, and never urgent.
  r.push_back({"never_held_is_dropped_where_held", with([](TargetState& b) {
                 b.never_held = true;
                 b.status = Status::off_hours;
               }),
               {Action::drop, HoldReason::off_hours}});
  r.push_back({"never_held_goes_where_a_message_would", with([](TargetState& b) { b.never_held = true; }),
               kForward});
  r.push_back({"never_held_is_never_urgent", with([](TargetState& b) {
                 b.never_held = b.urgent = true;
                 b.reach = Reachability::offline;
               }),
               {Action::drop, HoldReason::offline}});
  return r;
}

class DecisionTable : public ::testing::TestWithParam<Row> {};

TEST_P(DecisionTable, FirstRowThatAppliesDecides) {
  const Decision d = decide(GetParam().b);
  EXPECT_EQ(static_cast<int>(d.action), static_cast<int>(GetParam().expected.action));
  if (d.action == Action::hold || d.action == Action::drop) {
    EXPECT_EQ(static_cast<int>(d.reason), static_cast<int>(GetParam().expected.reason));
  }
}

INSTANTIATE_TEST_SUITE_P(Design2, DecisionTable, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& row) { return row.param.name; });

// Row 1: refused when B is not enrolled (unless B wrote to A lately), or B blocks A; before
// any of B's state is looked at.
TEST(Admission, NotEnrolledIsRefusedUnlessBIsTalkingToA) {  // B wrote lately, or a session is open
  EXPECT_EQ(admit(false, false, false), Admission::refuse_not_enrolled);
  EXPECT_EQ(admit(false, true, false), Admission::pass);
  EXPECT_EQ(admit(true, false, false), Admission::pass);
}

TEST(Admission, BlockedIsRefusedEvenInAConversation) {
  EXPECT_EQ(admit(true, false, true), Admission::refuse_blocked);
  EXPECT_EQ(admit(false, true, true), Admission::refuse_blocked);
  EXPECT_EQ(admit(true, true, false), Admission::pass);
}

TEST(Admission, NotEnrolledWinsOverBlocked) {
  EXPECT_EQ(admit(false, false, true), Admission::refuse_not_enrolled);
}

TEST(HoldReasonFor, EachStatusThatHoldsHasItsReason) {
  EXPECT_EQ(hold_reason_for(Status::off_hours), HoldReason::off_hours);
  EXPECT_EQ(hold_reason_for(Status::away), HoldReason::away);
  EXPECT_EQ(hold_reason_for(Status::busy), HoldReason::busy);
}

}  // namespace
}  // namespace concierge::core
