// SPDX-License-Identifier: MIT
#include <component/store/schema.hpp>
#include <component/store/sqlite_store.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

// For EXPECT_EQ, found by argument-dependent lookup; internal to this test.
namespace concierge::core {
static bool operator==(const SubscriptionState& a, const SubscriptionState& b) {
  return a.jid == b.jid && a.asked == b.asked && a.to == b.to && a.from == b.from;
}
static bool operator==(const ProxySubscription& a, const ProxySubscription& b) {
  return a.target == b.target && a.subscriber == b.subscriber;
}
static bool operator==(const Hold& a, const Hold& b) {
  return a.id == b.id && a.sender == b.sender && a.target == b.target && a.stanza == b.stanza &&
         a.stanza_id == b.stanza_id && a.received == b.received && a.reason == b.reason &&
         a.state == b.state && a.sent_at == b.sent_at;
}
// Printed by gtest when an expectation on holds fails.
static void PrintTo(const Hold& h, std::ostream* os) {
  *os << "Hold{" << h.id << ", " << h.sender << " -> " << h.target << ", stanza_id " << h.stanza_id
      << ", received " << h.received.time_since_epoch().count() << ", reason "
      << static_cast<int>(h.reason) << ", state " << static_cast<int>(h.state) << ", sent_at "
      << h.sent_at.time_since_epoch().count() << ", " << h.stanza.size() << " bytes}";
}
}  // namespace concierge::core

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

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::array<char, 64> name{};
    std::string("/tmp/concierge-store-XXXXXX").copy(name.data(), name.size() - 1);
    if (mkdtemp(name.data()) != nullptr) path_ = name.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A plain SQLite connection for preparing and inspecting files behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  bool exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string value = "<error>";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(stmt, 0);
      value = t == nullptr ? "" : reinterpret_cast<const char*>(t);
    }
    sqlite3_finalize(stmt);
    return value;
  }
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

using StorePtr = std::unique_ptr<SqliteStore>;

StorePtr open_ok(const std::string& path, SqliteStore::Options options = {}) {
  auto opened = SqliteStore::open(path, options);
  if (const auto* error = std::get_if<std::string>(&opened)) {
    ADD_FAILURE() << "open failed: " << *error;
    return nullptr;
  }
  return std::move(std::get<StorePtr>(opened));
}

std::string open_error(const std::string& path) {
  auto opened = SqliteStore::open(path);
  if (const auto* error = std::get_if<std::string>(&opened)) return *error;
  ADD_FAILURE() << "open of " << path << " succeeded";
  return {};
}

Enrolment alice() {
  return {.jid = "alice@example.org",
          .timezone = "Europe/Berlin",
          .calendar_url = "https://cal.example.org/alice.ics?token=secret",
          .enrolled_at = Instant{core::Duration{1'780'000'000'123}}};
}

Enrolment bob() {
  return {.jid = "bob@example.org",
          .timezone = "America/New_York",
          .calendar_url = "",
          .enrolled_at = Instant{core::Duration{1'780'000'999'000}}};
}

// A message as the core would hold it: alice's words to bob, relayed from alice's proxy.
Hold hold(std::int64_t id, HoldReason reason = HoldReason::queue) {
  const std::string stanza_id = "m" + std::to_string(id);
  return {.id = id,
          .sender = "alice@example.org",
          .target = "bob@example.org",
          .stanza =
              "<message xmlns=\"jabber:component:accept\""
              " from=\"alice\\40example.org@concierge.example.org\""
              " to=\"bob@example.org\" type=\"chat\" id=\"" +
              stanza_id + "\"><body>Grüße &amp; \"quotes\" \u2014 " + std::to_string(id) +
              "</body><origin-id xmlns=\"urn:xmpp:sid:0\" id=\"o" + stanza_id + "\"/></message>",
          .stanza_id = stanza_id,
          .received = Instant{core::Duration{1'780'000'000'000 + id}},
          .reason = reason,
          .state = HoldState::held,
          .sent_at = Instant{}};
}

void expect_same(const Enrolment& a, const Enrolment& b) {
  EXPECT_EQ(a.jid, b.jid);
  EXPECT_EQ(a.timezone, b.timezone);
  EXPECT_EQ(a.calendar_url, b.calendar_url);
  EXPECT_EQ(a.enrolled_at, b.enrolled_at);
}

class StoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.file("concierge.db");
};

// --- Round trips -------------------------------------------------------------------------

