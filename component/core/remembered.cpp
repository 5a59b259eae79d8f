// SPDX-License-Identifier: MIT
// Router: the bookkeeping a takeover or a restart must not lose (DESIGN §10) — pauses here —
// written to the store where it changes (in the turn's group commit, with the holds) and read
// back by the constructor. Hold episodes (NoticeBook), conversations (SessionBook), who wrote
// to whom (RecentWriters) and pool reservations and free times (PoolDesk) are written by their
// classes, read back here.
#include <component/core/router.hpp>

namespace concierge::core {

namespace {
using Kind = Remembered::Kind;
}  // namespace

void Router::keep_pause(const std::string& bare) {
  // Any pause still recorded (an ended one too, until forget_ended_pauses()).
  if (auto end = availability_.pause_end(bare, Instant{})) {
    Remembered row;
    row.kind = Kind::pause;
    row.a = bare;
    row.at = *end;
    store_.remember(row);
  } else {
    store_.forget(Kind::pause, bare, {});
  }
}

void Router::load_remembered() {
  for (auto& row : store_.remembered()) {
    switch (row.kind) {
      case Kind::pause:
        availability_.set_pause(row.a, row.at, Instant{});  // an ended one: gone at the next tick
        break;
      case Kind::hold_notice:
      case Kind::delivering:
      case Kind::reply_notice:
        scheduler_.notices().book().restore(row);
        break;
      case Kind::session:
        presences_.sessions().restore(row);
        break;
      case Kind::recent_write:
        writers_.restore(row);
        break;
      case Kind::pool_reservation:
      case Kind::member_free:
        pools_.desk().restore(row);
        break;
    }
  }
}

}  // namespace concierge::core
