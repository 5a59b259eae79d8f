// SPDX-License-Identifier: MIT
// The SQLite store's durability: what is committed survives a reopen, what is not is lost like
// a crash would lose it, and how commits that SQLite refused are retried or dropped.
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

// --- Durability --------------------------------------------------------------------------

TEST_F(StoreTest, CommittedWritesSurviveReopen) {
  {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    store->put_enrolment(alice());
    store->put_subscription({.jid = alice().jid, .asked = true, .to = false, .from = true});
    store->add_proxy_subscription({.target = alice().jid, .subscriber = "carol@x"});
    EXPECT_EQ(store->pending_writes(), 3u);
    ASSERT_TRUE(store->commit());
    EXPECT_TRUE(store->commit());  // nothing pending: still true
  }
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->enrolment(alice().jid));
  expect_same(*store->enrolment(alice().jid), alice());
  EXPECT_EQ(store->subscriptions(),
            (std::vector<SubscriptionState>{
                {.jid = alice().jid, .asked = true, .to = false, .from = true}}));
  EXPECT_EQ(store->proxy_subscriptions().size(), 1u);
}

TEST_F(StoreTest, WritesNotCommittedAreLostWhenTheStoreIsDroppedLikeACrash) {
  {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    store->put_enrolment(alice());
    ASSERT_TRUE(store->commit());
    store->put_enrolment(bob());
    store->remove_enrolment(alice().jid);
    EXPECT_TRUE(store->enrolment(bob().jid));  // reads see uncommitted writes
    EXPECT_FALSE(store->enrolment(alice().jid));
  }  // destroyed without commit()
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->enrolment(alice().jid));
  EXPECT_FALSE(store->enrolment(bob().jid));
}

TEST_F(StoreTest, CommittedHoldsSurviveReopen) {
  Hold sent = hold(2, HoldReason::off_hours);
  sent.state = HoldState::sent;
  sent.sent_at = Instant{core::Duration{1'780'000'777'000}};
  {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    store->put_hold(hold(1));
    store->put_hold(sent);
    store->put_hold(hold(3, HoldReason::away));
    store->remove_hold(3);
    EXPECT_EQ(store->pending_writes(), 4u);
    ASSERT_TRUE(store->commit());
  }
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->holds(), (std::vector<Hold>{hold(1), sent}));
}

TEST_F(StoreTest, HoldsNotCommittedAreLostWhenTheStoreIsDroppedLikeACrash) {
  {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    store->put_hold(hold(1));
    store->put_hold(hold(2));
    ASSERT_TRUE(store->commit());
    Hold released = hold(1);
    released.state = HoldState::sent;
    store->put_hold(released);
    store->remove_hold(2);
    store->put_hold(hold(3));
    EXPECT_EQ(store->holds(), (std::vector<Hold>{released, hold(3)}));
  }  // destroyed without commit(): the sender of 3 was never told it is held
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->holds(), (std::vector<Hold>{hold(1), hold(2)}));
}

TEST_F(StoreTest, HoldWritesRefusedUnderALockAreRetriedInOrder) {
  auto store = open_ok(path_, {.busy_timeout = std::chrono::milliseconds(1)});
  ASSERT_TRUE(store);
  RawDb other(path_);
  ASSERT_TRUE(other.exec("BEGIN IMMEDIATE"));
  store->put_hold(hold(1));
  store->put_hold(hold(2));
  store->remove_hold(1);
  Hold moved = hold(2, HoldReason::offline);
  store->put_hold(moved);
  EXPECT_FALSE(store->commit());
  EXPECT_EQ(store->pending_writes(), 4u);

  ASSERT_TRUE(other.exec("ROLLBACK"));
  EXPECT_TRUE(store->commit());
  store.reset();
  store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->holds(), (std::vector<Hold>{moved}));
}

TEST_F(StoreTest, OpensWithWalFullSyncAndForeignKeys) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  RawDb raw(path_);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.text("PRAGMA application_id"), std::to_string(schema::kApplicationId));
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(store->native_handle(),
                               "SELECT (SELECT synchronous FROM pragma_synchronous),"
                               " (SELECT foreign_keys FROM pragma_foreign_keys)",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 2);  // FULL
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 1);
  sqlite3_finalize(stmt);
}

