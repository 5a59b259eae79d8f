// SPDX-License-Identifier: MIT
// The Service and systemd: readiness, the watchdog and stopping, over a notification socket.
#include <tests/integration/service_fixture.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

namespace concierge::app::service_test {
namespace {

// systemd's notification socket, as a unit with Type=notify and WatchdogSec would provide it.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = ::testing::TempDir() + "notify-" + std::to_string(::getpid());
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // Datagrams until one contains `what` or `timeout` passes; all of them, in order.
  std::vector<std::string> until(const std::string& what, std::chrono::milliseconds timeout,
                                 int times = 1) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int seen = 0;
    while (std::chrono::steady_clock::now() < deadline && seen < times) {
      char buffer[512];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) continue;
      received_.emplace_back(buffer, static_cast<std::size_t>(n));
      if (received_.back().find(what) != std::string::npos) ++seen;
    }
    return received_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> received_;
};

std::size_t count_of(const std::vector<std::string>& messages, const std::string& what) {
  std::size_t n = 0;
  for (const auto& m : messages) n += m.find(what) != std::string::npos;
  return n;
}

TEST_F(ServiceTest, TellsSystemdItIsReadyFeedsTheWatchdogAndSaysWhenItStops) {
  NotifySocket systemd;
  ::setenv("WATCHDOG_USEC", "200000", 1);  // WatchdogSec=0.2s: a ping every 100 ms
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  RunningService service(make_config(server.port()), fast_loop_timings());
  ASSERT_TRUE(server.wait_connected(5s));
  auto messages = systemd.until("READY=1", 5s);
  ASSERT_EQ(count_of(messages, "READY=1"), 1u);
  EXPECT_NE(messages.back().find("STATUS=connected to 127.0.0.1:"), std::string::npos)
      << messages.back();
  messages = systemd.until("WATCHDOG=1", 5s, 3);
  EXPECT_GE(count_of(messages, "WATCHDOG=1"), 3u) << "the loop keeps feeding the watchdog";
  EXPECT_EQ(service.stop(), 0);
  messages = systemd.until("STOPPING=1", 2s);
  EXPECT_EQ(count_of(messages, "STOPPING=1"), 1u);
}

TEST_F(ServiceTest, ServerDownStillReportsReadyWithTheReasonSoBootIsNotHeldUp) {
  NotifySocket systemd;
  const auto port = server.port();
  server.stop();
  RunningService service(make_config(port), fast_loop_timings());
  auto messages = systemd.until("READY=1", 5s);
  ASSERT_EQ(count_of(messages, "READY=1"), 1u);
  EXPECT_NE(messages.back().find("STATUS=not connected"), std::string::npos) << messages.back();
  EXPECT_EQ(service.stop(), 0);
}

}  // namespace
}  // namespace concierge::app::service_test
