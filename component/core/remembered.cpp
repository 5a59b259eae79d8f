// SPDX-License-Identifier: MIT
// The bookkeeping a takeover or a restart must not lose (DESIGN §10) — pauses here — written
// to the store where it changes (in the turn's group commit, with the holds) and read back by
// the Router's constructor. Hold episodes (NoticeBook), conversations (SessionBook), who wrote
// to whom (RecentWriters) and pool reservations and free times (PoolDesk) are written by their
// classes, read back here.
#include <component/core/remembered.hpp>

namespace concierge::core {

namespace {
using Kind = Remembered::Kind;
}  // namespace

void keep_pause(const Availability& availability, Store& store, const std::string& bare) {
  // Any pause still recorded (an ended one too, until forget_ended_pauses()).
  if (auto end = availability.pause_end(bare, Instant{})) {
    Remembered row;
    row.kind = Kind::pause;
    row.a = bare;
    row.at = *end;
    store.remember(row);
  } else {
    store.forget(Kind::pause, bare, {});
  }
}

void load_remembered(Store& store, Availability& availability, NoticeBook& notices,
                     SessionBook& sessions, RecentWriters& writers, PoolDesk& pools) {
  for (auto& row : store.remembered()) {
    switch (row.kind) {
      case Kind::pause:
        availability.set_pause(row.a, row.at, Instant{});  // an ended one: gone at the next tick
        break;
      case Kind::hold_notice:
      case Kind::delivering:
      case Kind::reply_notice:
        notices.restore(row);
        break;
      case Kind::session:
        sessions.restore(row);
        break;
      case Kind::recent_write:
        writers.restore(row);
        break;
      case Kind::pool_reservation:
      case Kind::member_free:
        pools.restore(row);
        break;
    }
  }
}

}  // namespace concierge::core
