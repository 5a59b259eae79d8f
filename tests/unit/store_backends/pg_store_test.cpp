// SPDX-License-Identifier: MIT
// What is particular to the PostgreSQL store: a lost connection, authentication, schemas it
// must refuse, and that its tables are SQLite's in meaning.
#include <component/store/pg_store.hpp>
#include <component/store/sqlite_store.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <tests/support/postgres/pg_server.hpp>

namespace concierge::store {
namespace {

using test::PgServer;

core::Hold hold(std::int64_t id, std::string stanza = "<message><body>hi</body></message>") {
  return {.id = id,
          .sender = "alice@example.org",
          .target = "bob@example.org",
          .stanza = std::move(stanza),
          .stanza_id = "m" + std::to_string(id),
          .received = core::Instant{core::Duration{1'780'000'000'000 + id}},
          .reason = core::HoldReason::away,
          .state = core::HoldState::held,
          .sent_at = core::Instant{}};
}

std::vector<std::int64_t> ids(const std::vector<core::Hold>& holds) {
  std::vector<std::int64_t> out;
  for (const auto& h : holds) out.push_back(h.id);
  return out;
}

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(PgServer::instance().error().empty())
        << "no PostgreSQL server: " << PgServer::instance().error();
    url_ = PgServer::instance().fresh_schema_url();
    schema_ = url_.substr(url_.rfind("%3D") + 3);
  }
  std::unique_ptr<PgStore> open_ok() {
    auto opened = PgStore::open(url_, PgServer::password());
    if (auto* error = std::get_if<std::string>(&opened)) {
      ADD_FAILURE() << "open failed: " << *error;
      return nullptr;
    }
    return std::get<std::unique_ptr<PgStore>>(std::move(opened));
  }
  std::string open_error() {
    auto opened = PgStore::open(url_, PgServer::password());
    if (auto* error = std::get_if<std::string>(&opened)) return *error;
    ADD_FAILURE() << "open succeeded";
    return {};
  }
  std::string url_;
  std::string schema_;
};

TEST_F(PgStoreTest, ACommitThatLostItsConnectionFailsSayingWhyAndTheNextCommitMakesItDurable) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  store->put_hold(hold(1));
  ASSERT_TRUE(store->commit()) << store->commit_error();
  store->put_hold(hold(2));
  const int pid = PQbackendPID(store->native_handle());
  ASSERT_EQ(PgServer::instance().admin("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"),
            "t");
  EXPECT_FALSE(store->commit());
  EXPECT_NE(store->commit_error().find("terminat"), std::string::npos) << store->commit_error();
  EXPECT_EQ(store->pending_writes(), 1U);
  // The store reconnected and re-applied the write: reads see it, the next commit keeps it.
  EXPECT_EQ(ids(store->holds()), (std::vector<std::int64_t>{1, 2}));
  ASSERT_TRUE(store->commit()) << store->commit_error();
  EXPECT_EQ(store->pending_writes(), 0U);
  store.reset();
  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ids(reopened->holds()), (std::vector<std::int64_t>{1, 2}));
}

TEST_F(PgStoreTest, AWriteRefusedForGoodIsDroppedAndTheOthersAreCommitted) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  store->put_hold(hold(1));
  store->put_hold(hold(2, "<message><body>\xC3\x28</body></message>"));  // not UTF-8
  store->put_hold(hold(3));
  ASSERT_TRUE(store->commit()) << store->commit_error();
  EXPECT_EQ(store->dropped_writes(), 1U);
  store.reset();
  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ids(reopened->holds()), (std::vector<std::int64_t>{1, 3}));
}

TEST_F(PgStoreTest, AWrongPasswordIsRefusedWithTheServersWordsAndWithoutThePassword) {
  auto opened = PgStore::open(url_, "wrong-horse-battery");
  ASSERT_TRUE(std::holds_alternative<std::string>(opened));
  const std::string error = std::get<std::string>(opened);
  EXPECT_NE(error.find("password authentication failed"), std::string::npos) << error;
  EXPECT_EQ(error.find("wrong-horse-battery"), std::string::npos) << error;
  EXPECT_NE(open_ok(), nullptr);  // the right one works
}

TEST_F(PgStoreTest, MigratesToTheLatestVersionOnceAndRecordsIt) {
  ASSERT_NE(open_ok(), nullptr);
  EXPECT_EQ(PgServer::instance().admin("SELECT version FROM " + schema_ + ".concierge_schema"),
            std::to_string(SqliteStore::latest_schema_version()));
  ASSERT_NE(open_ok(), nullptr);  // a second open finds nothing to do
  EXPECT_EQ(PgServer::instance().admin("SELECT count(*) FROM " + schema_ + ".concierge_schema"),
            "1");
}

TEST_F(PgStoreTest, ANewerSchemaIsRefusedAndLeftUntouched) {
  ASSERT_NE(open_ok(), nullptr);
  PgServer::instance().admin("UPDATE " + schema_ + ".concierge_schema SET version = 99");
  const std::string error = open_error();
  EXPECT_NE(error.find("newer Concierge (schema version 99"), std::string::npos) << error;
  EXPECT_EQ(PgServer::instance().admin("SELECT version FROM " + schema_ + ".concierge_schema"),
            "99");
}

