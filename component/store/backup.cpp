// SPDX-License-Identifier: MIT
// SqliteStore::backup_to: SQLite's online backup, for the admin "backup" command.
#include <filesystem>
#include <system_error>

#include <component/store/sqlite_store.hpp>

#include <sqlite3.h>

namespace concierge::store {

namespace fs = std::filesystem;

bool SqliteStore::backup_to(const std::string& path, std::string* error) {
  const auto fail = [&](const std::string& why) {
    if (error != nullptr) *error = "cannot back up the store to " + path + ": " + why;
    return false;
  };
  std::error_code ec;
  if (path.empty()) return fail("the path is empty");
  if (fs::equivalent(path, path_, ec)) return fail("that is the store itself");
  if (const std::string obstacle = obstacle_at(path); !obstacle.empty()) return fail(obstacle);

  // A connection of its own sees the last committed state (a WAL snapshot), never this
  // store's open transaction, and it does not block this store's writes.
  int rc = SQLITE_OK;
  const Connection source = open_connection(path_, SQLITE_OPEN_READONLY, &rc);
  if (rc != SQLITE_OK) return fail("cannot read the store: " + message_of(source.get()));
  const Connection target = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &rc);
  if (rc != SQLITE_OK) return fail(message_of(target.get()));
  if (sqlite3_db_readonly(target.get(), "main") == 1) return fail("the file is not writable");
  sqlite3_busy_timeout(source.get(), 1000);
  sqlite3_busy_timeout(target.get(), 1000);
  std::string why;
  if (!execute(target.get(), "PRAGMA synchronous = FULL", &why)) return fail(why);

  sqlite3_backup* backup = sqlite3_backup_init(target.get(), "main", source.get(), "main");
  if (backup == nullptr) return fail(message_of(target.get()));
  const int step = sqlite3_backup_step(backup, -1);  // every page, in one pass
  const int finish = sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) return fail(sqlite3_errstr(step));
  if (finish != SQLITE_OK) return fail(message_of(target.get()));
  return true;
}

}  // namespace concierge::store
