// SPDX-License-Identifier: MIT
#include <component/store/pg_store.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>
#include <utility>

#include <component/store/pg_schema.hpp>
#include <component/store/pg_statements.hpp>

#include <libpq-fe.h>

namespace concierge::store {
namespace {

// Writes sent in one pipeline (one round trip); bounded so that neither side's socket buffer
// fills with results the other has not read.
constexpr std::size_t kPipeline = 256;

// Failures that retrying cannot cure: the write is wrong, not the server or the network.
bool refused_for_good(std::string_view sqlstate) {
  return sqlstate.starts_with("22") || sqlstate.starts_with("23");
}

// The session's settings: durable commits (raised from off/local; stronger levels are kept),
// and a bounded wait for row locks held by another session (an admin's psql), like
// SqliteStore's busy_timeout: the write fails and is retried at the next commit().
bool set_up_session(pg_conn* conn, std::string* error) {
  const pg::Result level = pg::query(conn, "SHOW synchronous_commit", {}, error);
  if (!level) return false;
  const std::string value = PQgetvalue(level.get(), 0, 0);
  if ((value == "off" || value == "local") &&
      !pg::execute(conn, "SET synchronous_commit = on", error)) {
    return false;
  }
  // A transaction left open by a stopped or cut-off process (SIGSTOP between the fence check
  // and COMMIT) would keep its row locks, the lease row's included, and no standby could take
  // over: PostgreSQL ends such a session. A live instance never idles that long inside one.
  return pg::execute(conn, "SET lock_timeout = '1s'", error) &&
         pg::execute(conn, "SET idle_in_transaction_session_timeout = '5s'", error);
}

}  // namespace

std::variant<std::unique_ptr<PgStore>, std::string> PgStore::open(const std::string& url,
                                                                  const std::string& password) {
  const std::string prefix = "cannot open the PostgreSQL store: ";
  if (url.empty()) return prefix + "the url is empty";
  std::string error;
  pg::Connection conn = pg::connect(url, password, &error);
  if (!conn) return prefix + error;
  if (!pg_schema::migrate(conn.get(), pg_schema::migrations(), &error)) return prefix + error;
  if (!set_up_session(conn.get(), &error)) return prefix + error;
  std::unique_ptr<PgStore> store(new PgStore(std::move(conn)));
  if (!store->prepare_all(&error)) return prefix + error;
  return store;
}

std::string PgStore::url_problem(const std::string& url) {
  char* message = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &message);
  std::string problem;
  if (options == nullptr) {
    problem = message == nullptr ? "out of memory" : message;
    while (!problem.empty() && problem.back() == '\n') problem.pop_back();
  }
  PQconninfoFree(options);
  PQfreemem(message);
  return problem;
}

bool PgStore::prepare_all(std::string* error) {
  static_assert(pg_sql::kSql.size() == static_cast<std::size_t>(Sql::kCount));
  for (std::size_t i = 0; i < pg_sql::kSql.size(); ++i) {
    if (!pg::prepare(conn_.get(), pg_sql::kNames[i], pg_sql::kSql[i], error)) return false;
  }
  return true;
}

bool PgStore::reconnect() {
  PQreset(conn_.get());
  applied_ = 0;
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    last_error_ = pg::message_of(conn_.get());
    return false;
  }
  return set_up_session(conn_.get(), &last_error_) && prepare_all(&last_error_);
}

bool PgStore::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

void PgStore::rollback() {
  if (in_transaction()) pg::execute(conn_.get(), "ROLLBACK", nullptr);
  applied_ = 0;
}

bool PgStore::apply_pending() {
  for (;;) {
    if (PQstatus(conn_.get()) != CONNECTION_OK && !reconnect()) return false;
    if (!in_transaction()) {
      applied_ = 0;
      if (pending_.empty()) return true;
      if (!pg::execute(conn_.get(), "BEGIN", &last_error_)) return false;
    }
    if (applied_ == pending_.size()) return true;
    const std::size_t end = std::min(pending_.size(), applied_ + kPipeline);
    std::string sqlstate;
    applied_ += run_pipelined(applied_, end, &sqlstate);
    if (applied_ == end) continue;
    // The transaction is aborted: start over without the write if it can never succeed.
    const std::size_t failed = applied_;
    rollback();
    if (!refused_for_good(sqlstate)) return false;
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(failed));
    ++dropped_writes_;
  }
}

