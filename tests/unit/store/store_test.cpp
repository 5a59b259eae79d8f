// SPDX-License-Identifier: MIT
// The SQLite store: what goes in comes back — enrolments, subscriptions, holds, users' settings.
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
