// SPDX-License-Identifier: MIT
#include <component/core/rate_limiter.hpp>

#include <gtest/gtest.h>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, AllowsTheRatePerMinuteThenRefillsContinuously) {
  RateLimiter limiter(60);  // one a second
  Instant t{};
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(limiter.allow("a@x", t)) << i;
  EXPECT_FALSE(limiter.allow("a@x", t));
  EXPECT_FALSE(limiter.allow("a@x", t + 999ms));
  EXPECT_TRUE(limiter.allow("a@x", t + 1001ms));
  EXPECT_TRUE(limiter.allow("b@x", t)) << "keys are independent";
}

TEST(RateLimiter, PruneForgetsFullBucketsOnly) {
  RateLimiter limiter(60);
  Instant t{};
  limiter.allow("a@x", t);
  for (int i = 0; i < 60; ++i) limiter.allow("b@x", t);
  limiter.prune(t + 30s);  // a is full again after 1 s, b needs 60 s
  EXPECT_EQ(limiter.tracked(), 1u);
  limiter.prune(t + 61s);
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(RateLimiter, ClockGoingBackwardsDoesNotMintTokens) {
  RateLimiter limiter(1);
  Instant t{std::chrono::hours(1000)};
  EXPECT_TRUE(limiter.allow("a@x", t));
  EXPECT_FALSE(limiter.allow("a@x", t - 1h));
  EXPECT_FALSE(limiter.allow("a@x", t));
}

}  // namespace
}  // namespace concierge::core