TEST_F(PgStoreTest, ASchemaWithTablesConciergeDidNotCreateIsRefused) {
  PgServer::instance().admin("CREATE TABLE " + schema_ + ".invoices (id integer)");
  const std::string error = open_error();
  EXPECT_NE(error.find("tables that Concierge did not create"), std::string::npos) << error;
  EXPECT_EQ(PgServer::instance().admin("SELECT to_regclass('" + schema_ + ".holds') IS NULL"), "t");
}

TEST_F(PgStoreTest, BackupSaysToUsePgDump) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  std::string error;
  EXPECT_FALSE(store->backup_to("/tmp/x.db", &error));
  EXPECT_EQ(error, "not supported on PostgreSQL: use pg_dump");
}

// The reads that can return a million rows (holds) take them one at a time, so that the whole
// result is never buffered beside what is built from it.
TEST_F(PgStoreTest, RowByRowEveryRowArrivesAloneAndInOrder) {
  std::string error;
  const pg::Connection conn = pg::connect(url_, PgServer::password(), &error);
  ASSERT_NE(conn, nullptr) << error;
  ASSERT_TRUE(pg::prepare(conn.get(), "series", "SELECT g FROM generate_series(1, 2000) g", &error))
      << error;
  std::vector<long> values;
  bool alone = true;
  EXPECT_TRUE(pg::each_row(conn.get(), "series", {}, [&](const PGresult* row) {
    alone = alone && PQntuples(row) == 1;
    values.push_back(std::atol(PQgetvalue(row, 0, 0)));
  }, &error)) << error;
  EXPECT_TRUE(alone);
  ASSERT_EQ(values.size(), 2000U);
  EXPECT_TRUE(std::is_sorted(values.begin(), values.end()));
  EXPECT_EQ(values.front(), 1);
  EXPECT_EQ(values.back(), 2000);
}

TEST_F(PgStoreTest, RowByRowAFailureAfterSomeRowsIsReportedAndTheConnectionCanGoOn) {
  std::string error;
  const pg::Connection conn = pg::connect(url_, PgServer::password(), &error);
  ASSERT_NE(conn, nullptr) << error;
  ASSERT_TRUE(pg::prepare(conn.get(), "fails", "SELECT 10 / (3 - g) FROM generate_series(1, 5) g",
                          &error)) << error;
  int rows = 0;
  EXPECT_FALSE(pg::each_row(conn.get(), "fails", {}, [&](const PGresult*) { ++rows; }, &error));
  EXPECT_NE(error.find("division by zero"), std::string::npos) << error;
  EXPECT_LT(rows, 3);  // the rows before the failing one, at most
  EXPECT_EQ(PQtransactionStatus(conn.get()), PQTRANS_IDLE);
  const pg::Result next = pg::query(conn.get(), "SELECT 42", {}, &error);
  ASSERT_NE(next, nullptr) << error;
  EXPECT_STREQ(PQgetvalue(next.get(), 0, 0), "42");
}

TEST_F(PgStoreTest, HoldsReadRowByRowSeeTheWritesNotYetCommitted) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  for (std::int64_t id = 1; id <= 600; ++id) store->put_hold(hold(id));
  ASSERT_TRUE(store->commit()) << store->commit_error();
  store->remove_hold(300);
  store->put_hold(hold(601));
  const std::vector<core::Hold> holds = store->holds();
  ASSERT_EQ(holds.size(), 600U);
  EXPECT_EQ(holds[298].id, 299);
  EXPECT_EQ(holds[299].id, 301);
  EXPECT_EQ(holds.back().id, 601);
  EXPECT_EQ(holds.back().stanza_id, "m601");
  ASSERT_TRUE(store->commit()) << store->commit_error();  // the read left the transaction usable
}

// Same tables and columns, in the same order, as the SQLite store's schema.
TEST_F(PgStoreTest, ItsTablesAndColumnsAreThoseOfTheSqliteStore) {
  ASSERT_NE(open_ok(), nullptr);
  std::array<char, 64> name{};
  std::string("/tmp/concierge-schema-XXXXXX").copy(name.data(), name.size() - 1);
  ASSERT_NE(mkdtemp(name.data()), nullptr);
  const std::string dir = name.data();
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<SqliteStore>>(
      SqliteStore::open(dir + "/concierge.db")));
  std::map<std::string, std::string> sqlite_columns;
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/concierge.db").c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT m.name, group_concat(p.name, ',') FROM sqlite_schema m,"
                     " pragma_table_info(m.name) p WHERE m.type = 'table' GROUP BY m.name",
                     -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    sqlite_columns[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] =
        reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);

  ASSERT_EQ(sqlite_columns.size(), 8U);  // meta, enrolments, …, holds, …, lease, remembered
  for (const auto& [table, columns] : sqlite_columns) {
    EXPECT_EQ(PgServer::instance().admin(
                  "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM"
                  " information_schema.columns WHERE table_schema = '" +
                  schema_ + "' AND table_name = '" + table + "'"),
              columns)
        << table;
  }
}

}  // namespace
}  // namespace concierge::store
