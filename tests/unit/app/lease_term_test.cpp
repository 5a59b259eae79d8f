// SPDX-License-Identifier: MIT
// The holder's view of the store's lease on its monotonic clock (DESIGN §10): held from a grant
// until term − margin after the request was sent, never revived once over.
#include <component/app/lease_term.hpp>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using Clock = LeaseTerm::Clock;

constexpr LeaseTimings kTimings{.term = 5000ms, .margin = 2000ms, .renew_every = 1000ms};
const Clock::time_point t0 = Clock::time_point{} + 100s;

TEST(LeaseTerm, NothingIsHeldBeforeAGrant) {
  LeaseTerm term(kTimings);
  EXPECT_FALSE(term.held(t0));
  EXPECT_FALSE(term.renews(t0)) << "the first request acquires";
}

TEST(LeaseTerm, AGrantIsHeldUntilTermMinusMarginAfterItWasSent) {
  LeaseTerm term(kTimings);
  term.granted(7, t0, t0 + 400ms);  // a slow answer does not move the start
  EXPECT_EQ(term.held(t0 + 2999ms), 7);
  EXPECT_TRUE(term.renews(t0 + 2999ms));
  EXPECT_FALSE(term.held(t0 + 3000ms)) << "stops `margin` before the database's expiry";
  EXPECT_FALSE(term.renews(t0 + 3000ms)) << "an expired term is acquired anew, not renewed";
}

TEST(LeaseTerm, RenewalsExtendFromWhenEachWasSent) {
  LeaseTerm term(kTimings);
  term.granted(7, t0, t0 + 10ms);
  term.granted(7, t0 + 1s, t0 + 1010ms);
  term.granted(7, t0 + 2s, t0 + 2010ms);
  EXPECT_EQ(term.held(t0 + 4999ms), 7);
  EXPECT_FALSE(term.held(t0 + 5000ms));
}

TEST(LeaseTerm, ALateAnswerNeverShortensTheTerm) {
  LeaseTerm term(kTimings);
  term.granted(7, t0 + 1s, t0 + 1010ms);
  term.granted(7, t0, t0 + 1020ms);  // sent earlier, answered later
  EXPECT_EQ(term.held(t0 + 3999ms), 7);
}

TEST(LeaseTerm, ARenewalAnsweredAfterTheTermRanOutDoesNotReviveIt) {
  LeaseTerm term(kTimings);
  term.granted(7, t0, t0 + 10ms);
  term.granted(7, t0 + 2900ms, t0 + 3100ms);  // sent in time, answered after t0 + 3 s
  EXPECT_FALSE(term.held(t0 + 3100ms));
  EXPECT_FALSE(term.held(t0 + 4000ms)) << "the loop counted epoch 7 as over: it stays over";
  term.granted(8, t0 + 4000ms, t0 + 4010ms);  // the next request acquires a new epoch
  EXPECT_EQ(term.held(t0 + 4010ms), 8);
}

TEST(LeaseTerm, ALossEndsTheTermAtOnce) {
  LeaseTerm term(kTimings);
  term.granted(7, t0, t0 + 10ms);
  term.lost();
  EXPECT_FALSE(term.held(t0 + 20ms));
  EXPECT_FALSE(term.renews(t0 + 20ms));
}

TEST(LeaseTerm, ANewEpochReplacesTheOld) {
  LeaseTerm term(kTimings);
  term.granted(7, t0, t0 + 10ms);
  term.granted(9, t0 + 500ms, t0 + 510ms);
  EXPECT_EQ(term.held(t0 + 3400ms), 9);
  EXPECT_FALSE(term.held(t0 + 3500ms));
}

}  // namespace
}  // namespace concierge::app
