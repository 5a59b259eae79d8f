// SPDX-License-Identifier: MIT
#include <component/core/decision.hpp>

namespace concierge::core {

Admission admit(bool enrolled, bool talking, bool blocked) {
  if (!enrolled && !talking) return Admission::refuse_not_enrolled;
  if (blocked) return Admission::refuse_blocked;
  return Admission::pass;
}

HoldReason hold_reason_for(ical::Status status) {
  switch (status) {
    case ical::Status::away: return HoldReason::away;
    case ical::Status::busy: return HoldReason::busy;
    default: return HoldReason::off_hours;
  }
}

namespace {

Decision held(const TargetState& b, HoldReason reason) {
  return {b.never_held ? Action::drop : Action::hold, reason};
}

}  // namespace

Decision decide(const TargetState& b) {
  const bool urgent = b.urgent && !b.never_held;
  // A pause is B's explicit wish: it holds open conversations too; only urgent passes (the
  // caller asked B's always-through list for that).
  if (b.paused) return urgent ? Decision{Action::forward_urgent} : held(b, HoldReason::busy);
  // An open conversation goes unless B is known offline; then the rows below decide, urgent
  // first, as for anyone else.
  if (b.engaged && b.reach != Reachability::offline) return {};
  if (urgent) return {Action::forward_urgent};
  if (b.status != ical::Status::working) return held(b, hold_reason_for(b.status));
  if (b.reach == Reachability::offline) return held(b, HoldReason::offline);
  if (b.reach == Reachability::unknown) {
    // Unknown presence: forward (the server's offline storage may take it) — unless others
    // already wait in line.
    return b.others_waiting ? held(b, HoldReason::queue) : Decision{};
  }
  const bool idle = b.counted < b.max_concurrent && b.reach != Reachability::dnd;
  if (!idle || b.others_waiting) return held(b, HoldReason::queue);
  return {};
}

}  // namespace concierge::core
