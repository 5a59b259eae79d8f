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

}  // namespace
}  // namespace concierge::app
