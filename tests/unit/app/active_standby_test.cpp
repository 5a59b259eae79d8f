// SPDX-License-Identifier: MIT
// ActiveStandby: what the lease means for the loop — take over a granted epoch once, fence when
// it runs out, moves on or a commit finds the store taken — driven by a real LeaseKeeper over a
// scripted backend, with the loop's instants passed in (no sleeps: the test waits for the
// keeper's change callback).
#include <component/app/active_standby.hpp>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using Kind = store::LeaseAnswer::Kind;

// Grants epoch 7 to whoever asks, until told the database is gone.
class GrantingLease final : public store::LeaseBackend {
 public:
  store::LeaseAnswer acquire(const std::string&, std::chrono::milliseconds) override {
    return {Kind::granted, 7, ""};
  }
  store::LeaseAnswer renew(const std::string&, std::int64_t epoch,
                           std::chrono::milliseconds) override {
    return {Kind::granted, epoch, ""};
  }
  void release(const std::string&, std::int64_t) override {}
};

class ActiveStandbyTest : public ::testing::Test {
 protected:
  ActiveStandbyTest() {
    sink_ = open_memstream(&buffer_, &size_);
    log_ = std::make_unique<Logger>(LogLevel::debug, sink_);
  }
  ~ActiveStandbyTest() override {
    keeper_.reset();
    std::fclose(sink_);
    std::free(buffer_);
  }
  // A keeper that holds epoch 7; returns once the loop would have been woken for it.
  void lease_granted(ActiveStandby& role) {
    keeper_ =
        std::make_unique<LeaseKeeper>(std::make_unique<GrantingLease>(), "this-instance",
                                      LeaseTimings{.term = 60s, .margin = 1s, .renew_every = 30s});
    auto granted = std::make_shared<std::promise<void>>();
    auto once = std::make_shared<std::once_flag>();
    role.use(*keeper_, [granted, once] { std::call_once(*once, [&] { granted->set_value(); }); });
    ASSERT_EQ(granted->get_future().wait_for(10s), std::future_status::ready);
  }
  std::string log() {
    std::fflush(sink_);
    return std::string(buffer_, size_);
  }

  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* sink_ = nullptr;
  std::unique_ptr<Logger> log_;
  std::unique_ptr<LeaseKeeper> keeper_;
};

TEST_F(ActiveStandbyTest, WithoutALeaseTheInstanceIsAlwaysActive) {
  ActiveStandby role(*log_);
  EXPECT_FALSE(role.shared());
  EXPECT_FALSE(role.standby());
  const auto change = role.check(LeaseKeeper::Clock::now(), true, false);
  EXPECT_FALSE(change.fenced);
  EXPECT_FALSE(change.take_over);
}

TEST_F(ActiveStandbyTest, AGrantedEpochIsTakenOverOnceAndHeldUntilItRunsOut) {
  ActiveStandby role(*log_);
  lease_granted(role);
  EXPECT_TRUE(role.standby());
  const auto now = LeaseKeeper::Clock::now();
  const auto first = role.check(now, false, false);
  ASSERT_TRUE(first.take_over);
  EXPECT_EQ(*first.take_over, 7);
  EXPECT_FALSE(first.fenced);
  role.activate(7);
  EXPECT_FALSE(role.standby());
  ASSERT_TRUE(role.valid_until());
  EXPECT_GT(*role.valid_until(), now);

  const auto again = role.check(now, false, false);  // the same epoch: nothing to do
  EXPECT_FALSE(again.take_over);
  EXPECT_FALSE(again.fenced);

  // The loop's clock passes the end of the term (the keeper renews only every 30 s).
  const auto late = role.check(*role.valid_until() + 1ms, false, false);
  ASSERT_TRUE(late.fenced);
  EXPECT_EQ(*late.fenced, "the lease was not renewed in time");
  EXPECT_FALSE(late.take_over);
  EXPECT_TRUE(role.standby());
  EXPECT_NE(log().find("fenced: the lease was not renewed in time; dropping the stream (lease "
                       "epoch 7) and standing by"),
            std::string::npos);
  // Epoch 7 was this instance's once: it is not taken over again.
  EXPECT_FALSE(role.check(now, false, false).take_over);
}

TEST_F(ActiveStandbyTest, ACommitThatFindsTheStoreTakenFencesAtOnce) {
  ActiveStandby role(*log_);
  lease_granted(role);
  const auto now = LeaseKeeper::Clock::now();
  role.activate(*role.check(now, false, false).take_over);
  EXPECT_FALSE(role.check(now, false, false).fenced);
  const auto change = role.check(now, true, false);
  ASSERT_TRUE(change.fenced);
  EXPECT_EQ(*change.fenced, "a commit found that another instance took over the store");
  EXPECT_TRUE(role.standby());
}

TEST_F(ActiveStandbyTest, AStoppingInstanceTakesNothingOver) {
  ActiveStandby role(*log_);
  lease_granted(role);
  const auto now = LeaseKeeper::Clock::now();
  EXPECT_FALSE(role.check(now, false, true).take_over);
  EXPECT_TRUE(role.check(now, false, false).take_over);  // the same lease, not stopping
}

}  // namespace
}  // namespace concierge::app
