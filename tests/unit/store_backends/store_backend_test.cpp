// SPDX-License-Identifier: MIT
// The storage port's guarantees, run against every backend (SQLite and PostgreSQL) through one
// factory per backend. Backend-specific behaviour (SQLite's files, locks and damage;
// PostgreSQL's lost connections and schemas) has tests of its own.
#include <component/store/pg_store.hpp>
#include <component/store/sqlite_store.hpp>

#include <array>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <variant>

#include <gtest/gtest.h>
#include <unistd.h>

#include <tests/support/postgres/pg_server.hpp>

namespace concierge::core {
static bool operator==(const SubscriptionState& a, const SubscriptionState& b) {
  return a.jid == b.jid && a.asked == b.asked && a.to == b.to && a.from == b.from;
}
static bool operator==(const ProxySubscription& a, const ProxySubscription& b) {
  return a.target == b.target && a.subscriber == b.subscriber;
}
static bool operator==(const UserSetting& a, const UserSetting& b) {
  return a.jid == b.jid && a.key == b.key && a.value == b.value;
}
static bool operator==(const Enrolment& a, const Enrolment& b) {
  return a.jid == b.jid && a.timezone == b.timezone && a.calendar_url == b.calendar_url &&
         a.enrolled_at == b.enrolled_at;
}
static bool operator==(const Hold& a, const Hold& b) {
  return a.id == b.id && a.sender == b.sender && a.target == b.target && a.stanza == b.stanza &&
         a.stanza_id == b.stanza_id && a.received == b.received && a.reason == b.reason &&
         a.state == b.state && a.sent_at == b.sent_at;
}
static void PrintTo(const Hold& h, std::ostream* os) {
  *os << "Hold{" << h.id << ", " << h.sender << " -> " << h.target << ", reason "
      << static_cast<int>(h.reason) << ", state " << static_cast<int>(h.state) << ", "
      << h.stanza.size() << " bytes}";
}
}  // namespace concierge::core

namespace concierge::store {
namespace {

namespace fs = std::filesystem;
using core::Hold;
using core::Instant;

using StorePtr = std::unique_ptr<core::Store>;

// Makes stores of one backend: fresh() picks a new, empty place (a file; a schema), open()
// opens (again) the store there, as a restart would.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual void fresh() = 0;
  virtual std::variant<StorePtr, std::string> open() = 0;
};

class SqliteBackend final : public Backend {
 public:
  ~SqliteBackend() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  void fresh() override {
    std::array<char, 64> name{};
    std::string("/tmp/concierge-store-XXXXXX").copy(name.data(), name.size() - 1);
    if (mkdtemp(name.data()) != nullptr) dir_ = name.data();
  }
  std::variant<StorePtr, std::string> open() override {
    auto opened = SqliteStore::open(dir_ + "/concierge.db");
    if (auto* error = std::get_if<std::string>(&opened)) return *error;
    return StorePtr(std::get<std::unique_ptr<SqliteStore>>(std::move(opened)));
  }

 private:
  std::string dir_;
};

class PgBackend final : public Backend {
 public:
  void fresh() override { url_ = test::PgServer::instance().fresh_schema_url(); }
  std::variant<StorePtr, std::string> open() override {
    auto opened = PgStore::open(url_, test::PgServer::password());
    if (auto* error = std::get_if<std::string>(&opened)) return *error;
    return StorePtr(std::get<std::unique_ptr<PgStore>>(std::move(opened)));
  }

 private:
  std::string url_;
};

class StorePortTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "PostgreSQL") {
      ASSERT_TRUE(test::PgServer::instance().error().empty())
          << "no PostgreSQL server: " << test::PgServer::instance().error();
      backend_ = std::make_unique<PgBackend>();
    } else {
      backend_ = std::make_unique<SqliteBackend>();
    }
    backend_->fresh();
  }
  StorePtr open_ok() {
    auto opened = backend_->open();
    if (auto* error = std::get_if<std::string>(&opened)) {
      ADD_FAILURE() << "open failed: " << *error;
      return nullptr;
    }
    return std::get<StorePtr>(std::move(opened));
  }
  std::unique_ptr<Backend> backend_;
};

core::Enrolment alice() {
  return {.jid = "alice@example.org",
          .timezone = "Europe/Berlin",
          .calendar_url = "https://cal.example.org/alice.ics?token=secret",
          .enrolled_at = Instant{core::Duration{1'780'000'000'123}}};
}

core::Enrolment bob() {
  return {.jid = "bob@example.org",
          .timezone = "America/New_York",
          .calendar_url = "",
          .enrolled_at = Instant{core::Duration{1'780'000'999'000}}};
}

