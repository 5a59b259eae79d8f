// SPDX-License-Identifier: MIT
#include <component/store/schema.hpp>

#include <array>
#include <cstdio>

#include <component/store/sqlite_handles.hpp>

#include <sqlite3.h>

namespace concierge::store::schema {
namespace {

// Migration 1: what the presence issue needs. JIDs (bare, normalised by the core) are the keys
// throughout. Nothing here is the parent of a foreign key, so the holds of the scheduler
// (migration 2: a `holds` table keyed by its own INTEGER id, with target and sender JIDs and
// no foreign key to enrolments, since users enrolled by the config hold messages too) can be
// added without touching these tables, and deleting a row never cascades behind the core's
// back. Writes use UPSERT, never INSERT OR REPLACE, which would delete and re-insert the row.
// `meta` holds single values of later steps (counters, markers), one row per key.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE enrolments (
  jid            TEXT PRIMARY KEY NOT NULL,
  timezone       TEXT NOT NULL,
  calendar_url   TEXT NOT NULL DEFAULT '',
  enrolled_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE subscriptions (
  jid      TEXT PRIMARY KEY NOT NULL,
  asked    INTEGER NOT NULL CHECK (asked IN (0, 1)),
  sub_to   INTEGER NOT NULL CHECK (sub_to IN (0, 1)),
  sub_from INTEGER NOT NULL CHECK (sub_from IN (0, 1))
) STRICT, WITHOUT ROWID;

CREATE TABLE proxy_subscriptions (
  target     TEXT NOT NULL,
  subscriber TEXT NOT NULL,
  PRIMARY KEY (target, subscriber)
) STRICT, WITHOUT ROWID;
)sql";

// Migration 2: the scheduler's held messages (core::Hold). The core assigns `id` (increasing:
// the arrival order), so it is the rowid itself and holds() reads the table in rowid order with
// no index. No secondary index: the port's only read of holds is holds() at startup (it has no
// per-target read), and an index on (target, id) had no reader but a cost: in bench/store with
// 200 000 holds to interleaved targets, 8 % more file and about 3.5x the CPU (4.5x the time) to
// write them. A later step can add one if a per-target query appears.
// No CHECK on reason and state either: a write SQLite refuses for good is dropped (see
// SqliteStore), and a held message must never be lost because the core gained an enum value.
// Times are milliseconds since the Unix epoch (core::Instant); sent_at_ms is 0 while held.
constexpr std::string_view kMigration2 = R"sql(
CREATE TABLE holds (
  id          INTEGER PRIMARY KEY NOT NULL,
  sender      TEXT NOT NULL,
  target      TEXT NOT NULL,
  stanza      TEXT NOT NULL,
  stanza_id   TEXT NOT NULL DEFAULT '',
  received_ms INTEGER NOT NULL,
  reason      INTEGER NOT NULL,
  state       INTEGER NOT NULL,
  sent_at_ms  INTEGER NOT NULL DEFAULT 0
) STRICT;
)sql";

// Migration 3: settings users choose for themselves (core::UserSetting): one row per key.
constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE user_settings (
  jid   TEXT NOT NULL,
  key   TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (jid, key)
) STRICT, WITHOUT ROWID;
)sql";

// Migration 4: the lease of active/standby (DESIGN §10): one row, the epoch of the instance
// allowed to write and when its lease runs out (milliseconds, database time). On SQLite one
// process owns the file, so the row is never taken; it exists so that both backends have the
// same schema.
constexpr std::string_view kMigration4 = R"sql(
CREATE TABLE lease (
  only_row   INTEGER PRIMARY KEY NOT NULL CHECK (only_row = 1),
  epoch      INTEGER NOT NULL,
  holder     TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
) STRICT;
INSERT INTO lease (only_row, epoch, holder, expires_ms) VALUES (1, 0, '', 0);
)sql";

// Migration 5: what a takeover must not lose besides holds (DESIGN §10): the core's remembered
// bookkeeping (core::Remembered: pauses, hold episodes, conversations, pool reservations), one
// row per (kind, a, b), the other columns meaning what the kind says (store_port.hpp). The
// senders of held messages were told they are held (the core knew that from the holds alone
// before): their hold episodes start as rows, so an upgrade repeats no notice.
constexpr std::string_view kMigration5 = R"sql(
CREATE TABLE remembered (
  kind   INTEGER NOT NULL,
  a      TEXT NOT NULL,
  b      TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  number INTEGER NOT NULL DEFAULT 0,
  at_ms  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, a, b)
) STRICT, WITHOUT ROWID;
INSERT INTO remembered (kind, a, b, number)
  SELECT 1, sender, target, min(reason) FROM holds WHERE state = 0 GROUP BY sender, target;
)sql";

