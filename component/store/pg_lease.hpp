// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include <component/store/lease_backend.hpp>
#include <component/store/pg_handles.hpp>

namespace concierge::store {

// The lease on PostgreSQL: the `lease` table of pg_schema.cpp (migration 4), on a connection of
// its own (the store's connection may be busy with the loop's group commit; renewals must not
// wait behind it, nor it behind them). Expiry is `clock_timestamp()` of the server plus the term,
// in milliseconds. A lost connection is re-established at the next request; a request waits at
// most about `kRequestTimeout` for an answer (statement and lock timeouts on the server, and
// libpq's connect and TCP user timeouts for a server that vanished).
//
// Not copyable; used from one thread at a time.
class PgLease final : public LeaseBackend {
 public:
  // Connects lazily, at the first request: a standby may start while PostgreSQL is down.
  PgLease(std::string url, std::string password);
  PgLease(const PgLease&) = delete;
  PgLease& operator=(const PgLease&) = delete;

  LeaseAnswer acquire(const std::string& holder, std::chrono::milliseconds term) override;
  LeaseAnswer renew(const std::string& holder, std::int64_t epoch,
                    std::chrono::milliseconds term) override;
  void release(const std::string& holder, std::int64_t epoch) override;

  static constexpr int kRequestTimeoutSeconds = 3;

 private:
  bool ensure_connected(std::string* error);
  // Runs an UPDATE … RETURNING epoch: granted with the epoch, or taken when no row matched.
  LeaseAnswer update(const char* sql, const std::vector<std::string>& params);

  std::string url_;
  std::string password_;
  pg::Connection conn_;
};

}  // namespace concierge::store