Hold hold(std::int64_t id, core::HoldReason reason = core::HoldReason::queue) {
  const std::string stanza_id = "m" + std::to_string(id);
  return {.id = id,
          .sender = "alice@example.org",
          .target = "bob@example.org",
          .stanza = "<message to=\"bob@example.org\" id=\"" + stanza_id +
                    "\"><body>Grüße &amp; 'quotes' \"too\" \u2014 $1 ?1 " + std::to_string(id) +
                    "</body></message>",
          .stanza_id = stanza_id,
          .received = Instant{core::Duration{1'780'000'000'000 + id}},
          .reason = reason,
          .state = core::HoldState::held,
          .sent_at = Instant{}};
}

TEST_P(StorePortTest, EnrolmentsRoundTripSortedByJidAndReplaceOnPut) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->enrolments().empty());
  store->put_enrolment(bob());
  store->put_enrolment(alice());
  EXPECT_EQ(store->enrolments(), (std::vector{alice(), bob()}));
  core::Enrolment moved = alice();
  moved.timezone = "Asia/Tokyo";
  store->put_enrolment(moved);
  EXPECT_EQ(store->enrolment("alice@example.org"), moved);
  EXPECT_EQ(store->enrolment("carol@example.org"), std::nullopt);
  EXPECT_EQ(store->enrolments().size(), 2U);
}

TEST_P(StorePortTest, SubscriptionsProxySubscriptionsAndSettingsRoundTrip) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  const core::SubscriptionState all{"alice@example.org", true, true, true};
  const core::SubscriptionState none{"bob@example.org", false, false, false};
  const core::SubscriptionState asked{"carol@example.org", true, false, true};
  store->put_subscription(asked);
  store->put_subscription(all);
  store->put_subscription(none);
  EXPECT_EQ(store->subscriptions(), (std::vector{all, none, asked}));
  store->remove_subscription("bob@example.org");
  EXPECT_EQ(store->subscriptions(), (std::vector{all, asked}));

  const core::ProxySubscription p{"bob@example.org", "alice@example.org"};
  store->add_proxy_subscription(p);
  store->add_proxy_subscription(p);  // idempotent
  EXPECT_EQ(store->proxy_subscriptions(), std::vector{p});
  store->remove_proxy_subscription(p);
  EXPECT_TRUE(store->proxy_subscriptions().empty());

  store->put_setting({"alice@example.org", "privacy", "wait"});
  store->put_setting({"alice@example.org", "privacy", "none"});
  store->put_setting({"alice@example.org", "block:eve@example.org", "1"});
  const std::vector<core::UserSetting> expected = {
      {"alice@example.org", "block:eve@example.org", "1"},
      {"alice@example.org", "privacy", "none"}};
  EXPECT_EQ(store->settings(), expected);
  store->remove_setting("alice@example.org", "privacy");
  EXPECT_EQ(store->settings().size(), 1U);
  ASSERT_TRUE(store->commit()) << store->commit_error();
}

TEST_P(StorePortTest, LoadingRowByRowHandsOverEveryRowSortedUncommittedWritesIncluded) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  store->put_enrolment(bob());
  store->put_subscription({"bob@example.org", true, true, false});
  store->put_setting({"bob@example.org", "hours", "Mon-Fri 09:00-17:00"});
  ASSERT_TRUE(store->commit()) << store->commit_error();
  store->put_enrolment(alice());  // not committed yet: a read sees it all the same
  store->put_subscription({"alice@example.org", true, false, false});
  store->put_setting({"alice@example.org", "privacy", "none"});
  store->put_setting({"alice@example.org", "hours", "Sat 10:00-12:00"});

  std::vector<core::Enrolment> enrolments;
  EXPECT_TRUE(store->each_enrolment([&](core::Enrolment&& e) { enrolments.push_back(e); }));
  EXPECT_EQ(enrolments, (std::vector{alice(), bob()}));
  std::vector<core::SubscriptionState> subscriptions;
  EXPECT_TRUE(store->each_subscription(
      [&](core::SubscriptionState&& s) { subscriptions.push_back(s); }));
  EXPECT_EQ(subscriptions, (std::vector<core::SubscriptionState>{
                               {"alice@example.org", true, false, false},
                               {"bob@example.org", true, true, false}}));
  std::vector<core::UserSetting> settings;
  EXPECT_TRUE(store->each_setting([&](core::UserSetting&& s) { settings.push_back(s); }));
  EXPECT_EQ(settings, (std::vector<core::UserSetting>{
                          {"alice@example.org", "hours", "Sat 10:00-12:00"},
                          {"alice@example.org", "privacy", "none"},
                          {"bob@example.org", "hours", "Mon-Fri 09:00-17:00"}}));
  EXPECT_EQ(settings, store->settings());  // the vector form reads the same rows
}

