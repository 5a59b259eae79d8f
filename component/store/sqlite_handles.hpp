// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

// sqlite3.h stays inside the .cpp files of this folder.
struct sqlite3;
struct sqlite3_stmt;

namespace concierge::store {

// Owns a connection. sqlite3_close_v2 rolls back a transaction still open and defers the close
// until every statement of the connection is finalized, so the order of destruction cannot crash.
struct ConnectionCloser {
  void operator()(sqlite3* db) const noexcept;
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

// A value bound to a statement parameter. Strings are bound without a copy (SQLITE_STATIC): the
// Value must stay alive until the statement is reset, which Statement::Use guarantees.
using Value = std::variant<std::int64_t, std::string>;

// A prepared statement, prepared once and reused for the life of its connection (which must
// outlive it). Not copyable; movable so it can live in containers.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Prepares one SQL statement; false with SQLite's message in *error when it does not compile.
  bool prepare(sqlite3* db, std::string_view sql, std::string* error);

  enum class Step { kRow, kDone, kError };

  // One execution: binds values to ?1.., steps, and on destruction resets the statement and
  // clears its bindings, so no bound pointer outlives the Use and the next Use starts clean.
  class Use {
   public:
    explicit Use(Statement& statement) : stmt_(statement.stmt_) {}
    ~Use();
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    void bind(int index, const Value& value);  // the Value must outlive this Use
    Step step();
    // Runs a statement that returns no rows to completion.
    bool run() { return step() == Step::kDone; }
    std::int64_t column_int(int column) const;
    std::string column_text(int column) const;

   private:
    sqlite3_stmt* stmt_;
  };

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Opens a connection with sqlite3_open_v2 flags and extended result codes on; *rc is SQLite's
// result. On failure the returned connection (if any) still carries SQLite's message.
Connection open_connection(const std::string& path, int flags, int* rc);

// Runs one or more SQL statements that return no rows; false with SQLite's message on failure.
bool execute(sqlite3* db, const char* sql, std::string* error);

// Why a database file cannot be created or opened at `path`, in words an admin acts on (a
// missing directory, a directory in its place); empty if no reason is visible before trying.
std::string obstacle_at(const std::string& path);

// SQLite's message for the last failure on db ("database is locked", "disk I/O error", ...).
std::string message_of(sqlite3* db);

}  // namespace concierge::store
