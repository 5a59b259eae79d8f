// SPDX-License-Identifier: MIT
#include <component/store/pg_handles.hpp>

#include <array>

#include <libpq-fe.h>

namespace concierge::store::pg {
namespace {

// libpq messages end with a newline and may span lines ("DETAIL: ..."): one line for the log.
std::string one_line(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

// The server's notices ("relation ... already exists, skipping") are not for the admin's log.
void ignore_notice(void* /*arg*/, const char* /*message*/) {}

bool ok(const PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

void ConnectionCloser::operator()(pg_conn* conn) const noexcept {
  PQfinish(conn);
}

void ResultClearer::operator()(pg_result* result) const noexcept {
  PQclear(result);
}

Connection connect(const std::string& url, const std::string& password, std::string* error) {
  // Later keywords override earlier ones, and the expanded dbname overrides those before it:
  // the defaults come first, the url next, the password file last. The defaults bound how long
  // the loop can wait on a server that vanished without a word (no RST): a connect, and an
  // unanswered request (tcp_user_timeout), take at most about 10 s before they fail and are
  // retried at the next commit. TCP keepalives (probes after 5 s of silence, 3 × 2 s) end a
  // wait for an answer whose request was already acknowledged: a server cut off in between.
  std::array<const char*, 9> keywords = {
      "connect_timeout",     "tcp_user_timeout", "keepalives_idle", "keepalives_interval",
      "keepalives_count",    "application_name", "dbname",          nullptr,
      nullptr};
  std::array<const char*, 9> values = {"10", "10000", "5", "2", "3", "concierge", url.c_str(),
                                       nullptr, nullptr};
  if (!password.empty()) {
    keywords[7] = "password";
    values[7] = password.c_str();
  }
  Connection conn(PQconnectdbParams(keywords.data(), values.data(), 1));
  if (!conn) {
    *error = "out of memory";
    return nullptr;
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    *error = message_of(conn.get());
    return nullptr;
  }
  PQsetNoticeProcessor(conn.get(), &ignore_notice, nullptr);
  return conn;
}

bool execute(pg_conn* conn, const char* sql, std::string* error) {
  const Result result(PQexec(conn, sql));
  if (result && ok(result.get())) return true;
  if (error != nullptr) *error = result ? message_of(result.get()) : message_of(conn);
  return false;
}

Result query(pg_conn* conn, const char* sql, const std::vector<std::string>& params,
             std::string* error, std::string* sqlstate) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  Result result(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0));
  if (result && ok(result.get())) return result;
  if (error != nullptr) *error = result ? message_of(result.get()) : message_of(conn);
  if (sqlstate != nullptr) *sqlstate = result ? sqlstate_of(result.get()) : "";
  return nullptr;
}

bool prepare(pg_conn* conn, const char* name, const char* sql, std::string* error) {
  const Result result(PQprepare(conn, name, sql, 0, nullptr));
  if (result && ok(result.get())) return true;
  *error = result ? message_of(result.get()) : message_of(conn);
  return false;
}

Result run_prepared(pg_conn* conn, const char* name, const std::vector<std::string>& params,
                    std::string* error, std::string* sqlstate) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  Result result(PQexecPrepared(conn, name, static_cast<int>(values.size()), values.data(), nullptr,
                               nullptr, 0));
  if (result && ok(result.get())) return result;
  if (error != nullptr) *error = result ? message_of(result.get()) : message_of(conn);
  if (sqlstate != nullptr) *sqlstate = result ? sqlstate_of(result.get()) : "";
  return nullptr;
}

bool each_row(pg_conn* conn, const char* name, const std::vector<std::string>& params,
              const std::function<void(const pg_result*)>& row, std::string* error) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  if (PQsendQueryPrepared(conn, name, static_cast<int>(values.size()), values.data(), nullptr,
                          nullptr, 0) != 1) {
    *error = message_of(conn);
    return false;
  }
  bool succeeded = PQsetSingleRowMode(conn) == 1;
  if (!succeeded) *error = message_of(conn);
  // Every result up to the null that ends the query is read, so the connection is idle after.
  while (Result result{PQgetResult(conn)}) {
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_SINGLE_TUPLE) {
      if (succeeded) row(result.get());
    } else if (status != PGRES_TUPLES_OK && succeeded) {
      succeeded = false;
      *error = message_of(result.get());
    }
  }
  return succeeded;
}

std::string message_of(pg_conn* conn) {
  return one_line(PQerrorMessage(conn));
}

std::string message_of(const pg_result* result) {
  return one_line(PQresultErrorMessage(result));
}

std::string sqlstate_of(const pg_result* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  return state == nullptr ? "" : state;
}

}  // namespace concierge::store::pg