constexpr std::array<std::string_view, 5> kMigrations = {kMigration1, kMigration2, kMigration3,
                                                         kMigration4, kMigration5};

bool read_int(sqlite3* db, const char* sql, std::int64_t* value, std::string* error) {
  Statement statement;
  if (!statement.prepare(db, sql, error)) return false;
  Statement::Use use(statement);
  if (use.step() != Statement::Step::kRow) {
    *error = message_of(db);
    return false;
  }
  *value = use.column_int(0);
  return true;
}

std::string hex(std::int64_t id) {
  std::array<char, 16> text{};
  std::snprintf(text.data(), text.size(), "0x%08X", static_cast<unsigned>(id & 0xFFFFFFFF));
  return text.data();
}

}  // namespace

std::span<const std::string_view> migrations() {
  return kMigrations;
}

int latest_version() {
  return static_cast<int>(kMigrations.size());
}

int version_of(sqlite3* db) {
  std::int64_t version = 0;
  std::string ignored;
  if (!read_int(db, "PRAGMA user_version", &version, &ignored)) return -1;
  return static_cast<int>(version);
}

bool check(sqlite3* db, std::size_t steps, std::string* error) {
  std::int64_t application_id = 0;
  std::int64_t version = 0;
  std::int64_t objects = 0;
  std::string sqlite_error;
  // One read transaction, so the three reads see one state: another process creating the
  // schema meanwhile must not look like tables without Concierge's application_id.
  const bool read = execute(db, "BEGIN", &sqlite_error) &&
                    read_int(db, "PRAGMA application_id", &application_id, &sqlite_error) &&
                    read_int(db, "PRAGMA user_version", &version, &sqlite_error) &&
                    read_int(db, "SELECT count(*) FROM sqlite_schema", &objects, &sqlite_error);
  if (sqlite3_get_autocommit(db) == 0) execute(db, "COMMIT", nullptr);
  if (!read) {
    *error = "it cannot be read as an SQLite database: " + sqlite_error;
    return false;
  }
  if (application_id != kApplicationId) {
    if (application_id != 0) {
      *error = "it is the database of another application (application_id " + hex(application_id) +
               ", Concierge's is " + hex(kApplicationId) + "); give Concierge a file of its own";
      return false;
    }
    if (version != 0 || objects != 0) {
      *error =
          "it is an SQLite database that Concierge did not create (it has tables but no "
          "Concierge application_id); give Concierge a file of its own";
      return false;
    }
  }
  if (version > static_cast<std::int64_t>(steps)) {
    *error = "it was written by a newer Concierge (schema version " + std::to_string(version) +
             ", this build knows up to " + std::to_string(steps) +
             "); run that newer version, or restore a backup made by this one";
    return false;
  }
  return true;
}

bool migrate(sqlite3* db, std::span<const std::string_view> steps, std::string* error) {
  for (std::size_t step = 1; step <= steps.size(); ++step) {
    if (version_of(db) >= static_cast<int>(step)) continue;
    std::string sqlite_error;
    if (!execute(db, "BEGIN IMMEDIATE", &sqlite_error)) {
      *error = "cannot start migration step " + std::to_string(step) + ": " + sqlite_error;
      return false;
    }
    // Another process may have applied the step between the read above and our lock.
    const int version = version_of(db);
    if (version >= static_cast<int>(step)) {
      execute(db, "COMMIT", nullptr);
      continue;
    }
    const std::string stamp = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                              "; PRAGMA user_version = " + std::to_string(step) + ";";
    const std::string script(steps[step - 1]);
    if (version != static_cast<int>(step) - 1 || !execute(db, script.c_str(), &sqlite_error) ||
        !execute(db, stamp.c_str(), &sqlite_error) || !execute(db, "COMMIT", &sqlite_error)) {
      if (version != static_cast<int>(step) - 1) {
        sqlite_error = "found schema version " + std::to_string(version);
      }
      if (sqlite3_get_autocommit(db) == 0) execute(db, "ROLLBACK", nullptr);
      *error = "migration to schema version " + std::to_string(step) +
               " failed (nothing of it was applied): " + sqlite_error;
      return false;
    }
  }
  return true;
}

}  // namespace concierge::store::schema
