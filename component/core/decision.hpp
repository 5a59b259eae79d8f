// SPDX-License-Identifier: MIT
#pragma once
// DESIGN §2's decision table as pure functions of plain values: what happens to one message
// from A to B at one instant. Owns nothing and touches nothing — no stanzas, no store, no clock,
// no maps of users: the caller (the scheduler) gathers B's state into a TargetState and turns
// the Decision into holds, relays and notices. Whoever changes the table changes it here, and
// decision_test.cpp holds one row per row of DESIGN §2.

#include <cstdint>

#include <component/core/presence_book.hpp>
#include <component/core/store_port.hpp>
#include <ical/schedule.hpp>

namespace concierge::core {

// The table's first row, before anything of B's state is looked at.
enum class Admission : std::uint8_t {
  pass,                 // B is enrolled (the rows below decide), or A may answer B
  refuse_not_enrolled,  // item-not-found
  refuse_blocked,       // not-acceptable: B blocks A
};

// `enrolled`: B is enrolled. `talking`: B wrote to A through Concierge within
// session.idle_after, or a session between them is open (A may answer even a B who is not
// enrolled). `blocked`: B blocks A.
Admission admit(bool enrolled, bool talking, bool blocked);

// What is known of an enrolled B when a message from A arrives.
struct TargetState {
  bool paused = false;      // B paused themselves and the pause has not ended
  bool engaged = false;     // an open session between A and B (B wrote to A)
  // The message asks to go through at once, B allows urgent from A (during a pause: only
  // B's always-through list), and the hourly limit is not reached. The caller asks the last
  // only when the decision says forward_urgent (see decide()).
  bool urgent = false;
  ical::Status status = ical::Status::working;  // B's working-time status (a pause reads busy)
  Reachability reach = Reachability::unknown;
  int counted = 0;          // B's counted sessions with others than A
  int max_concurrent = 1;   // session.max_concurrent
  bool others_waiting = false;  // B's queue holds messages not on their way out
  // Bodiless messages (chat states, receipts), `no-store` and `headline` are never held:
  // where the table says hold, they are dropped.
  bool never_held = false;
};

enum class Action : std::uint8_t {
  forward,         // relay now
  forward_urgent,  // relay now, marked urgent; the sender hears "delivered as urgent"
  hold,            // keep for B, for `reason`
  drop,            // a message that is never held, where another would be held
};

struct Decision {
  Action action = Action::forward;
  HoldReason reason = HoldReason::queue;  // for hold (and drop: the hold it would have been)
  friend bool operator==(const Decision&, const Decision&) = default;
};

// The rows after the first, first that applies. Precedence: a pause holds everything but
// urgent; an open conversation with a B who is not known offline goes; then urgent; then B's
// schedule; then B offline; then B's queue (a counted conversation, dnd, or others waiting);
// unknown presence goes unless others wait.
Decision decide(const TargetState& b);

// Why a message is held while B's status is not working.
HoldReason hold_reason_for(ical::Status status);

}  // namespace concierge::core