std::size_t PgStore::run_pipelined(std::size_t begin, std::size_t end, std::string* sqlstate) {
  pg_conn* conn = conn_.get();
  if (PQenterPipelineMode(conn) != 1) {
    last_error_ = pg::message_of(conn);
    return 0;
  }
  std::size_t sent = begin;
  for (; sent < end; ++sent) {
    const Write& w = pending_[sent];
    std::vector<const char*> values;
    values.reserve(w.params.size());
    for (const std::string& p : w.params) values.push_back(p.c_str());
    if (PQsendQueryPrepared(conn, pg_sql::kNames[static_cast<std::size_t>(w.sql)],
                            static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                            0) != 1) {
      break;
    }
  }
  const bool synced = PQpipelineSync(conn) == 1;
  std::size_t done = 0;
  bool failed = false;
  for (std::size_t i = begin; i < sent; ++i) {
    const pg::Result result(PQgetResult(conn));
    if (!result) break;
    if (!failed && PQresultStatus(result.get()) == PGRES_COMMAND_OK) {
      ++done;
    } else if (!failed) {  // the rest are PGRES_PIPELINE_ABORTED
      failed = true;
      last_error_ = pg::message_of(result.get());
      *sqlstate = pg::sqlstate_of(result.get());
    }
    const pg::Result end_of_query(PQgetResult(conn));  // null after each query's result
  }
  // Up to the sync point (bounded: a dead connection answers null).
  for (int spare = 0; synced && spare < 4; ++spare) {
    const pg::Result result(PQgetResult(conn));
    if (result && PQresultStatus(result.get()) == PGRES_PIPELINE_SYNC) break;
  }
  if (PQexitPipelineMode(conn) != 1) {
    // Results are left unread: the connection cannot be trusted; start it afresh.
    last_error_ = pg::message_of(conn);
    reconnect();
    return 0;
  }
  if (!failed && done < end - begin) last_error_ = pg::message_of(conn);
  return done;
}

void PgStore::write(Sql sql, std::vector<std::string> params) {
  // Sent at the next read or commit(), with the others, in pipelines (one round trip each).
  pending_.push_back(Write{sql, std::move(params)});
}

void PgStore::set_lease_epoch(std::int64_t epoch) {
  if (epoch == lease_epoch_) return;
  rollback();
  pending_.clear();
  lease_epoch_ = epoch;
  fenced_ = false;
}

bool PgStore::lease_current() {
  const std::vector<std::string> params = {std::to_string(lease_epoch_)};
  const pg::Result result = pg::query(
      conn_.get(), "SELECT 1 FROM lease WHERE only_row AND epoch = $1::bigint FOR SHARE", params,
      &last_error_);
  if (!result) return false;
  if (PQntuples(result.get()) == 1) return true;
  fenced_ = true;
  last_error_ = "fenced: another instance took over the store (lease epoch " +
                std::to_string(lease_epoch_) + " is no longer current)";
  return false;
}

bool PgStore::commit() {
  if (fenced_) {
    pending_.clear();  // a stale holder's writes never reach the store
    return false;
  }
  if (pending_.empty() && !in_transaction()) return true;
  if (!apply_pending()) return false;
  if (!in_transaction()) return true;  // every pending write was dropped
  if (lease_epoch_ != 0 && !lease_current()) {
    rollback();
    if (fenced_) pending_.clear();
    return false;
  }
  const pg::Result result(PQexec(conn_.get(), "COMMIT"));
  // COMMIT of an aborted transaction "succeeds" as ROLLBACK: that is a failure here.
  if (result && PQresultStatus(result.get()) == PGRES_COMMAND_OK &&
      std::string_view(PQcmdStatus(result.get())) == "COMMIT") {
    pending_.clear();
    applied_ = 0;
    return true;
  }
  last_error_ = result ? pg::message_of(result.get()) : pg::message_of(conn_.get());
  if (last_error_.empty()) last_error_ = "the server rolled the transaction back";
  // Re-apply at once, so that reads keep seeing the writes; the next commit() commits them.
  const std::string commit_error = last_error_;
  rollback();
  apply_pending();
  last_error_ = commit_error;
  return false;
}

bool PgStore::backup_to(const std::string& path, std::string* error) {
  (void)path;
  if (error != nullptr) *error = "not supported on PostgreSQL: use pg_dump";
  return false;
}

pg::Result PgStore::read(Sql sql, const std::vector<std::string>& params) {
  apply_pending();  // a read sees every write made before it
  pg::Result result = pg::run_prepared(conn_.get(), pg_sql::kNames[static_cast<std::size_t>(sql)],
                                       params, &last_error_);
  // A failed read aborts the open transaction: its writes are re-applied at the next commit.
  if (!result) rollback();
  return result;
}

bool PgStore::read_each(Sql sql, const std::function<void(const pg_result*)>& row) {
  apply_pending();
  if (pg::each_row(conn_.get(), pg_sql::kNames[static_cast<std::size_t>(sql)], {}, row,
                   &last_error_)) {
    return true;
  }
  rollback();
  return false;
}

}  // namespace concierge::store
