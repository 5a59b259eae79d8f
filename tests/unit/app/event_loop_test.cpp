// SPDX-License-Identifier: MIT
// EventLoop: a turn waits until a descriptor is ready, another thread wakes it, a signal comes,
// or the timeout passes — and says which signals came.
#include <component/app/event_loop.hpp>

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class EventLoopTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { EventLoop::block_signals(); }
};

TEST_F(EventLoopTest, NothingHappeningWaitsForTheTimeoutAndReportsNoSignal) {
  EventLoop loop;
  ASSERT_TRUE(loop.ready());
  std::vector<pollfd> fds;
  const auto started = Clock::now();
  const auto woken = loop.wait(fds, 20ms);
  EXPECT_GE(Clock::now() - started, 20ms);
  EXPECT_FALSE(woken.failed);
  EXPECT_TRUE(woken.signals.empty());
}

TEST_F(EventLoopTest, AWakeFromAnotherThreadEndsTheWaitAndIsConsumed) {
  EventLoop loop;
  std::thread other([&] { loop.wake(); });
  std::vector<pollfd> fds;
  const auto started = Clock::now();
  const auto woken = loop.wait(fds, 10s);
  other.join();
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_TRUE(woken.signals.empty());
  // The wake was read: the next wait sleeps its timeout again.
  const auto again = Clock::now();
  loop.wait(fds, 20ms);
  EXPECT_GE(Clock::now() - again, 20ms);
}

TEST_F(EventLoopTest, SignalsArriveInOrderAndOthersDescriptorsKeepTheirReadiness) {
  EventLoop loop;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(::write(pipe_fds[1], "x", 1), 1);
  pthread_kill(pthread_self(), SIGHUP);
  std::vector<pollfd> fds{{pipe_fds[0], POLLIN, 0}};
  const auto woken = loop.wait(fds, 10s);
  EXPECT_EQ(woken.signals, std::vector<int>{SIGHUP});
  ASSERT_EQ(fds.size(), 1u);  // the caller's descriptors only, with their revents
  EXPECT_EQ(fds[0].fd, pipe_fds[0]);
  EXPECT_TRUE(fds[0].revents & POLLIN);
  pthread_kill(pthread_self(), SIGTERM);
  EXPECT_EQ(loop.wait(fds, 10s).signals, std::vector<int>{SIGTERM});
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

}  // namespace
}  // namespace concierge::app