TEST_F(StoreTest, EnrolmentsRoundTripSortedByJidAndReplaceOnPut) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->enrolments().empty());
  EXPECT_FALSE(store->enrolment("alice@example.org"));

  store->put_enrolment(bob());
  store->put_enrolment(alice());
  auto all = store->enrolments();
  ASSERT_EQ(all.size(), 2u);
  expect_same(all[0], alice());
  expect_same(all[1], bob());
  ASSERT_TRUE(store->enrolment("bob@example.org"));
  expect_same(*store->enrolment("bob@example.org"), bob());

  Enrolment moved = alice();
  moved.timezone = "Asia/Tokyo";
  moved.calendar_url = "";
  store->put_enrolment(moved);
  ASSERT_EQ(store->enrolments().size(), 2u);
  expect_same(*store->enrolment("alice@example.org"), moved);

  store->remove_enrolment("bob@example.org");
  EXPECT_FALSE(store->enrolment("bob@example.org"));
  EXPECT_EQ(store->enrolments().size(), 1u);
  store->remove_enrolment("nobody@example.org");  // a no-op, not an error
  EXPECT_TRUE(store->commit());
  EXPECT_EQ(store->pending_writes(), 0u);
}

TEST_F(StoreTest, SubscriptionsRoundTripEveryFlag) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  const std::vector<SubscriptionState> states = {
      {.jid = "a@x", .asked = true, .to = false, .from = false},
      {.jid = "b@x", .asked = false, .to = true, .from = false},
      {.jid = "c@x", .asked = false, .to = false, .from = true},
      {.jid = "d@x", .asked = true, .to = true, .from = true},
      {.jid = "e@x", .asked = false, .to = false, .from = false},
  };
  for (auto it = states.rbegin(); it != states.rend(); ++it) store->put_subscription(*it);
  EXPECT_EQ(store->subscriptions(), states);

  store->put_subscription({.jid = "a@x", .asked = true, .to = true, .from = true});  // duplicate
  store->remove_subscription("e@x");
  store->remove_subscription("nobody@x");
  ASSERT_TRUE(store->commit());
  const auto after = store->subscriptions();
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[0], (SubscriptionState{.jid = "a@x", .asked = true, .to = true, .from = true}));
  EXPECT_EQ(after[3], states[3]);
}

TEST_F(StoreTest, ProxySubscriptionsRoundTripAndAddIsIdempotent) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  store->add_proxy_subscription({.target = "bob@x", .subscriber = "carol@x"});
  store->add_proxy_subscription({.target = "alice@x", .subscriber = "dave@x"});
  store->add_proxy_subscription({.target = "bob@x", .subscriber = "carol@x"});  // clients repeat
  store->add_proxy_subscription({.target = "bob@x", .subscriber = "alice@x"});
  EXPECT_EQ(store->proxy_subscriptions(),
            (std::vector<ProxySubscription>{
                {"alice@x", "dave@x"}, {"bob@x", "alice@x"}, {"bob@x", "carol@x"}}));
  store->remove_proxy_subscription({.target = "bob@x", .subscriber = "carol@x"});
  store->remove_proxy_subscription({.target = "bob@x", .subscriber = "nobody@x"});
  EXPECT_TRUE(store->commit());
  EXPECT_EQ(store->proxy_subscriptions(),
            (std::vector<ProxySubscription>{{"alice@x", "dave@x"}, {"bob@x", "alice@x"}}));
}

TEST_F(StoreTest, RemoveEnrolmentRemovesItsSubscriptionAndTheProxySubscriptionsToIt) {
  {
    auto store = open_ok(path_);
    ASSERT_TRUE(store);
    store->put_enrolment(alice());
    store->put_enrolment(bob());
    store->put_subscription({.jid = alice().jid, .asked = true, .to = true, .from = true});
    store->put_subscription({.jid = bob().jid, .asked = true, .to = true, .from = false});
    store->add_proxy_subscription({.target = alice().jid, .subscriber = "carol@x"});
    store->add_proxy_subscription({.target = alice().jid, .subscriber = bob().jid});
    store->add_proxy_subscription({.target = bob().jid, .subscriber = alice().jid});
    ASSERT_TRUE(store->commit());
    store->remove_enrolment(alice().jid);
    ASSERT_TRUE(store->commit());
  }
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->enrolment(alice().jid));
  ASSERT_EQ(store->subscriptions().size(), 1u);
  EXPECT_EQ(store->subscriptions()[0].jid, bob().jid);
  // alice's own subscription to bob's proxy is bob's data, not hers: the port removes only the
  // proxy subscriptions *to* the removed user.
  EXPECT_EQ(store->proxy_subscriptions(),
            (std::vector<ProxySubscription>{{bob().jid, alice().jid}}));
}

