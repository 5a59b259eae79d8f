// SPDX-License-Identifier: MIT
#include <component/store/pg_schema.hpp>

#include <array>
#include <cstdlib>

#include <component/store/pg_handles.hpp>

#include <libpq-fe.h>

namespace concierge::store::pg_schema {
namespace {

// See schema.cpp for what each step is for; these are the same steps in PostgreSQL's types.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE meta (
  key   text PRIMARY KEY NOT NULL,
  value text NOT NULL
);
CREATE TABLE enrolments (
  jid            text PRIMARY KEY NOT NULL,
  timezone       text NOT NULL,
  calendar_url   text NOT NULL DEFAULT '',
  enrolled_at_ms bigint NOT NULL
);
CREATE TABLE subscriptions (
  jid      text PRIMARY KEY NOT NULL,
  asked    boolean NOT NULL,
  sub_to   boolean NOT NULL,
  sub_from boolean NOT NULL
);
CREATE TABLE proxy_subscriptions (
  target     text NOT NULL,
  subscriber text NOT NULL,
  PRIMARY KEY (target, subscriber)
);
)sql";

constexpr std::string_view kMigration2 = R"sql(
CREATE TABLE holds (
  id          bigint PRIMARY KEY NOT NULL,
  sender      text NOT NULL,
  target      text NOT NULL,
  stanza      text NOT NULL,
  stanza_id   text NOT NULL DEFAULT '',
  received_ms bigint NOT NULL,
  reason      bigint NOT NULL,
  state       bigint NOT NULL,
  sent_at_ms  bigint NOT NULL DEFAULT 0
);
)sql";

constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE user_settings (
  jid   text NOT NULL,
  key   text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (jid, key)
);
)sql";

// The lease of active/standby (pg_lease.hpp): epoch 0 and expired until an instance takes it.
constexpr std::string_view kMigration4 = R"sql(
CREATE TABLE lease (
  only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  epoch      bigint NOT NULL,
  holder     text NOT NULL,
  expires_ms bigint NOT NULL
);
INSERT INTO lease (only_row, epoch, holder, expires_ms) VALUES (true, 0, '', 0);
)sql";

constexpr std::string_view kMigration5 = R"sql(
CREATE TABLE remembered (
  kind   bigint NOT NULL,
  a      text NOT NULL,
  b      text NOT NULL DEFAULT '',
  detail text NOT NULL DEFAULT '',
  number bigint NOT NULL DEFAULT 0,
  at_ms  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, a, b)
);
INSERT INTO remembered (kind, a, b, number)
  SELECT 1, sender, target, min(reason) FROM holds WHERE state = 0 GROUP BY sender, target;
)sql";

constexpr std::array<std::string_view, 5> kMigrations = {kMigration1, kMigration2, kMigration3,
                                                         kMigration4, kMigration5};

// The version table and the lock, taken inside the step's transaction. The lock's first key is
// Concierge's ("CNCG", as SQLite's application_id), the second the schema's name.
constexpr const char* kPrepare =
    "SELECT pg_advisory_xact_lock(1129202503, hashtext(current_schema()));"
    "CREATE TABLE IF NOT EXISTS concierge_schema ("
    " only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),"
    " version integer NOT NULL)";

// Tables in the current schema other than concierge_schema.
constexpr const char* kOtherTables =
    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
    " AND tablename <> 'concierge_schema'";

int read_int(pg_conn* conn, const char* sql, std::string* error) {
  const pg::Result result = pg::query(conn, sql, {}, error);
  if (!result) return -1;
  if (PQntuples(result.get()) == 0) return 0;
  return std::atoi(PQgetvalue(result.get(), 0, 0));
}

void rollback(pg_conn* conn) {
  pg::execute(conn, "ROLLBACK", nullptr);
}

}  // namespace

std::span<const std::string_view> migrations() {
  return kMigrations;
}

int version_of(pg_conn* conn) {
  std::string ignored;
  const pg::Result exists =
      pg::query(conn, "SELECT to_regclass('concierge_schema') IS NOT NULL", {}, &ignored);
  if (!exists) return -1;
  if (std::string(PQgetvalue(exists.get(), 0, 0)) != "t") return 0;
  return read_int(conn, "SELECT version FROM concierge_schema", &ignored);
}

bool migrate(pg_conn* conn, std::span<const std::string_view> steps, std::string* error) {
  const int latest = static_cast<int>(steps.size());
  for (int step = 1; step <= latest; ++step) {
    std::string why;
    if (!pg::execute(conn, "BEGIN", &why) || !pg::execute(conn, kPrepare, &why)) {
      rollback(conn);
      *error = "cannot start migration step " + std::to_string(step) + ": " + why;
      return false;
    }
    // Read under the lock: another instance may have migrated meanwhile.
    const int version = read_int(conn, "SELECT version FROM concierge_schema", &why);
    if (version < 0) {
      rollback(conn);
      *error = "cannot read the schema version: " + why;
      return false;
    }
    if (version > latest) {
      rollback(conn);
      *error = "it was written by a newer Concierge (schema version " + std::to_string(version) +
               ", this build knows up to " + std::to_string(latest) +
               "); run that newer version, or restore a backup made by this one";
      return false;
    }
    if (version == 0 && step == 1) {
      const int others = read_int(conn, kOtherTables, &why);
      if (others != 0) {
        rollback(conn);
        *error = others < 0 ? "cannot list its tables: " + why
                            : "its schema has tables that Concierge did not create (no "
                              "concierge_schema table); give Concierge a database or schema of "
                              "its own";
        return false;
      }
    }
    if (version >= step) {
      if (!pg::execute(conn, "COMMIT", &why)) {
        *error = "cannot end migration step " + std::to_string(step) + ": " + why;
        return false;
      }
      continue;
    }
    const std::string script(steps[static_cast<std::size_t>(step - 1)]);
    const std::vector<std::string> params = {std::to_string(step)};
    if (version != step - 1 || !pg::execute(conn, script.c_str(), &why) ||
        !pg::query(conn,
                   "INSERT INTO concierge_schema (version) VALUES ($1::integer)"
                   " ON CONFLICT (only_row) DO UPDATE SET version = excluded.version",
                   params, &why) ||
        !pg::execute(conn, "COMMIT", &why)) {
      if (version != step - 1) why = "found schema version " + std::to_string(version);
      rollback(conn);
      *error = "migration to schema version " + std::to_string(step) +
               " failed (nothing of it was applied): " + why;
      return false;
    }
  }
  return true;
}

}  // namespace concierge::store::pg_schema
