// SPDX-License-Identifier: MIT
#include <component/store/pg_store.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>
#include <utility>

#include <component/store/pg_schema.hpp>

#include <libpq-fe.h>

namespace concierge::store {

enum class PgStore::Sql : std::uint8_t {
  kSelectEnrolments,
  kSelectEnrolment,
  kUpsertEnrolment,
  kDeleteEnrolment,
  kSelectSubscriptions,
  kUpsertSubscription,
  kDeleteSubscription,
  kSelectProxySubscriptions,
  kInsertProxySubscription,
  kDeleteProxySubscription,
  kDeleteProxySubscriptionsTo,
  kSelectHolds,
  kUpsertHold,
  kDeleteHold,
  kSelectSettings,
  kUpsertSetting,
  kDeleteSetting,
  kDeleteSettingsOf,
  kCount,
};

namespace {

// Writes sent in one pipeline (one round trip); bounded so that neither side's socket buffer
// fills with results the other has not read.
constexpr std::size_t kPipeline = 256;

// Indexed by PgStore::Sql; the same statements as SqliteStore's, with $n parameters.
constexpr std::array<const char*, 18> kSql = {
    "SELECT jid, timezone, calendar_url, enrolled_at_ms FROM enrolments ORDER BY jid",
    "SELECT jid, timezone, calendar_url, enrolled_at_ms FROM enrolments WHERE jid = $1",
    "INSERT INTO enrolments (jid, timezone, calendar_url, enrolled_at_ms) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (jid) DO UPDATE SET timezone = excluded.timezone,"
    " calendar_url = excluded.calendar_url, enrolled_at_ms = excluded.enrolled_at_ms",
    "DELETE FROM enrolments WHERE jid = $1",
    "SELECT jid, asked, sub_to, sub_from FROM subscriptions ORDER BY jid",
    "INSERT INTO subscriptions (jid, asked, sub_to, sub_from) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (jid) DO UPDATE SET asked = excluded.asked, sub_to = excluded.sub_to,"
    " sub_from = excluded.sub_from",
    "DELETE FROM subscriptions WHERE jid = $1",
    "SELECT target, subscriber FROM proxy_subscriptions ORDER BY target, subscriber",
    "INSERT INTO proxy_subscriptions (target, subscriber) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    "DELETE FROM proxy_subscriptions WHERE target = $1 AND subscriber = $2",
    "DELETE FROM proxy_subscriptions WHERE target = $1",
    "SELECT id, sender, target, stanza, stanza_id, received_ms, reason, state, sent_at_ms"
    " FROM holds ORDER BY id",
    "INSERT INTO holds (id, sender, target, stanza, stanza_id, received_ms, reason, state,"
    " sent_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT (id) DO UPDATE SET sender = excluded.sender, target = excluded.target,"
    " stanza = excluded.stanza, stanza_id = excluded.stanza_id,"
    " received_ms = excluded.received_ms, reason = excluded.reason, state = excluded.state,"
    " sent_at_ms = excluded.sent_at_ms",
    "DELETE FROM holds WHERE id = $1",
    "SELECT jid, key, value FROM user_settings ORDER BY jid, key",
    "INSERT INTO user_settings (jid, key, value) VALUES ($1, $2, $3)"
    " ON CONFLICT (jid, key) DO UPDATE SET value = excluded.value",
    "DELETE FROM user_settings WHERE jid = $1 AND key = $2",
    "DELETE FROM user_settings WHERE jid = $1",
};

constexpr std::array<const char*, 18> kNames = {
    "c_enrolments",  "c_enrolment",       "c_put_enrolment", "c_del_enrolment",
    "c_subs",        "c_put_sub",         "c_del_sub",       "c_proxy_subs",
    "c_add_proxy",   "c_del_proxy",       "c_del_proxy_to",  "c_holds",
    "c_put_hold",    "c_del_hold",        "c_settings",      "c_put_setting",
    "c_del_setting", "c_del_settings_of",
};

// Failures that retrying cannot cure: the write is wrong, not the server or the network.
bool refused_for_good(std::string_view sqlstate) {
  return sqlstate.starts_with("22") || sqlstate.starts_with("23");
}

std::string ms(core::Instant instant) {
  return std::to_string(instant.time_since_epoch().count());
}

std::string flag(bool value) {
  return value ? "true" : "false";
}

std::int64_t int_at(const PGresult* result, int row, int column) {
  return std::strtoll(PQgetvalue(result, row, column), nullptr, 10);
}

std::string text_at(const PGresult* result, int row, int column) {
  return {PQgetvalue(result, row, column),
          static_cast<std::size_t>(PQgetlength(result, row, column))};
}

bool flag_at(const PGresult* result, int row, int column) {
  return PQgetvalue(result, row, column)[0] == 't';
}

core::Instant instant_at(const PGresult* result, int row, int column) {
  return core::Instant{core::Duration{int_at(result, row, column)}};
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
  return pg::execute(conn, "SET lock_timeout = '1s'", error);
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
  static_assert(kSql.size() == static_cast<std::size_t>(Sql::kCount));
  for (std::size_t i = 0; i < kSql.size(); ++i) {
    if (!pg::prepare(conn_.get(), kNames[i], kSql[i], error)) return false;
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
    if (PQsendQueryPrepared(conn, kNames[static_cast<std::size_t>(w.sql)],
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

bool PgStore::commit() {
  if (pending_.empty() && !in_transaction()) return true;
  if (!apply_pending()) return false;
  if (!in_transaction()) return true;  // every pending write was dropped
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
  pg::Result result = pg::run_prepared(conn_.get(), kNames[static_cast<std::size_t>(sql)],
                                       params, &last_error_);
  // A failed read aborts the open transaction: its writes are re-applied at the next commit.
  if (!result) rollback();
  return result;
}

std::vector<core::Enrolment> PgStore::enrolments() {
  std::vector<core::Enrolment> rows;
  const pg::Result r = read(Sql::kSelectEnrolments);
  for (int i = 0; r && i < PQntuples(r.get()); ++i) {
    rows.push_back({.jid = text_at(r.get(), i, 0),
                    .timezone = text_at(r.get(), i, 1),
                    .calendar_url = text_at(r.get(), i, 2),
                    .enrolled_at = instant_at(r.get(), i, 3)});
  }
  return rows;
}

std::optional<core::Enrolment> PgStore::enrolment(const std::string& jid) {
  const pg::Result r = read(Sql::kSelectEnrolment, {jid});
  if (!r || PQntuples(r.get()) == 0) return std::nullopt;
  return core::Enrolment{.jid = text_at(r.get(), 0, 0),
                         .timezone = text_at(r.get(), 0, 1),
                         .calendar_url = text_at(r.get(), 0, 2),
                         .enrolled_at = instant_at(r.get(), 0, 3)};
}

std::vector<core::SubscriptionState> PgStore::subscriptions() {
  std::vector<core::SubscriptionState> rows;
  const pg::Result r = read(Sql::kSelectSubscriptions);
  for (int i = 0; r && i < PQntuples(r.get()); ++i) {
    rows.push_back({.jid = text_at(r.get(), i, 0),
                    .asked = flag_at(r.get(), i, 1),
                    .to = flag_at(r.get(), i, 2),
                    .from = flag_at(r.get(), i, 3)});
  }
  return rows;
}

std::vector<core::ProxySubscription> PgStore::proxy_subscriptions() {
  std::vector<core::ProxySubscription> rows;
  const pg::Result r = read(Sql::kSelectProxySubscriptions);
  for (int i = 0; r && i < PQntuples(r.get()); ++i) {
    rows.push_back({.target = text_at(r.get(), i, 0), .subscriber = text_at(r.get(), i, 1)});
  }
  return rows;
}

std::vector<core::Hold> PgStore::holds() {
  std::vector<core::Hold> rows;
  const pg::Result r = read(Sql::kSelectHolds);
  for (int i = 0; r && i < PQntuples(r.get()); ++i) {
    rows.push_back({
        .id = int_at(r.get(), i, 0),
        .sender = text_at(r.get(), i, 1),
        .target = text_at(r.get(), i, 2),
        .stanza = text_at(r.get(), i, 3),
        .stanza_id = text_at(r.get(), i, 4),
        .received = instant_at(r.get(), i, 5),
        .reason = static_cast<core::HoldReason>(int_at(r.get(), i, 6)),
        .state = static_cast<core::HoldState>(int_at(r.get(), i, 7)),
        .sent_at = instant_at(r.get(), i, 8),
    });
  }
  return rows;
}

std::vector<core::UserSetting> PgStore::settings() {
  std::vector<core::UserSetting> rows;
  const pg::Result r = read(Sql::kSelectSettings);
  for (int i = 0; r && i < PQntuples(r.get()); ++i) {
    rows.push_back({.jid = text_at(r.get(), i, 0),
                    .key = text_at(r.get(), i, 1),
                    .value = text_at(r.get(), i, 2)});
  }
  return rows;
}

void PgStore::put_hold(const core::Hold& hold) {
  write(Sql::kUpsertHold,
        {std::to_string(hold.id), hold.sender, hold.target, hold.stanza, hold.stanza_id,
         ms(hold.received), std::to_string(static_cast<int>(hold.reason)),
         std::to_string(static_cast<int>(hold.state)), ms(hold.sent_at)});
}

void PgStore::remove_hold(std::int64_t id) {
  write(Sql::kDeleteHold, {std::to_string(id)});
}

void PgStore::put_setting(const core::UserSetting& setting) {
  write(Sql::kUpsertSetting, {setting.jid, setting.key, setting.value});
}

void PgStore::remove_setting(const std::string& jid, const std::string& key) {
  write(Sql::kDeleteSetting, {jid, key});
}

void PgStore::put_enrolment(const core::Enrolment& enrolment) {
  write(Sql::kUpsertEnrolment,
        {enrolment.jid, enrolment.timezone, enrolment.calendar_url, ms(enrolment.enrolled_at)});
}

void PgStore::remove_enrolment(const std::string& jid) {
  write(Sql::kDeleteEnrolment, {jid});
  write(Sql::kDeleteSettingsOf, {jid});
  write(Sql::kDeleteSubscription, {jid});
  write(Sql::kDeleteProxySubscriptionsTo, {jid});
}

void PgStore::put_subscription(const core::SubscriptionState& state) {
  write(Sql::kUpsertSubscription, {state.jid, flag(state.asked), flag(state.to), flag(state.from)});
}

void PgStore::remove_subscription(const std::string& jid) {
  write(Sql::kDeleteSubscription, {jid});
}

void PgStore::add_proxy_subscription(const core::ProxySubscription& s) {
  write(Sql::kInsertProxySubscription, {s.target, s.subscriber});
}

void PgStore::remove_proxy_subscription(const core::ProxySubscription& s) {
  write(Sql::kDeleteProxySubscription, {s.target, s.subscriber});
}

}  // namespace concierge::store
