// SPDX-License-Identifier: MIT
#pragma once
// SchedulerRooms: what the scheduler's classes (scheduler.hpp, releaser.hpp, notice_writer.hpp)
// may see of the rest of the core — references to rooms the Router owns. Read-only except the
// SessionBook (a release or an urgent message is "delivered" to a conversation, a queue slot
// is reserved), the senders' rate buckets and the counters. Owns nothing.

#include <component/core/availability.hpp>
#include <component/core/directory.hpp>
#include <component/core/presence_book.hpp>
#include <component/core/proxy_addressing.hpp>
#include <component/core/rate_limiter.hpp>
#include <component/core/router_types.hpp>
#include <component/core/session_book.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/subscriptions.hpp>

namespace concierge::core {

struct SchedulerRooms {
  const Settings& settings;
  Store& store;                        // the holds and notices are written through to it
  const Directory& directory;          // enrolments, privacy, always-through, zones
  const Availability& availability;    // schedules and pauses
  const PresenceBook& presence;        // reachability
  SessionBook& sessions;               // conversations
  const ProxyAddressing& proxy;        // how relayed messages and notices are addressed
  const Subscriptions& subscriptions;  // whose schedule changes matter for next_wake()
  RateLimiter& limiter;                // diverted messages meet the limits only where held
  RouterStats& stats;
};

// How a user is named in notices (today their bare JID).
inline const std::string& name_of(const std::string& bare) { return bare; }

}  // namespace concierge::core