TEST_P(StorePortTest, RemoveEnrolmentRemovesItsSubscriptionSettingsAndProxySubscriptionsToIt) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  store->put_enrolment(alice());
  store->put_enrolment(bob());
  store->put_subscription({"alice@example.org", true, true, true});
  store->put_setting({"alice@example.org", "privacy", "none"});
  store->add_proxy_subscription({"alice@example.org", "bob@example.org"});
  store->add_proxy_subscription({"bob@example.org", "alice@example.org"});
  store->remove_enrolment("alice@example.org");
  ASSERT_TRUE(store->commit()) << store->commit_error();
  EXPECT_EQ(store->enrolments(), std::vector{bob()});
  EXPECT_TRUE(store->subscriptions().empty());
  EXPECT_TRUE(store->settings().empty());
  EXPECT_EQ(store->proxy_subscriptions(),
            (std::vector<core::ProxySubscription>{{"bob@example.org", "alice@example.org"}}));
}

TEST_P(StorePortTest, HoldsRoundTripEveryFieldInIdOrderAndReplaceAndRemoveById) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  Hold sent = hold(2, core::HoldReason::busy);
  sent.state = core::HoldState::sent;
  sent.sent_at = Instant{core::Duration{1'780'000'500'000}};
  Hold unknown = hold(1);
  unknown.reason = static_cast<core::HoldReason>(9);  // a later build's reason survives
  store->put_hold(hold(3, core::HoldReason::off_hours));
  store->put_hold(sent);
  store->put_hold(unknown);
  ASSERT_TRUE(store->commit()) << store->commit_error();
  EXPECT_EQ(store->holds(), (std::vector{unknown, sent, hold(3, core::HoldReason::off_hours)}));

  Hold replaced = hold(3, core::HoldReason::away);
  replaced.target = "pool-member@example.org";
  store->put_hold(replaced);
  store->remove_hold(2);
  store->remove_hold(42);  // absent: nothing happens
  ASSERT_TRUE(store->commit()) << store->commit_error();
  EXPECT_EQ(store->holds(), (std::vector{unknown, replaced}));
}

TEST_P(StorePortTest, CommittedWritesSurviveReopenAndUncommittedOnesAreLostLikeInACrash) {
  {
    auto store = open_ok();
    ASSERT_NE(store, nullptr);
    store->put_enrolment(alice());
    store->put_hold(hold(1));
    ASSERT_TRUE(store->commit()) << store->commit_error();
    store->put_enrolment(bob());
    store->put_hold(hold(2));
    store->remove_hold(1);
    // Reads see the writes of the open transaction.
    EXPECT_EQ(store->holds(), std::vector{hold(2)});
    EXPECT_EQ(store->enrolments().size(), 2U);
  }  // dropped without commit()
  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->enrolments(), std::vector{alice()});
  EXPECT_EQ(reopened->holds(), std::vector{hold(1)});
}

TEST_P(StorePortTest, AGroupCommitMakesEveryWriteOfTheTurnDurableTogether) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  for (std::int64_t id = 1; id <= 50; ++id) store->put_hold(hold(id));
  ASSERT_TRUE(store->commit()) << store->commit_error();
  EXPECT_TRUE(store->commit());  // nothing pending: still true
  auto second = open_ok();       // another connection, as after a restart
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->holds().size(), 50U);
}

// Several instances share one store only on PostgreSQL (the standby, DESIGN §10). An SQLite
// file belongs to one process; two opening a new file at the same instant may be told "database
// is locked" by SQLite's WAL switch, which is not a case Concierge supports.
TEST_P(StorePortTest, ConcurrentOpensMigrateOnceAndBothWork) {
  if (GetParam() != std::string("PostgreSQL")) GTEST_SKIP() << "one process per SQLite file";
  std::array<std::variant<StorePtr, std::string>, 3> opened;
  {
    std::array<std::thread, 3> threads;
    for (std::size_t i = 0; i < threads.size(); ++i) {
      threads[i] = std::thread([&, i] { opened[i] = backend_->open(); });
    }
    for (auto& t : threads) t.join();
  }
  for (auto& o : opened) {
    ASSERT_TRUE(std::holds_alternative<StorePtr>(o)) << std::get<std::string>(o);
  }
  auto& first = std::get<StorePtr>(opened[0]);
  first->put_hold(hold(7));
  ASSERT_TRUE(first->commit()) << first->commit_error();
  EXPECT_EQ(std::get<StorePtr>(opened[2])->holds(), std::vector{hold(7)});
}

INSTANTIATE_TEST_SUITE_P(Backends, StorePortTest, ::testing::Values("SQLite", "PostgreSQL"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace concierge::store
