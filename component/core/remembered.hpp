// SPDX-License-Identifier: MIT
#pragma once
// The bookkeeping a takeover or a restart must not lose (DESIGN §10), read back and — for
// pauses — written. Owns nothing: each kind lives in its room (Availability's pauses,
// NoticeBook's hold episodes, SessionBook's conversations, RecentWriters, PoolDesk's
// reservations and free times); the other kinds are written by the rooms that own them.

#include <string>

#include <component/core/availability.hpp>
#include <component/core/notice_book.hpp>
#include <component/core/pool_desk.hpp>
#include <component/core/recent_writers.hpp>
#include <component/core/session_book.hpp>
#include <component/core/store_port.hpp>

namespace concierge::core {

// Writes `bare`'s pause as it is in `availability` (forgets it when gone).
void keep_pause(const Availability& availability, Store& store, const std::string& bare);

// Reads every remembered kind back from `store` into the room that owns it.
void load_remembered(Store& store, Availability& availability, NoticeBook& notices,
                     SessionBook& sessions, RecentWriters& writers, PoolDesk& pools);

}  // namespace concierge::core
