// SPDX-License-Identifier: MIT
// The EnrolmentDesk alone, over rooms built by hand (no Router, no stanza parsing of the way
// in): what a user joining or leaving changes in the rooms and who is told.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <component/core/enrolment_desk.hpp>
#include <tests/unit/core/scheduler_fixture.hpp>

namespace concierge::core::testing {
namespace {

const std::string kDave = "dave@example.org";
const std::string kAlice = "alice@example.org";
const std::string kCarol = "carol@example.org";
const std::string kDaveProxy = "dave\\40example.org@sched.example.org";

class EnrolmentDeskTest : public ::testing::Test {
 protected:
  // The presence stanzas of `type` sent, as "from -> to".
  std::vector<std::string> sent(const std::string& type) const {
    std::vector<std::string> found;
    for (const auto& s : out.stanzas) {
      if (s.name == "presence" && s.attr("type") == type) {
        found.push_back(std::string(s.attr("from")) + " -> " + std::string(s.attr("to")));
      }
    }
    return found;
  }
  bool logged(const std::string& text) const {
    for (const auto& l : out.logs) {
      if (l.text == text) return true;
    }
    return false;
  }

  Settings settings = scheduler_settings();
  MemoryStore store;
  Directory directory{settings, store};
  Availability availability{settings};
  RateLimiter limiter{settings.messages_per_sender_per_minute};
  RouterStats stats;
  ProxyAddressing proxy{settings.component_domain};
  PresenceDesk presences{settings, store, directory, availability, limiter, stats, {}};
  Scheduler scheduler{SchedulerRooms{settings, store, directory, availability, presences.book(),
                                     presences.sessions(), proxy, presences.subscriptions(),
                                     limiter, stats}};
  EnrolmentDesk desk{settings, store, directory, availability, presences, scheduler};
  Outbox out;
  Instant now = kMonday0800Utc;
};

TEST_F(EnrolmentDeskTest, EnrollingAsksForTheUsersPresenceUntilGranted) {
  desk.enrol(kDave, "Europe/Berlin", std::nullopt, now, out);
  EXPECT_TRUE(directory.enrolled(kDave));
  EXPECT_EQ(sent("subscribe"), (std::vector<std::string>{"sched.example.org -> " + kDave}));
  EXPECT_TRUE(logged("enrolled " + kDave));

  out.clear();
  presences.subscriptions().granted(kDave);  // dave approved the request
  desk.enrol(kDave, "Europe/Paris", std::nullopt, now, out);
  EXPECT_TRUE(sent("subscribe").empty()) << "granted already";
  EXPECT_TRUE(logged("updated the enrolment of " + kDave));
}

TEST_F(EnrolmentDeskTest, UnenrollingBouncesHoldsWithdrawsTheProxyAndEndsBothSubscriptions) {
  desk.enrol(kDave, "Europe/Berlin", std::nullopt, now, out);
  presences.subscriptions().proxies().add_subscriber(kDave, kCarol);
  const xmpp::Element original = xml(chat(kAlice, "dave", "m1", "see you"));
  scheduler.hold(original, original, kAlice, kDave, HoldReason::off_hours, now, out);
  ASSERT_EQ(scheduler.holds().size(), 1u);

  out.clear();
  desk.unenrol(kDave, out);
  EXPECT_FALSE(directory.enrolled(kDave));
  EXPECT_EQ(scheduler.holds().size(), 0u);
  EXPECT_TRUE(presences.subscriptions().proxies().subscribers(kDave).empty());
  bool bounced = false;
  for (const auto& s : out.stanzas) {
    const std::string body = s.child_text("body").value_or("");
    if (s.attr("to") == kAlice && body.find("see you") != std::string::npos &&
        body.find("they no longer use Concierge.") != std::string::npos) {
      bounced = true;
    }
  }
  EXPECT_TRUE(bounced) << "alice gets her message back";
  EXPECT_EQ(sent("unavailable"), (std::vector<std::string>{kDaveProxy + " -> " + kCarol}));
  EXPECT_EQ(sent("unsubscribed"), (std::vector<std::string>{kDaveProxy + " -> " + kCarol,
                                                            "sched.example.org -> " + kDave}));
  EXPECT_EQ(sent("unsubscribe"), (std::vector<std::string>{"sched.example.org -> " + kDave}));
  EXPECT_TRUE(logged("unenrolled " + kDave));
}

TEST_F(EnrolmentDeskTest, LeavingAreThoseRemovedFromUsersWhoDidNotEnrolThemselves) {
  desk.enrol(kCarol, "Europe/Berlin", std::nullopt, now, out);  // under [users], and herself
  Settings next = settings;
  next.enrolled.erase(kAlice);
  next.enrolled.erase(kCarol);
  EXPECT_EQ(desk.leaving(next), (std::vector<std::string>{kAlice}));
}

}  // namespace
}  // namespace concierge::core::testing
