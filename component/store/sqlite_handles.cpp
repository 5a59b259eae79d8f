// SPDX-License-Identifier: MIT
#include <component/store/sqlite_handles.hpp>

#include <filesystem>
#include <system_error>
#include <utility>

#include <sqlite3.h>

namespace concierge::store {
namespace {

// SQLITE_STATIC without its C-style cast: SQLite neither copies nor frees the bound text.
constexpr sqlite3_destructor_type kNoCopy = nullptr;

}  // namespace

void ConnectionCloser::operator()(sqlite3* db) const noexcept {
  sqlite3_close_v2(db);
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

bool Statement::prepare(sqlite3* db, std::string_view sql, std::string* error) {
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK || stmt_ == nullptr) {
    if (error != nullptr) *error = message_of(db) + " in: " + std::string(sql);
    return false;
  }
  return true;
}

Statement::Use::~Use() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Use::bind(int index, const Value& value) {
  // A failed bind (only SQLITE_RANGE or SQLITE_TOOBIG here) leaves the parameter NULL, which the
  // NOT NULL columns refuse at step(): the error surfaces there, with SQLite's message.
  if (const auto* number = std::get_if<std::int64_t>(&value)) {
    sqlite3_bind_int64(stmt_, index, *number);
  } else {
    const auto& text = std::get<std::string>(value);
    sqlite3_bind_text64(stmt_, index, text.data(), text.size(), kNoCopy, SQLITE_UTF8);
  }
}

Statement::Step Statement::Use::step() {
  switch (sqlite3_step(stmt_)) {
    case SQLITE_ROW:
      return Step::kRow;
    case SQLITE_DONE:
      return Step::kDone;
    default:
      return Step::kError;
  }
}

std::int64_t Statement::Use::column_int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::Use::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

Connection open_connection(const std::string& path, int flags, int* rc) {
  sqlite3* raw = nullptr;
  *rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection db(raw);
  if (db) sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

bool execute(sqlite3* db, const char* sql, std::string* error) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  if (error != nullptr) *error = message_of(db);
  return false;
}

std::string message_of(sqlite3* db) {
  if (db == nullptr) return "out of memory";
  return sqlite3_errmsg(db);
}

std::string obstacle_at(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  const std::string directory = parent.empty() ? std::string(".") : parent.string();
  if (!fs::exists(directory, ec)) {
    return "the directory " + directory + " does not exist (Concierge does not create it)";
  }
  if (!fs::is_directory(directory, ec)) return directory + " is not a directory";
  if (fs::is_directory(path, ec)) return "it is a directory, not a file";
  return {};
}

}  // namespace concierge::store