// --- Commit failures ---------------------------------------------------------------------

TEST_F(StoreTest, WritesRefusedWhileAnotherConnectionHoldsTheLockAreRetriedAtCommit) {
  auto store = open_ok(path_, {.busy_timeout = std::chrono::milliseconds(1)});
  ASSERT_TRUE(store);
  RawDb other(path_);
  ASSERT_TRUE(other.exec("BEGIN IMMEDIATE"));

  store->put_enrolment(alice());  // BEGIN IMMEDIATE fails: database is locked
  store->put_enrolment(bob());
  store->remove_enrolment(bob().jid);  // order must survive the retry (4 writes: + settings)
  EXPECT_EQ(store->pending_writes(), 6u);
  EXPECT_FALSE(store->commit());
  EXPECT_NE(store->last_error().find("locked"), std::string::npos) << store->last_error();
  EXPECT_EQ(store->pending_writes(), 6u);

  ASSERT_TRUE(other.exec("ROLLBACK"));
  EXPECT_TRUE(store->commit());  // the next turn
  EXPECT_EQ(store->pending_writes(), 0u);
  store.reset();

  store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->enrolment(alice().jid));
  EXPECT_FALSE(store->enrolment(bob().jid));
}

TEST_F(StoreTest, CommitThatSqliteRolledBackIsReappliedAtOnceAndCommittedNextTurn) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  int vetoes = 1;
  sqlite3_commit_hook(
      store->native_handle(),
      +[](void* left) -> int {
        auto* n = static_cast<int*>(left);
        return (*n)-- > 0 ? 1 : 0;  // non-zero turns the COMMIT into a ROLLBACK
      },
      &vetoes);

  store->put_enrolment(alice());
  EXPECT_FALSE(store->commit());
  EXPECT_FALSE(store->last_error().empty());
  EXPECT_TRUE(store->enrolment(alice().jid));  // re-applied: reads still see it
  EXPECT_EQ(store->pending_writes(), 1u);
  store->put_enrolment(bob());  // joins the re-opened transaction

  EXPECT_TRUE(store->commit());
  sqlite3_commit_hook(store->native_handle(), nullptr, nullptr);
  store.reset();
  store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->enrolments().size(), 2u);
}

TEST_F(StoreTest, CommitThatSqliteKeptOpenIsRetriedNextTurn) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  sqlite3* db = store->native_handle();
  // A deferred foreign key violation makes COMMIT fail while the transaction stays open.
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY);"
                         "CREATE TEMP TABLE child (p INTEGER REFERENCES parent (id)"
                         " DEFERRABLE INITIALLY DEFERRED);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  store->put_enrolment(alice());
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO temp.child VALUES (1)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_FALSE(store->commit());
  EXPECT_EQ(sqlite3_get_autocommit(db), 0);
  EXPECT_TRUE(store->enrolment(alice().jid));
  store->put_enrolment(bob());

  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO temp.parent VALUES (1)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_TRUE(store->commit());
  store.reset();
  store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->enrolments().size(), 2u);
}

TEST_F(StoreTest, AWriteRefusedForGoodIsDroppedAndDoesNotBlockTheOthers) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  ASSERT_EQ(sqlite3_exec(store->native_handle(),
                         "CREATE TEMP TRIGGER poison BEFORE INSERT ON main.enrolments"
                         " WHEN NEW.jid = 'poison@x' BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  store->put_enrolment(alice());
  Enrolment poison = bob();
  poison.jid = "poison@x";
  store->put_enrolment(poison);
  store->put_enrolment(bob());
  EXPECT_EQ(store->dropped_writes(), 1u);
  EXPECT_NE(store->last_error().find("poisoned"), std::string::npos) << store->last_error();
  EXPECT_TRUE(store->commit());
  store.reset();
  store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->enrolments().size(), 2u);
  EXPECT_FALSE(store->enrolment("poison@x"));
}

}  // namespace
}  // namespace concierge::store