TEST_F(StoreTest, HoldsRoundTripEveryFieldInIdOrder) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->holds().empty());

  const std::array reasons = {HoldReason::off_hours, HoldReason::away, HoldReason::busy,
                              HoldReason::offline, HoldReason::queue};
  std::vector<Hold> expected;
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    expected.push_back(hold(static_cast<std::int64_t>(i) + 1, reasons[i]));
  }
  Hold sent = hold(5'000'000'000, HoldReason::busy);  // past 32 bits
  sent.sender = "carol@other.example";
  sent.target = "pool@example.org";
  sent.stanza_id = "";
  sent.state = HoldState::sent;
  sent.sent_at = Instant{core::Duration{1'780'000'123'456}};
  sent.received = Instant{core::Duration{-1}};  // before the epoch: still exact
  expected.push_back(sent);
  Hold big = hold(7);
  big.stanza = std::string(200'000, 'x');
  expected.insert(expected.begin() + 5, big);

  for (auto it = expected.rbegin(); it != expected.rend(); ++it) store->put_hold(*it);
  EXPECT_EQ(store->holds(), expected);  // before commit: reads see the writes
  ASSERT_TRUE(store->commit());
  EXPECT_EQ(store->holds(), expected);
  EXPECT_EQ(store->dropped_writes(), 0u);
}

TEST_F(StoreTest, PutHoldWithAnExistingIdReplacesItInPlace) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  store->put_hold(hold(1, HoldReason::busy));
  store->put_hold(hold(2, HoldReason::busy));
  ASSERT_TRUE(store->commit());

  Hold released = hold(1, HoldReason::busy);
  released.state = HoldState::sent;
  released.sent_at = Instant{core::Duration{1'780'000'500'000}};
  store->put_hold(released);
  Hold requeued = hold(2, HoldReason::queue);  // the release found the target busy again
  requeued.target = "carol@example.org";
  store->put_hold(requeued);
  EXPECT_EQ(store->holds(), (std::vector<Hold>{released, requeued}));
  ASSERT_TRUE(store->commit());
  EXPECT_EQ(store->holds(), (std::vector<Hold>{released, requeued}));

  // A bounce inside the confirm window puts it back on hold.
  store->put_hold(hold(1, HoldReason::offline));
  ASSERT_TRUE(store->commit());
  EXPECT_EQ(store->holds(), (std::vector<Hold>{hold(1, HoldReason::offline), requeued}));
}

TEST_F(StoreTest, RemoveHoldDeletesOnlyThatHold) {
  auto store = open_ok(path_);
  ASSERT_TRUE(store);
  for (std::int64_t id = 1; id <= 3; ++id) store->put_hold(hold(id));
  ASSERT_TRUE(store->commit());
  store->remove_hold(2);
  store->remove_hold(42);  // a no-op, not an error
  EXPECT_EQ(store->holds(), (std::vector<Hold>{hold(1), hold(3)}));
  ASSERT_TRUE(store->commit());
  store->remove_hold(1);
  store->put_hold(hold(4));
  ASSERT_TRUE(store->commit());
  EXPECT_EQ(store->holds(), (std::vector<Hold>{hold(3), hold(4)}));
  EXPECT_EQ(store->dropped_writes(), 0u);
}

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
            "enrolments,holds,lease,meta,proxy_subscriptions,subscriptions,user_settings");
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

namespace concierge::store {
namespace {

TEST(StoreSettings, UsersOwnSettingsRoundTripAndGoWithTheEnrolment) {
  char dir[] = "/tmp/concierge-settings-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/c.db";
  {
    auto opened = SqliteStore::open(path);
    auto& store = *std::get<std::unique_ptr<SqliteStore>>(opened);
    store.put_setting({"bob@x", "privacy", "wait"});
    store.put_setting({"bob@x", "block:eve@x", "1"});
    store.put_setting({"bob@x", "privacy", "none"});  // replaces
    store.put_setting({"carol@x", "privacy", "exact"});
    ASSERT_TRUE(store.commit());
  }
  {
    auto opened = SqliteStore::open(path);
    auto& store = *std::get<std::unique_ptr<SqliteStore>>(opened);
    auto all = store.settings();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].key, "block:eve@x");
    EXPECT_EQ(all[1].value, "none");
    store.remove_setting("bob@x", "block:eve@x");
    store.remove_enrolment("carol@x");
    ASSERT_TRUE(store.commit());
    all = store.settings();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].jid, "bob@x");
  }
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace concierge::store
