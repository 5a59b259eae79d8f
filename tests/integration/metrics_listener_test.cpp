// SPDX-License-Identifier: MIT
// The [metrics] listener on 127.0.0.1:0, turned by a small poll loop as the service turns it,
// against raw sockets: only GET /metrics, and bounded against huge and slow requests.
#include <component/app/metrics_listener.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace concierge::app {
namespace {

using Clock = std::chrono::steady_clock;

class Listener : public ::testing::Test {
 protected:
  void SetUp() override {
    MetricsListener::Limits limits;
    limits.timeout_seconds = 1;
    auto started = MetricsListener::start(
        "127.0.0.1:0", [this] { return "# EOF\n" + std::to_string(++scrapes_); }, limits);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<MetricsListener>>(started))
        << std::get<std::string>(started);
    listener_ = std::get<std::unique_ptr<MetricsListener>>(std::move(started));
    ASSERT_NE(listener_->port(), 0);
  }

  int connect_client() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(listener_->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return fd;
  }

  // Turns the listener (as the service's loop does) until `fd` has an answer and the server
  // closed it, or `limit` passed. Returns what arrived.
  std::string exchange(int fd, const std::string& request, std::chrono::milliseconds limit) {
    std::size_t sent = 0;
    std::string answer;
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      pollfd fds[2] = {{listener_->fd(), POLLIN, 0},
                       {fd, static_cast<short>(POLLIN | (sent < request.size() ? POLLOUT : 0)), 0}};
      int timeout = 50;
      if (auto t = listener_->timeout()) timeout = std::min(timeout, static_cast<int>(t->count()));
      ::poll(fds, 2, timeout);
      listener_->run();
      if ((fds[1].revents & POLLOUT) && sent < request.size()) {
        const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
      }
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buffer[4096];
        const auto n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0) break;  // closed by the server (or reset)
        answer.append(buffer, static_cast<std::size_t>(n));
      }
    }
    ::close(fd);
    return answer;
  }

  std::unique_ptr<MetricsListener> listener_;
  int scrapes_ = 0;
};

TEST_F(Listener, GetMetricsIsAnsweredFromTheRenderer) {
  const std::string answer =
      exchange(connect_client(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
               std::chrono::seconds(3));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 ")) << answer;
  EXPECT_NE(answer.find("Content-Type: application/openmetrics-text; version=1.0.0"),
            std::string::npos)
      << answer;
  EXPECT_TRUE(answer.ends_with("\r\n\r\n# EOF\n1")) << answer;
}

TEST_F(Listener, OtherMethodsAndPathsAreRefusedUnrendered) {
  std::string answer = exchange(connect_client(),
                                "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx=1",
                                std::chrono::seconds(3));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 405 ")) << answer;
  EXPECT_NE(answer.find("Allow: GET, HEAD"), std::string::npos) << answer;
  answer =
      exchange(connect_client(), "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::seconds(3));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 404 ")) << answer;
  EXPECT_EQ(scrapes_, 0);
}

TEST_F(Listener, AHugeRequestIsRefusedUnread) {
  const std::string huge =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(64'000, 'a') + "\r\n\r\n";
  const std::string answer = exchange(connect_client(), huge, std::chrono::seconds(3));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 431 ")) << answer.substr(0, 200);
  EXPECT_EQ(scrapes_, 0);
}

TEST_F(Listener, ASlowClientIsCutAfterTheTimeoutAndHoldsUpNobody) {
  const int slow = connect_client();
  ASSERT_EQ(::send(slow, "GET /met", 8, MSG_NOSIGNAL), 8);
  // Meanwhile a whole scrape goes through.
  const std::string answer =
      exchange(connect_client(), "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
               std::chrono::seconds(3));
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 ")) << answer;
  const auto start = Clock::now();
  EXPECT_EQ(exchange(slow, "", std::chrono::seconds(5)), "");
  const auto waited = Clock::now() - start;
  EXPECT_LT(waited, std::chrono::milliseconds(2500))
      << "cut after the 1 s timeout, not the test's 5 s";
}

TEST(MetricsListenerStart, APortInUseSaysSo) {
  auto first = MetricsListener::start("127.0.0.1:0", [] { return std::string(); });
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<MetricsListener>>(first));
  const auto port = std::get<std::unique_ptr<MetricsListener>>(first)->port();
  auto second =
      MetricsListener::start("127.0.0.1:" + std::to_string(port), [] { return std::string(); });
  ASSERT_TRUE(std::holds_alternative<std::string>(second));
  EXPECT_EQ(std::get<std::string>(second),
            "cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
}

}  // namespace
}  // namespace concierge::app
