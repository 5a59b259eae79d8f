// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace concierge::store {

// What the database answered to a lease request (DESIGN §10, active/standby).
struct LeaseAnswer {
  enum class Kind : std::uint8_t {
    granted,      // the caller holds the lease with `epoch` for the requested time
    taken,        // another instance holds it (or took it over: the caller's epoch is stale)
    unreachable,  // no answer: the database is down, cut off or refused; `detail` says why
  };
  Kind kind = Kind::unreachable;
  std::int64_t epoch = 0;  // granted: the epoch held
  std::string detail;      // taken: the holder's name; unreachable: the error, on one line
};

// The lease row of the store: one active instance at a time, each term with an epoch one above
// the last, which every store commit checks (PgStore::set_lease_epoch). Expiry is kept in the
// database's time, so that the instances' clocks never have to agree; callers measure their own
// side on their monotonic clock from when they sent a request.
//
// Called from one thread (LeaseKeeper's); blocking.
class LeaseBackend {
 public:
  virtual ~LeaseBackend() = default;
  // Takes the lease for `holder` for `term` if it is free — expired, released, or held by
  // `holder` itself (a holder that lost track of its term starts a new one) — with a new epoch.
  virtual LeaseAnswer acquire(const std::string& holder, std::chrono::milliseconds term) = 0;
  // Extends the lease of `epoch` to `term` from now (database time). `taken` when the epoch is
  // no longer the current one.
  virtual LeaseAnswer renew(const std::string& holder, std::int64_t epoch,
                            std::chrono::milliseconds term) = 0;
  // Ends the lease of `epoch` now, so that a standby need not wait for it to run out (a clean
  // stop). Best effort: an unreachable database lets it run out.
  virtual void release(const std::string& holder, std::int64_t epoch) = 0;
};

}  // namespace concierge::store
