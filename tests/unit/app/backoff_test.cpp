// SPDX-License-Identifier: MIT
#include <component/app/backoff.hpp>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(Backoff, DoublesFromOneSecondUpToSixtyWithoutJitter) {
  Backoff b;
  std::vector<long> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(b.next(0.5).count());  // 0.5: no jitter
  EXPECT_EQ(delays, (std::vector<long>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000}));
}

TEST(Backoff, JitterStaysWithinAQuarterAndNeverPassesTheCap) {
  Backoff low, high;
  EXPECT_EQ(low.next(0.0), milliseconds(750));
  EXPECT_EQ(high.next(0.999999).count(), 1249);
  for (int i = 0; i < 20; ++i) {
    EXPECT_LE(high.next(0.999999), seconds(60));
    EXPECT_GE(low.next(0.0), milliseconds(750));
  }
}

TEST(Backoff, ResetStartsOverAfterAGoodConnection) {
  Backoff b;
  b.next(0.5);
  b.next(0.5);
  b.next(0.5);
  b.reset();
  EXPECT_EQ(b.next(0.5), seconds(1));
}

// Schedule URLs (issue #6): refresh, publisher hints, and backing off a struggling server.
TEST(RefetchDelay, AGoodFetchWaitsTheRefreshOrThePublishersHintWithTenPercentJitter) {
  using Outcome = RefetchInput::Outcome;
  const RefetchInput plain{.outcome = Outcome::fresh, .hint = std::nullopt, .retry_after = std::nullopt,
                           .failures = 0, .refresh = seconds(3600)};
  EXPECT_EQ(refetch_delay(plain, 0.5), seconds(3600));
  EXPECT_EQ(refetch_delay(plain, 0.0), seconds(3240));
  EXPECT_EQ(refetch_delay(plain, 0.999999), seconds(3959));
  RefetchInput hinted = plain;
  hinted.hint = seconds(4 * 3600);
  EXPECT_EQ(refetch_delay(hinted, 0.5), seconds(4 * 3600)) << "X-PUBLISHED-TTL:PT4H";
  hinted.outcome = Outcome::not_modified;
  EXPECT_EQ(refetch_delay(hinted, 0.5), seconds(4 * 3600)) << "a 304 keeps the hint";
}

TEST(RefetchDelay, RetryableFailuresBackOffFromAMinuteUpToTheRefreshAndHonourRetryAfter) {
  using Outcome = RefetchInput::Outcome;
  RefetchInput failing{.outcome = Outcome::failed_for_now, .hint = std::nullopt,
                       .retry_after = std::nullopt, .failures = 1, .refresh = seconds(3600)};
  std::vector<std::int64_t> delays;
  for (int f = 1; f <= 9; ++f) {
    failing.failures = f;
    delays.push_back(refetch_delay(failing, 0.5).count());
  }
  EXPECT_EQ(delays, (std::vector<std::int64_t>{60, 120, 240, 480, 960, 1920, 3600, 3600, 3600}));
  EXPECT_EQ(refetch_delay(failing, 0.0), seconds(2700)) << "jitter ±25 %";
  failing.retry_after = seconds(7200);
  EXPECT_EQ(refetch_delay(failing, 0.5), seconds(7200)) << "429 with Retry-After: 7200";
  failing.retry_after = seconds(1);
  EXPECT_EQ(refetch_delay(failing, 0.5), seconds(30)) << "but not hammering";
  failing.retry_after = seconds(30 * 24 * 3600);
  EXPECT_EQ(refetch_delay(failing, 0.5), seconds(24 * 3600)) << "nor giving up for a month";
  const RefetchInput hopeless{.outcome = Outcome::failed, .hint = std::nullopt,
                              .retry_after = std::nullopt, .failures = 5, .refresh = seconds(3600)};
  EXPECT_EQ(refetch_delay(hopeless, 0.5), seconds(3600)) << "a 404 is tried again at the refresh";
}

}  // namespace
}  // namespace concierge::app
