// SPDX-License-Identifier: MIT
// The SQLite store's schema: migrations, databases it refuses and leaves untouched, unusable
// paths, and backups.
#include <tests/unit/store/store_test_support.hpp>

namespace concierge::store {
namespace {

namespace fs = std::filesystem;
using core::Enrolment;
using core::Hold;
using core::HoldReason;
using core::HoldState;
using core::Instant;
using core::ProxySubscription;
using core::SubscriptionState;
using namespace store_test;

// --- Schema and migrations ---------------------------------------------------------------

TEST_F(StoreTest, AnEmptyFileAtVersionZeroIsMigratedToTheLatestSchema) {
  std::ofstream(path_).close();  // zero bytes: SQLite's empty database, user_version 0
  ASSERT_TRUE(fs::exists(path_));
  {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    store->put_enrolment(alice());
    ASSERT_TRUE(store->commit());
  }
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), std::to_string(SqliteStore::latest_schema_version()));
  EXPECT_EQ(raw.text("SELECT group_concat(name, ',') FROM"
                     " (SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name)"),
            "enrolments,holds,lease,meta,proxy_subscriptions,remembered,subscriptions,"
            "user_settings");
  EXPECT_EQ(raw.text("SELECT jid FROM enrolments"), alice().jid);
}

TEST_F(StoreTest, AVersion1StoreIsMigratedToTheLatestKeepingItsData) {
  {
    // The file a build with only migration 1 left behind, with data in every table.
    RawDb raw(path_);
    ASSERT_TRUE(raw.exec("PRAGMA journal_mode = WAL"));
    std::string error;
    ASSERT_TRUE(schema::migrate(raw.get(), schema::migrations().first(1), &error)) << error;
    ASSERT_TRUE(
        raw.exec("INSERT INTO enrolments VALUES ('alice@example.org', 'Europe/Berlin',"
                 " 'https://cal.example.org/alice.ics?token=secret', 1780000000123);"
                 "INSERT INTO subscriptions VALUES ('alice@example.org', 1, 0, 1);"
                 "INSERT INTO proxy_subscriptions VALUES ('alice@example.org', 'carol@x');"
                 "INSERT INTO meta VALUES ('marker', 'kept');"));
    ASSERT_EQ(raw.text("PRAGMA user_version"), "1");
  }
  {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enrolment(alice().jid));
    expect_same(*store->enrolment(alice().jid), alice());
    EXPECT_EQ(store->subscriptions(),
              (std::vector<SubscriptionState>{
                  {.jid = alice().jid, .asked = true, .to = false, .from = true}}));
    EXPECT_EQ(store->proxy_subscriptions(),
              (std::vector<ProxySubscription>{{alice().jid, "carol@x"}}));
    EXPECT_TRUE(store->holds().empty());
    store->put_hold(hold(1));
    ASSERT_TRUE(store->commit());
  }
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), std::to_string(SqliteStore::latest_schema_version()));
  EXPECT_EQ(raw.text("SELECT value FROM meta WHERE key = 'marker'"), "kept");
  EXPECT_EQ(raw.text("SELECT stanza_id FROM holds"), "m1");
}

TEST_F(StoreTest, ReopeningACurrentStoreKeepsItsData) {
  for (int i = 0; i < 3; ++i) {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    store->put_subscription({.jid = "u" + std::to_string(i) + "@x"});
    ASSERT_TRUE(store->commit());
    EXPECT_EQ(store->subscriptions().size(), static_cast<std::size_t>(i) + 1);
  }
}

TEST_F(StoreTest, MigrationsApplyOnlyMissingStepsEachInItsOwnTransaction) {
  RawDb raw(path_);
  const std::array<std::string_view, 3> broken = {
      "CREATE TABLE a (x)", "CREATE TABLE b (x)",
      "CREATE TABLE c (x); INSERT INTO no_such_table VALUES (1);"};
  std::string error;
  EXPECT_FALSE(schema::migrate(raw.get(), broken, &error));
  EXPECT_NE(error.find("schema version 3"), std::string::npos) << error;
  EXPECT_NE(error.find("no_such_table"), std::string::npos) << error;
  EXPECT_EQ(raw.text("PRAGMA user_version"), "2");  // steps 1 and 2 stay applied
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_schema WHERE name = 'c'"), "0");

  // Re-running does not repeat steps 1 and 2 (CREATE TABLE a would fail if it did).
  const std::array<std::string_view, 3> fixed = {broken[0], broken[1], "CREATE TABLE c (x)"};
  EXPECT_TRUE(schema::migrate(raw.get(), fixed, &error)) << error;
  EXPECT_EQ(raw.text("PRAGMA user_version"), "3");
  EXPECT_EQ(raw.text("PRAGMA application_id"), std::to_string(schema::kApplicationId));
  EXPECT_TRUE(schema::check(raw.get(), fixed.size(), &error)) << error;
  EXPECT_FALSE(schema::check(raw.get(), 2, &error));
}

