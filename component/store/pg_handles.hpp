// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

// libpq-fe.h stays inside the .cpp files of this folder.
struct pg_conn;
struct pg_result;

namespace concierge::store::pg {

// Owns a libpq connection (PQfinish closes it; an open transaction is rolled back by the server).
struct ConnectionCloser {
  void operator()(pg_conn* conn) const noexcept;
};
using Connection = std::unique_ptr<pg_conn, ConnectionCloser>;

// Owns one result (PQclear).
struct ResultClearer {
  void operator()(pg_result* result) const noexcept;
};
using Result = std::unique_ptr<pg_result, ResultClearer>;

// Connects with libpq: `url` is a connection URI or string ("postgresql://USER@HOST/DB?..."),
// expanded as dbname so that every libpq parameter works; `password`, when not empty, is passed
// as the password keyword (it overrides one in the url). On failure, a null connection and
// libpq's message in *error. The password never appears in the message.
Connection connect(const std::string& url, const std::string& password, std::string* error);

// Runs SQL without parameters (one or more statements); false with the server's message.
bool execute(pg_conn* conn, const char* sql, std::string* error);

// Runs SQL with text parameters $1.. (never spliced into the text). The result, or null with
// the server's message in *error and its SQLSTATE in *sqlstate (when not null).
Result query(pg_conn* conn, const char* sql, const std::vector<std::string>& params,
             std::string* error, std::string* sqlstate = nullptr);

// Prepares `sql` under `name` on the connection; false with the server's message.
bool prepare(pg_conn* conn, const char* name, const char* sql, std::string* error);

// Runs the statement prepared under `name`, like query().
Result run_prepared(pg_conn* conn, const char* name, const std::vector<std::string>& params,
                    std::string* error, std::string* sqlstate = nullptr);

// Runs the statement prepared under `name` in libpq's single-row mode: `row` gets each row as a
// result of its own (row 0) as it arrives, so that at most one row is buffered, however many
// the statement returns. False with the server's message in *error when the statement failed,
// also after some rows were handed out: the caller drops them. The connection is idle again
// on return either way.
bool each_row(pg_conn* conn, const char* name, const std::vector<std::string>& params,
              const std::function<void(const pg_result*)>& row, std::string* error);

// libpq's message for the connection, on one line.
std::string message_of(pg_conn* conn);

// The message and SQLSTATE of a failed result, the message on one line.
std::string message_of(const pg_result* result);
std::string sqlstate_of(const pg_result* result);

}  // namespace concierge::store::pg
