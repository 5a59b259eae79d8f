// SPDX-License-Identifier: MIT
// Router: the bookkeeping a takeover or a restart must not lose (DESIGN §10) — pauses, hold
// episodes (which notice each sender got, released holds awaiting "delivered", reply notices)
// — written to the store where it changes (in the turn's group commit, with the holds) and read
// back by the constructor. Conversations (SessionBook), who wrote to whom (RecentWriters) and
// pool reservations and free times (PoolDesk) are written by their classes, read back here.
#include <charconv>

#include <component/core/router.hpp>

namespace concierge::core {
namespace {

using Kind = Remembered::Kind;

std::string id_list(const std::set<std::int64_t>& ids) {
  std::string text;
  for (std::int64_t id : ids) text += (text.empty() ? "" : ",") + std::to_string(id);
  return text;
}

std::set<std::int64_t> ids_in(const std::string& text) {
  std::set<std::int64_t> ids;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    std::int64_t id = 0;
    const auto [next, error] = std::from_chars(p, end, id);
    if (error != std::errc{}) break;
    ids.insert(id);
    p = next < end && *next == ',' ? next + 1 : end;
  }
  return ids;
}

}  // namespace

void Router::keep(Remembered::Kind kind, const std::string& a, const std::string& b) {
  Remembered row;
  row.kind = kind;
  row.a = a;
  row.b = b;
  bool found = false;
  switch (kind) {
    case Kind::pause:
      // Any pause still recorded (an ended one too, until forget_ended_pauses()).
      if (auto end = availability_.pause_end(a, Instant{}); (found = end.has_value())) {
        row.at = *end;
      }
      break;
    case Kind::hold_notice:
      if (auto it = notified_.find({a, b}); (found = it != notified_.end())) {
        row.number = static_cast<std::int64_t>(it->second);
      }
      break;
    case Kind::delivering:
      if (auto it = delivering_.find({a, b}); (found = it != delivering_.end())) {
        row.detail = id_list(it->second);
      }
      break;
    case Kind::reply_notice:
      if (auto it = reply_noticed_.find({a, b}); (found = it != reply_noticed_.end())) {
        row.at = it->second;
      }
      break;
    case Kind::session:  // the SessionBook's, RecentWriters' and PoolDesk's own
    case Kind::recent_write:
    case Kind::pool_reservation:
    case Kind::member_free:
      return;
  }
  if (found) {
    store_.remember(row);
  } else {
    store_.forget(kind, a, b);
  }
}

void Router::load_remembered() {
  for (auto& row : store_.remembered()) {
    switch (row.kind) {
      case Kind::pause:
        availability_.set_pause(row.a, row.at, Instant{});  // an ended one: gone at the next tick
        break;
      case Kind::hold_notice:
        notified_[{row.a, row.b}] = static_cast<HoldReason>(row.number);
        break;
      case Kind::delivering:
        if (auto ids = ids_in(row.detail); !ids.empty()) delivering_[{row.a, row.b}] = ids;
        break;
      case Kind::reply_notice:
        reply_noticed_[{row.a, row.b}] = row.at;
        break;
      case Kind::session:
        sessions_.restore(row);
        break;
      case Kind::recent_write:
        writers_.restore(row);
        break;
      case Kind::pool_reservation:
      case Kind::member_free:
        pools_.restore(row);
        break;
    }
  }
}

}  // namespace concierge::core
