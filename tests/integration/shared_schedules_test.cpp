// SPDX-License-Identifier: MIT
// Many users' schedules at startup and on reload (issue 12): users with the same zone and hours
// share one compile, the log has one summary line for the batch, and a reload still applies
// each user's own change.
#include <component/app/config_check.hpp>
#include <component/app/service.hpp>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <tests/support/fake_server.hpp>
#include <tests/support/running_service.hpp>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;

class SharedSchedulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Service::block_signals(); }
  void SetUp() override {
    char dir[] = "/tmp/concierge-shared-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/concierge.toml";
  }
  void TearDown() override {
    if (result_.valid()) {
      service_->request_stop();
      result_.wait();
    }
    service_.reset();
    if (sink_) std::fclose(sink_);  // the reader sees the end of the pipe
    if (reader_.joinable()) reader_.join();
    std::filesystem::remove_all(dir_);
  }

  // alice, bob and carol in `zones`, in that order, with `hours` (alice's: `alice_hours`).
  void write_config(const std::vector<std::string>& zones,
                    const std::string& alice_hours = kAllWeek) {
    std::ofstream f(path_);
    f << "[component]\njid = \"sched.localhost\"\nsecret = \"s3cr3t\"\nport = " << server.port()
      << "\n[served]\ndomains = [\"localhost\"]\n";
    const char* names[] = {"alice", "bob", "carol"};
    for (std::size_t i = 0; i < zones.size(); ++i) {
      f << "[users.\"" << names[i] << "@localhost\"]\ntimezone = \"" << zones[i] << "\"\nhours = \""
        << (i == 0 ? alice_hours : kAllWeek) << "\"\n";
    }
  }
  void start() {
    auto parsed = load_config(path_);
    ASSERT_TRUE(std::holds_alternative<config::Config>(parsed));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    sink_ = fdopen(fds[1], "w");
    std::setvbuf(sink_, nullptr, _IOLBF, 0);
    reader_ = std::thread([this, fd = fds[0]] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        std::lock_guard lock(log_mutex_);
        log_.append(buf, static_cast<std::size_t>(n));
      }
      ::close(fd);
    });
    logger_ = std::make_unique<Logger>(LogLevel::info, sink_);
    service_ = std::make_unique<Service>(std::get<config::Config>(std::move(parsed)), path_, store_,
                                         *logger_, testing::fast_loop_timings());
    result_ = std::async(std::launch::async, [this] { return service_->run(); });
    ASSERT_TRUE(server.wait_connected(5s));
  }
  std::string stop_and_log() {
    service_->request_stop();
    EXPECT_EQ(result_.wait_for(5s), std::future_status::ready);
    result_.get();
    return log();
  }
  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }
  // `user`'s answer to "status" once it contains `what` (the week view shows the compiled
  // schedule, in the user's zone); empty when it did not within 20 s (a bound for a loaded
  // machine: the answer normally comes within a second).
  std::string status_with(const std::string& user, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
      server.send("<message from=\"" + user + "/r\" to=\"sched.localhost\" type=\"chat\" id=\"s" +
                  std::to_string(i) + "\"><body>status</body></message>");
      const auto wait_until = std::chrono::steady_clock::now() + 500ms;
      while (std::chrono::steady_clock::now() < wait_until) {
        auto s = server.next_stanza(100ms);
        if (!s || s->name != "message" || !s->attr("to").starts_with(user)) continue;
        const std::string text = s->child_text("body").value_or("");
        if (text.find(what) != std::string::npos) return text;
      }
    }
    return {};
  }
  static std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  static constexpr const char* kAllWeek = "Mon-Sun 00:00-24:00";
  FakeServer server{"sched.localhost", "s3cr3t"};
  std::string dir_, path_;
  core::MemoryStore store_;
  std::FILE* sink_ = nullptr;  // line-buffered into a pipe, read into log_ by reader_
  std::thread reader_;
  std::mutex log_mutex_;
  std::string log_;
  std::unique_ptr<Logger> logger_;
  std::unique_ptr<Service> service_;
  std::future<int> result_;
};

TEST_F(SharedSchedulesTest, UsersWithTheSameZoneAndHoursShareOneCompileAndTheLogHasOneLine) {
  write_config({"Europe/Berlin", "Europe/Berlin", "Asia/Tokyo"});
  start();
  for (const char* user : {"alice@localhost", "bob@localhost", "carol@localhost"}) {
    EXPECT_NE(status_with(user, ": 00:00-24:00\n"), "") << user << "'s schedule is in force";
  }
  const std::string log = stop_and_log();
  EXPECT_EQ(count(log, "compiled schedules of 3 users (2 distinct) in "), 1u) << log;
  EXPECT_EQ(count(log, "compiled"), 1u) << "one line for the batch, none per user:\n" << log;
}

TEST_F(SharedSchedulesTest, AReloadStillAppliesEachUsersOwnChange) {
  write_config({"Europe/Berlin", "Europe/Berlin", "Asia/Tokyo"});
  start();
  ASSERT_NE(status_with("alice@localhost", ": 00:00-24:00\n"), "");
  // alice changes her hours; carol moves to bob's zone (and so to his schedule).
  write_config({"Europe/Berlin", "Europe/Berlin", "Europe/Berlin"}, "Mon-Sun 08:00-20:00");
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  EXPECT_NE(status_with("alice@localhost", ": 08:00-20:00\n"), "");
  EXPECT_NE(status_with("bob@localhost", ": 00:00-24:00\n"), "");
  EXPECT_NE(status_with("carol@localhost", "(Europe/Berlin):\n"), "");
  // The summary line of the reload's batch comes once the queue is empty: wait for it (bounded).
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  auto logged = [&] { return count(log(), "compiled schedules of") >= 2; };
  while (!logged() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  const std::string log = stop_and_log();
  EXPECT_EQ(count(log, "compiled schedules of 3 users (2 distinct) in "), 1u) << log;
  // Only alice's new hours needed the worker: bob's and carol's schedule is the shared one.
  EXPECT_EQ(count(log, "compiled schedules of 3 users (1 distinct) in "), 1u) << log;
}

TEST_F(SharedSchedulesTest, ASingleUsersCompileIsNamedInTheLog) {
  write_config({"Europe/Berlin"});
  start();
  EXPECT_NE(status_with("alice@localhost", ": 00:00-24:00\n"), "");
  const std::string log = stop_and_log();
  EXPECT_EQ(count(log, "schedule of alice@localhost compiled: "), 1u) << log;
  EXPECT_EQ(count(log, "compiled schedules of"), 0u) << log;
}

}  // namespace
}  // namespace concierge::app