TEST_F(StoreTest, ANewerSchemaIsRefusedAndLeftUntouched) {
  const int newer = SqliteStore::latest_schema_version() + 1;
  {
    RawDb raw(path_);
    ASSERT_TRUE(raw.exec("CREATE TABLE future (x); PRAGMA application_id = " +
                         std::to_string(schema::kApplicationId) +
                         "; PRAGMA user_version = " + std::to_string(newer)));
  }
  const std::string error = open_error(path_);
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("newer Concierge"), std::string::npos) << error;
  EXPECT_NE(error.find("schema version " + std::to_string(newer)), std::string::npos) << error;
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA user_version"), std::to_string(newer));
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "delete");  // not even switched to WAL
}

TEST_F(StoreTest, AnotherApplicationsDatabaseIsRefusedAndLeftUntouched) {
  {
    RawDb raw(path_);
    ASSERT_TRUE(raw.exec("CREATE TABLE photos (x); PRAGMA application_id = 305419896"));
  }
  const std::string error = open_error(path_);
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("another application"), std::string::npos) << error;
  EXPECT_NE(error.find("0x12345678"), std::string::npos) << error;
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "delete");
  EXPECT_EQ(raw.text("SELECT count(*) FROM sqlite_schema"), "1");
}

TEST_F(StoreTest, ADatabaseWithTablesButNoApplicationIdIsRefused) {
  {
    RawDb raw(path_);
    ASSERT_TRUE(raw.exec("CREATE TABLE enrolments (jid)"));
  }
  const std::string error = open_error(path_);
  EXPECT_NE(error.find("did not create"), std::string::npos) << error;
}

TEST_F(StoreTest, AFileThatIsNotADatabaseIsRefused) {
  std::ofstream(path_) << "[store]\npath = \"/var/lib/concierge/concierge.db\"\n"
                       << std::string(600, 'x');
  const std::string error = open_error(path_);
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("not a database"), std::string::npos) << error;
}

// --- Paths that cannot be used -----------------------------------------------------------

TEST_F(StoreTest, AMissingDirectoryIsNamed) {
  const std::string error = open_error(dir_.file("missing/concierge.db"));
  EXPECT_NE(error.find("the directory " + dir_.file("missing") + " does not exist"),
            std::string::npos)
      << error;
  EXPECT_FALSE(fs::exists(dir_.file("missing")));
}

TEST_F(StoreTest, UnusablePathsGiveAnErrorValue) {
  fs::create_directory(dir_.file("adir"));
  EXPECT_NE(open_error(dir_.file("adir")).find("is a directory"), std::string::npos);

  std::ofstream(dir_.file("plain")) << "x";
  EXPECT_NE(open_error(dir_.file("plain/concierge.db")).find("is not a directory"),
            std::string::npos);

  EXPECT_FALSE(open_error("/proc/concierge-store-test.db").empty());
  EXPECT_EQ(open_error(""), "cannot open the store: the path is empty");

  if (geteuid() != 0) {  // root writes through permission bits
    { auto store = open_ok(path_); }
    fs::permissions(path_, fs::perms::owner_read);
    EXPECT_NE(open_error(path_).find("not writable"), std::string::npos);
  }
}

// --- Backup ------------------------------------------------------------------------------

TEST_F(StoreTest, BackupCopiesTheCommittedStateIntoAFileThatOpens) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  store->put_enrolment(alice());
  store->put_subscription({.jid = alice().jid, .asked = true, .to = true, .from = true});
  store->add_proxy_subscription({.target = alice().jid, .subscriber = "carol@x"});
  ASSERT_TRUE(store->commit());
  store->put_enrolment(bob());  // not committed: not in the backup, and not disturbed by it

  const std::string copy = dir_.file("backup.db");
  std::string error;
  ASSERT_TRUE(store->backup_to(copy, &error)) << error;
  EXPECT_TRUE(store->enrolment(bob().jid));
  EXPECT_TRUE(store->commit());

  auto restored = open_ok(copy);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->enrolments().size(), 1u);
  expect_same(*restored->enrolment(alice().jid), alice());
  EXPECT_EQ(restored->subscriptions().size(), 1u);
  EXPECT_EQ(restored->proxy_subscriptions().size(), 1u);

  // A second backup replaces the first.
  restored.reset();
  ASSERT_TRUE(store->backup_to(copy, &error)) << error;
  restored = open_ok(copy);
  ASSERT_TRUE(restored);
  EXPECT_EQ(restored->enrolments().size(), 2u);
}

TEST_F(StoreTest, BackupToAnUnusablePathFailsWithAMessage) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  std::string error;
  EXPECT_FALSE(store->backup_to(dir_.file("missing/backup.db"), &error));
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  EXPECT_FALSE(store->backup_to(path_, &error));
  EXPECT_NE(error.find("the store itself"), std::string::npos) << error;
  EXPECT_FALSE(store->backup_to(dir_.path(), nullptr));
}

}  // namespace
}  // namespace concierge::store
