// SPDX-License-Identifier: MIT
#pragma once
// PresenceBook: owns what is known of each tracked user's resources' presence; must not touch
// sessions, schedules or subscriptions (who may be tracked is the Router's call).

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <component/core/time.hpp>

namespace concierge::core {

// <show/> of an available resource; `online` is no <show/> or "chat".
enum class Show : std::uint8_t { online, away, xa, dnd };

// What one available resource said in its last presence.
struct ResourceState {
  std::string resource;
  Show show = Show::online;
  std::int8_t priority = 0;                 // RFC 6121: -128..127
  std::optional<Instant> idle_since;        // XEP-0319 (or legacy XEP-0256, converted)
  Instant updated{};
};

// A user's aggregate as the scheduler sees it (DESIGN §1).
enum class Reachability : std::uint8_t {
  unknown,    // Concierge has never seen this user's presence: not offline
  offline,    // known offline: no available resource with priority >= 0
  dnd,        // every available resource with priority >= 0 says dnd
  available,  // at least one resource with priority >= 0 that is not dnd
};

// Per-resource presence of the users Concierge tracks (bare JIDs, already normalised).
// Memory: one small entry per user plus one per available resource (DESIGN §9: <= 1 KiB).
class PresenceBook {
 public:
  // An available presence from `resource` (replaces what it said before).
  void available(const std::string& bare, ResourceState state);
  // An unavailable presence from `resource`; an empty resource means the whole account
  // (e.g. an unavailable from the bare JID, or a server telling us the user went away).
  void unavailable(const std::string& bare, const std::string& resource, Instant now);
  // Forget everything about a user (unenrolled): back to unknown.
  void forget(const std::string& bare);
  // The stream to the server was lost: what we knew may be stale, so everyone is unknown
  // again until probes answer (DESIGN §4: unknown is not offline).
  void clear() { users_.clear(); }

  Reachability reachability(const std::string& bare) const;
  // Available resources, highest priority first (ties: most recently updated first).
  std::vector<ResourceState> resources(const std::string& bare) const;
  std::size_t tracked_users() const { return users_.size(); }

 private:
  struct User {
    std::vector<ResourceState> resources;  // available ones only; usually 1–3
  };
  std::unordered_map<std::string, User> users_;
};

}  // namespace concierge::core
