// SPDX-License-Identifier: MIT
// The core's remembered bookkeeping (pauses, hold episodes, conversations, pool reservations:
// what a takeover must not lose, DESIGN §10) on both backends: rows round-trip, replace and
// go by (kind, a, b), commit with the turn, and an upgrade from schema 4 starts every held
// message's hold episode as told.
#include <component/store/pg_handles.hpp>
#include <component/store/pg_schema.hpp>
#include <component/store/pg_store.hpp>
#include <component/store/schema.hpp>
#include <component/store/sqlite_handles.hpp>
#include <component/store/sqlite_store.hpp>

#include <array>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <tests/support/postgres/pg_server.hpp>

namespace concierge::core {
static bool operator==(const Remembered& x, const Remembered& y) {
  return x.kind == y.kind && x.a == y.a && x.b == y.b && x.detail == y.detail &&
         x.number == y.number && x.at == y.at;
}
static void PrintTo(const Remembered& r, std::ostream* os) {
  *os << "Remembered{" << static_cast<int>(r.kind) << ", " << r.a << ", " << r.b << ", "
      << r.detail << ", " << r.number << ", " << r.at.time_since_epoch().count() << "}";
}
}  // namespace concierge::core

namespace concierge::store {
namespace {

namespace fs = std::filesystem;
using core::Remembered;
using Kind = core::Remembered::Kind;
using StorePtr = std::unique_ptr<core::Store>;

// A hold of schema 2..4's holds table, as an older Concierge wrote it.
constexpr const char* kOldHolds =
    "INSERT INTO holds (id, sender, target, stanza, stanza_id, received_ms, reason, state,"
    " sent_at_ms) VALUES"
    " (1, 'ann@example.org', 'bob@example.org', '<message/>', 'm1', 1000, 0, 0, 0),"
    " (2, 'ann@example.org', 'bob@example.org', '<message/>', 'm2', 1001, 0, 0, 0),"
    " (3, 'cid@example.org', 'bob@example.org', '<message/>', 'm3', 1002, 3, 0, 0),"
    " (4, 'dan@example.org', 'bob@example.org', '<message/>', 'm4', 1003, 0, 1, 2000)";

class RememberedTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "PostgreSQL"; }
  void SetUp() override {
    if (postgres()) {
      ASSERT_TRUE(test::PgServer::instance().error().empty())
          << "no PostgreSQL server: " << test::PgServer::instance().error();
      url_ = test::PgServer::instance().fresh_schema_url();
    } else {
      std::array<char, 64> name{};
      std::string("/tmp/concierge-store-XXXXXX").copy(name.data(), name.size() - 1);
      ASSERT_NE(mkdtemp(name.data()), nullptr);
      dir_ = name.data();
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  StorePtr open() {
    if (postgres()) {
      auto opened = PgStore::open(url_, test::PgServer::password());
      if (auto* error = std::get_if<std::string>(&opened)) ADD_FAILURE() << *error;
      if (!std::holds_alternative<std::unique_ptr<PgStore>>(opened)) return nullptr;
      return StorePtr(std::get<std::unique_ptr<PgStore>>(std::move(opened)));
    }
    auto opened = SqliteStore::open(dir_ + "/concierge.db");
    if (auto* error = std::get_if<std::string>(&opened)) ADD_FAILURE() << *error;
    if (!std::holds_alternative<std::unique_ptr<SqliteStore>>(opened)) return nullptr;
    return StorePtr(std::get<std::unique_ptr<SqliteStore>>(std::move(opened)));
  }
  // A store as Concierge left it at schema version 4, with `sql` run in it.
  void make_version_4(const std::string& sql) {
    std::string error;
    if (postgres()) {
      pg::Connection conn = pg::connect(url_, test::PgServer::password(), &error);
      ASSERT_TRUE(conn) << error;
      ASSERT_TRUE(pg_schema::migrate(conn.get(), pg_schema::migrations().first(4), &error))
          << error;
      ASSERT_TRUE(pg::execute(conn.get(), sql.c_str(), &error)) << error;
      return;
    }
    int rc = SQLITE_OK;
    Connection db = open_connection(dir_ + "/concierge.db",
                                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &rc);
    ASSERT_EQ(rc, SQLITE_OK);
    ASSERT_TRUE(schema::migrate(db.get(), schema::migrations().first(4), &error)) << error;
    ASSERT_TRUE(execute(db.get(), sql.c_str(), &error)) << error;
  }

  std::string url_;
  std::string dir_;
};

Remembered pause(const std::string& who, std::int64_t until_ms) {
  return {.kind = Kind::pause,
          .a = who,
          .b = "",
          .detail = "",
          .number = 0,
          .at = core::Instant{core::Duration{until_ms}}};
}

TEST_P(RememberedTest, RowsRoundTripEveryFieldSortedAndReplaceAndGoByKindAndJids) {
  StorePtr store = open();
  ASSERT_NE(store, nullptr);
  const Remembered session{.kind = Kind::session,
                           .a = "ann@example.org",
                           .b = "bob@example.org",
                           .detail = "",
                           .number = 0b10101,
                           .at = core::Instant{core::Duration{1'780'000'000'123}}};
  const Remembered writer{.kind = Kind::recent_write,
                          .a = "ann@example.org",
                          .b = "bob@example.org",
                          .detail = "ann@example.org/phone \u2014 'q' $1 ?1",
                          .number = 0,
                          .at = core::Instant{core::Duration{1'780'000'000'456}}};
  const Remembered told{.kind = Kind::hold_notice,
                        .a = "ann@example.org",
                        .b = "bob@example.org",
                        .detail = "",
                        .number = 3,
                        .at = {}};
  store->remember(writer);
  store->remember(session);
  store->remember(pause("bob@example.org", 5000));
  store->remember(pause("amy@example.org", 4000));
  store->remember(told);
  EXPECT_EQ(store->remembered(),
            (std::vector<Remembered>{pause("amy@example.org", 4000),
                                     pause("bob@example.org", 5000), told, session, writer}))
      << "sorted by kind, then the JIDs; reads see writes not committed yet";

  // The same (kind, a, b) replaces; another kind with the same JIDs is another row.
  store->remember(pause("bob@example.org", 9000));
  store->forget(Kind::hold_notice, "ann@example.org", "bob@example.org");
  store->forget(Kind::pause, "nobody@example.org", "");  // nothing to forget: no harm
  ASSERT_TRUE(store->commit());
  store.reset();
  StorePtr reopened = open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->remembered(),
            (std::vector<Remembered>{pause("amy@example.org", 4000),
                                     pause("bob@example.org", 9000), session, writer}));
}

TEST_P(RememberedTest, WritesNotCommittedAreLostWithTheTurnLikeHolds) {
  StorePtr store = open();
  ASSERT_NE(store, nullptr);
  store->remember(pause("amy@example.org", 4000));
  ASSERT_TRUE(store->commit());
  store->remember(pause("bob@example.org", 5000));
  store->forget(Kind::pause, "amy@example.org", "");
  store.reset();  // a crash before the turn's commit
  StorePtr reopened = open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->remembered(), (std::vector<Remembered>{pause("amy@example.org", 4000)}));
}

TEST_P(RememberedTest, AnUpgradeFromVersion4StartsTheEpisodesOfHeldMessagesAsTold) {
  make_version_4(kOldHolds);
  StorePtr store = open();  // migrates to this build's version
  ASSERT_NE(store, nullptr);
  const auto told = [](const std::string& sender, std::int64_t reason) {
    return Remembered{.kind = Kind::hold_notice,
                      .a = sender,
                      .b = "bob@example.org",
                      .detail = "",
                      .number = reason,
                      .at = {}};
  };
  const Remembered ann = told("ann@example.org", 0);
  const Remembered cid = told("cid@example.org", 3);
  // dan's message went out (sent, waiting for its confirm window): no episode left to tell.
  EXPECT_EQ(store->remembered(), (std::vector<Remembered>{ann, cid}));
  EXPECT_EQ(store->holds().size(), 4U) << "the holds themselves are untouched";
}

INSTANTIATE_TEST_SUITE_P(Backends, RememberedTest, ::testing::Values("SQLite", "PostgreSQL"),
                         [](const auto& backend) { return backend.param; });

}  // namespace
}  // namespace concierge::store
