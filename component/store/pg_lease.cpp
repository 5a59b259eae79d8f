// SPDX-License-Identifier: MIT
#include <component/store/pg_lease.hpp>

#include <utility>

#include <libpq-fe.h>

namespace concierge::store {
namespace {

// Times are the server's clock in milliseconds since the Unix epoch, from clock_timestamp()
// (now() would be the start of the transaction).
// Free: run out, released (expires_ms 0), never taken (epoch 0), or the caller's own.
constexpr const char* kAcquire =
    "WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms)"
    " UPDATE lease SET epoch = epoch + 1, holder = $1, expires_ms = t.now_ms + $2::bigint"
    " FROM t WHERE only_row AND (expires_ms <= t.now_ms OR holder = $1) RETURNING epoch";
constexpr const char* kRenew =
    "WITH t AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms)"
    " UPDATE lease SET expires_ms = t.now_ms + $3::bigint"
    " FROM t WHERE only_row AND epoch = $2::bigint AND holder = $1 RETURNING epoch";
constexpr const char* kRelease =
    "UPDATE lease SET expires_ms = 0 WHERE only_row AND epoch = $2::bigint AND holder = $1";
constexpr const char* kHolder = "SELECT holder FROM lease WHERE only_row";

}  // namespace

PgLease::PgLease(std::string url, std::string password)
    : url_(std::move(url)), password_(std::move(password)) {}

bool PgLease::ensure_connected(std::string* error) {
  if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return true;
  conn_ = pg::connect(url_, password_, error);
  if (!conn_) return false;
  // A request that waits for a row lock (a commit's fence check holds one for a moment) or a
  // slow server gives up instead of holding up the renewals.
  const std::string timeouts = "SET statement_timeout = '" +
                               std::to_string(kRequestTimeoutSeconds) + "s'; SET lock_timeout = '" +
                               std::to_string(kRequestTimeoutSeconds) + "s'";
  if (!pg::execute(conn_.get(), timeouts.c_str(), error)) {
    conn_.reset();
    return false;
  }
  return true;
}

LeaseAnswer PgLease::update(const char* sql, const std::vector<std::string>& params) {
  LeaseAnswer answer;
  if (!ensure_connected(&answer.detail)) return answer;
  const pg::Result result = pg::query(conn_.get(), sql, params, &answer.detail);
  if (!result) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) conn_.reset();  // a fresh one next time
    if (answer.detail.empty()) answer.detail = "no answer from PostgreSQL";
    return answer;
  }
  if (PQntuples(result.get()) == 1) {
    answer.kind = LeaseAnswer::Kind::granted;
    answer.epoch = std::stoll(PQgetvalue(result.get(), 0, 0));
    answer.detail.clear();
    return answer;
  }
  answer.kind = LeaseAnswer::Kind::taken;
  answer.detail.clear();
  const pg::Result holder = pg::query(conn_.get(), kHolder, {}, nullptr);
  if (holder && PQntuples(holder.get()) == 1) answer.detail = PQgetvalue(holder.get(), 0, 0);
  return answer;
}

LeaseAnswer PgLease::acquire(const std::string& holder, std::chrono::milliseconds term) {
  return update(kAcquire, {holder, std::to_string(term.count())});
}

LeaseAnswer PgLease::renew(const std::string& holder, std::int64_t epoch,
                           std::chrono::milliseconds term) {
  return update(kRenew, {holder, std::to_string(epoch), std::to_string(term.count())});
}

void PgLease::release(const std::string& holder, std::int64_t epoch) {
  std::string ignored;
  if (!ensure_connected(&ignored)) return;
  pg::query(conn_.get(), kRelease, {holder, std::to_string(epoch)}, &ignored);
}

}  // namespace concierge::store
