// SPDX-License-Identifier: MIT
// The store's lease on PostgreSQL (DESIGN §10): one holder at a time, a new epoch per term, and
// a store whose epoch is no longer current cannot commit.
#include <component/store/pg_lease.hpp>
#include <component/store/pg_store.hpp>

#include <string>
#include <variant>

#include <gtest/gtest.h>

#include <tests/support/postgres/pg_server.hpp>

namespace concierge::store {
namespace {

using namespace std::chrono_literals;
using Kind = LeaseAnswer::Kind;
using test::PgServer;

core::Hold hold(std::int64_t id) {
  return {.id = id,
          .sender = "alice@example.org",
          .target = "bob@example.org",
          .stanza = "<message><body>hi</body></message>",
          .stanza_id = "m" + std::to_string(id),
          .received = core::Instant{core::Duration{1'780'000'000'000 + id}},
          .reason = core::HoldReason::away,
          .state = core::HoldState::held,
          .sent_at = core::Instant{}};
}

class PgLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(PgServer::instance().error().empty())
        << "no PostgreSQL server: " << PgServer::instance().error();
    url_ = PgServer::instance().fresh_schema_url();
    schema_ = url_.substr(url_.rfind("%3D") + 3);
    first_ = open();  // migrates the schema, lease row included
    ASSERT_TRUE(first_);
  }
  std::unique_ptr<PgStore> open() {
    auto opened = PgStore::open(url_, PgServer::password());
    if (auto* error = std::get_if<std::string>(&opened)) {
      ADD_FAILURE() << "open failed: " << *error;
      return nullptr;
    }
    return std::get<std::unique_ptr<PgStore>>(std::move(opened));
  }
  // The database's clock moves past the current term (as if `term` had passed).
  void expire() { PgServer::instance().admin("UPDATE " + schema_ + ".lease SET expires_ms = 1"); }
  std::string admin(const std::string& sql) { return PgServer::instance().admin(sql); }

  std::string url_;
  std::string schema_;
  std::unique_ptr<PgStore> first_;
};

TEST_F(PgLeaseTest, OneHolderAtATimeEachTermWithANewEpoch) {
  PgLease a(url_, PgServer::password());
  PgLease b(url_, PgServer::password());
  const LeaseAnswer first = a.acquire("a", 60s);
  ASSERT_EQ(first.kind, Kind::granted) << first.detail;
  EXPECT_EQ(first.epoch, 1);
  const LeaseAnswer refused = b.acquire("b", 60s);
  EXPECT_EQ(refused.kind, Kind::taken);
  EXPECT_EQ(refused.detail, "a") << "the standby learns who is active";
  EXPECT_EQ(a.renew("a", 1, 60s).kind, Kind::granted);

  expire();
  const LeaseAnswer second = b.acquire("b", 60s);
  ASSERT_EQ(second.kind, Kind::granted) << second.detail;
  EXPECT_EQ(second.epoch, 2);
  EXPECT_EQ(a.renew("a", 1, 60s).kind, Kind::taken) << "the old holder cannot renew epoch 1";
  EXPECT_EQ(a.acquire("a", 60s).kind, Kind::taken) << "nor take a lease that has not run out";
  EXPECT_EQ(admin("SELECT epoch || ' ' || holder FROM " + schema_ + ".lease"), "2 b");
}

TEST_F(PgLeaseTest, ReleaseLetsAStandbyTakeOverAtOnce) {
  PgLease a(url_, PgServer::password());
  PgLease b(url_, PgServer::password());
  ASSERT_EQ(a.acquire("a", 60s).kind, Kind::granted);
  a.release("b-is-not-a", 1);  // only the holder's own release counts
  EXPECT_EQ(b.acquire("b", 60s).kind, Kind::taken);
  a.release("a", 1);
  const LeaseAnswer taken = b.acquire("b", 60s);
  EXPECT_EQ(taken.kind, Kind::granted);
  EXPECT_EQ(taken.epoch, 2);
}

TEST_F(PgLeaseTest, AHolderThatLostTrackOfItsTermStartsANewEpoch) {
  PgLease a(url_, PgServer::password());
  ASSERT_EQ(a.acquire("a", 60s).epoch, 1);
  const LeaseAnswer again = a.acquire("a", 60s);  // not run out yet, but its own
  EXPECT_EQ(again.kind, Kind::granted);
  EXPECT_EQ(again.epoch, 2);
}

TEST_F(PgLeaseTest, AStaleHoldersCommitFailsAndItsWritesNeverLand) {
  PgLease a(url_, PgServer::password());
  PgLease b(url_, PgServer::password());
  ASSERT_EQ(a.acquire("a", 60s).epoch, 1);
  first_->set_lease_epoch(1);
  first_->put_hold(hold(1));
  ASSERT_TRUE(first_->commit()) << first_->last_error();
  EXPECT_FALSE(first_->fenced());

  expire();
  ASSERT_EQ(b.acquire("b", 60s).epoch, 2);
  auto second = open();
  ASSERT_TRUE(second);
  second->set_lease_epoch(2);
  second->put_hold(hold(2));
  ASSERT_TRUE(second->commit()) << second->last_error();

  first_->put_hold(hold(3));  // the stale holder writes on
  EXPECT_FALSE(first_->commit());
  EXPECT_TRUE(first_->fenced());
  EXPECT_NE(first_->commit_error().find("fenced"), std::string::npos) << first_->commit_error();
  EXPECT_EQ(admin("SELECT string_agg(id::text, ',' ORDER BY id) FROM " + schema_ + ".holds"), "1,2");
  EXPECT_FALSE(first_->commit()) << "fenced stays fenced until it takes over a new epoch";

  // Taking over again (a new epoch) starts afresh: the stale writes are gone for good.
  expire();
  ASSERT_EQ(a.acquire("a", 60s).epoch, 3);
  first_->set_lease_epoch(3);
  EXPECT_FALSE(first_->fenced());
  first_->put_hold(hold(4));
  EXPECT_TRUE(first_->commit()) << first_->last_error();
  EXPECT_EQ(admin("SELECT string_agg(id::text, ',' ORDER BY id) FROM " + schema_ + ".holds"),
            "1,2,4");
}

TEST_F(PgLeaseTest, AnUnreachableDatabaseIsSaidSoNotTaken) {
  PgLease nowhere("postgresql://concierge@127.0.0.1:1/concierge?sslmode=disable&connect_timeout=2",
                  PgServer::password());
  const LeaseAnswer answer = nowhere.acquire("a", 60s);
  EXPECT_EQ(answer.kind, Kind::unreachable);
  EXPECT_FALSE(answer.detail.empty());
  EXPECT_EQ(answer.detail.find(PgServer::password()), std::string::npos);
}

}  // namespace
}  // namespace concierge::store
