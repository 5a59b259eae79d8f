// SPDX-License-Identifier: MIT
// Service under a store lease (DESIGN §10) against the fake XEP-0114 server, with an in-memory
// lease the test grants, refuses or makes unreachable; and the connection policy that goes with
// a takeover: <conflict/> is retried, a cluster's nodes (component.hosts) are tried in turn.
#include <component/app/service.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include <tests/support/fake_server.hpp>
#include <tests/support/refusing_port.hpp>
#include <tests/support/running_service.hpp>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;
using Kind = store::LeaseAnswer::Kind;

// The lease row as the test sets it: who may have it, or no database at all.
class FakeLease final : public store::LeaseBackend {
 public:
  enum class Mode { free, taken, unreachable };
  explicit FakeLease(Mode mode) : mode_(mode) {}
  void set(Mode mode) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
  }
  store::LeaseAnswer acquire(const std::string&, std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    if (mode_ == Mode::free) return {Kind::granted, ++epoch_, ""};
    if (mode_ == Mode::taken) return {Kind::taken, 0, "other-instance"};
    return {Kind::unreachable, 0, "connection refused"};
  }
  store::LeaseAnswer renew(const std::string&, std::int64_t epoch,
                           std::chrono::milliseconds) override {
    std::lock_guard lock(mutex_);
    if (mode_ == Mode::free && epoch == epoch_) return {Kind::granted, epoch, ""};
    if (mode_ == Mode::unreachable) return {Kind::unreachable, 0, "connection refused"};
    return {Kind::taken, 0, "other-instance"};
  }
  void release(const std::string&, std::int64_t) override {}

 private:
  std::mutex mutex_;
  Mode mode_;
  std::int64_t epoch_ = 0;
};

config::Config make_config(std::vector<config::Component::Endpoint> hosts) {
  config::Config c;
  c.file = "test.toml";
  c.component.jid = "sched.localhost";
  c.component.secret = "s3cr3t";
  c.component.hosts = std::move(hosts);
  c.served.domains = {"localhost"};
  return c;
}

constexpr LeaseTimings kLease{.term = 600ms, .margin = 200ms, .renew_every = 50ms};


// The service under a lease from `lease` (none when null); the lease is let go once the service
// has stopped.
class Running {
 public:
  Running(config::Config config, FakeLease* lease)
      : keeper_(lease != nullptr
                    ? std::make_unique<LeaseKeeper>(std::make_unique<Forward>(*lease), "me", kLease)
                    : nullptr),
        service_(std::move(config), testing::fast_loop_timings(), "unused.toml", nullptr,
                 keeper_.get()) {}
  ~Running() {
    if (service_.running()) stop();
  }
  std::optional<int> exited_within(std::chrono::milliseconds timeout) {
    return service_.wait_exit(timeout);
  }
  int stop() {
    const int code = service_.stop();
    if (keeper_) keeper_->release();
    return code;
  }
  std::string log() { return service_.log(); }  // after stop()

 private:
  // The keeper owns its backend; the test keeps the FakeLease.
  struct Forward final : store::LeaseBackend {
    explicit Forward(FakeLease& l) : lease(l) {}
    store::LeaseAnswer acquire(const std::string& h, std::chrono::milliseconds t) override {
      return lease.acquire(h, t);
    }
    store::LeaseAnswer renew(const std::string& h, std::int64_t e,
                             std::chrono::milliseconds t) override {
      return lease.renew(h, e, t);
    }
    void release(const std::string& h, std::int64_t e) override { lease.release(h, e); }
    FakeLease& lease;
  };

  std::unique_ptr<LeaseKeeper> keeper_;  // outlives the service
  testing::RunningService service_;
};

class LeaseServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Service::block_signals(); }
  FakeServer server{"sched.localhost", "s3cr3t"};
  config::Config config() { return make_config({{"127.0.0.1", server.port()}}); }
};

TEST_F(LeaseServiceTest, AStandbyConnectsOnlyOnceItHoldsTheLease) {
  FakeLease lease(FakeLease::Mode::taken);
  Running service(config(), &lease);
  EXPECT_FALSE(server.wait_connected(800ms)) << "another instance holds the lease";
  EXPECT_EQ(server.connections(), 0);
  lease.set(FakeLease::Mode::free);  // it ran out
  EXPECT_TRUE(server.wait_connected(3s));
  EXPECT_EQ(service.stop(), 0);
  const std::string log = service.log();
  EXPECT_NE(log.find("standby: the store's lease is held by other-instance"), std::string::npos)
      << log;
  EXPECT_NE(log.find("took over the store's lease (epoch 1)"), std::string::npos) << log;
}

TEST_F(LeaseServiceTest, TheActiveDropsItsStreamWhenItCannotRenewAndComesBackByItself) {
  FakeLease lease(FakeLease::Mode::free);
  Running service(config(), &lease);
  ASSERT_TRUE(server.wait_connected(3s));
  EXPECT_FALSE(server.wait_disconnected(500ms)) << "renewed: it stays";
  lease.set(FakeLease::Mode::unreachable);  // the database is gone
  const auto cut = std::chrono::steady_clock::now();
  ASSERT_TRUE(server.wait_disconnected(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - cut, kLease.term) << "before the lease runs out";
  EXPECT_FALSE(server.wait_connected(500ms)) << "no reconnect without the lease";
  lease.set(FakeLease::Mode::free);  // the database is back
  EXPECT_TRUE(server.wait_connected(3s));
  EXPECT_EQ(server.handshakes_accepted(), 2);
  EXPECT_EQ(service.stop(), 0);
  const std::string log = service.log();
  EXPECT_NE(log.find("does not answer the lease (connection refused)"), std::string::npos) << log;
  EXPECT_NE(log.find("fenced: the lease could not be renewed in time"), std::string::npos) << log;
  EXPECT_NE(log.find("answers the lease again"), std::string::npos) << log;
  EXPECT_NE(log.find("(epoch 2)"), std::string::npos) << "a new term, a new epoch: " << log;
}

TEST_F(LeaseServiceTest, AConflictIsRetriedNeverFatal) {
  server.set_mode(FakeServer::Mode::conflict);  // another stream holds the domain
  Running service(config(), nullptr);
  const auto deadline = std::chrono::steady_clock::now() + 20s;  // generous for a loaded ASan run
  while (server.connections() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // polling an observable counter, bounded
  }
  EXPECT_GE(server.connections(), 3);
  EXPECT_FALSE(service.exited_within(0ms)) << "still running, not exit 2";
  server.set_mode(FakeServer::Mode::accept);  // the old stream went
  EXPECT_TRUE(server.wait_connected(5s));
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("(conflict)"), std::string::npos);
}

TEST_F(LeaseServiceTest, AClustersNodesAreTriedInTurn) {
  const testing::RefusingPort refusing;
  const std::uint16_t dead = refusing.port();
  Running service(make_config({{"127.0.0.1", dead}, {"127.0.0.1", server.port()}}), nullptr);
  EXPECT_TRUE(server.wait_connected(5s));
  EXPECT_EQ(service.stop(), 0);
  const std::string log = service.log();
  EXPECT_NE(log.find("could not connect to 127.0.0.1:" + std::to_string(dead)), std::string::npos)
      << log;
  EXPECT_NE(log.find("connected to 127.0.0.1:" + std::to_string(server.port())), std::string::npos)
      << log;
}

}  // namespace
}  // namespace concierge::app
