// SPDX-License-Identifier: MIT
// What a takeover (or a restart) must not lose besides holds (DESIGN §10): a router rebuilt
// from the same store keeps pauses, tells nobody twice, still says "delivered" once, and
// resumes open conversations, lets an outsider's correspondent answer and keeps a pool's sender
// with the same member; what it forgets leaves the store too.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/office_hours.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using Kind = Remembered::Kind;

// Mon 2026-11-30; bob and carol work Mon-Fri 09:00-17:00 Berlin (UTC+1).
const Instant kMonday0800Utc = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 8h;

Settings settings() {
  Settings s = testing::base_settings();
  testing::enrol(s, {"bob@example.org", "alice@example.org", "carol@example.org"}, "Europe/Berlin");
  s.pools["helpdesk"] = {"bob@example.org", "carol@example.org"};
  return s;
}

std::string chat(const std::string& from, const std::string& to, const std::string& id,
                 const std::string& body) {
  return "<message from=\"" + from + "/r\" to=\"" + to + "\" type=\"chat\" id=\"" + id +
         "\"><body>" + body + "</body></message>";
}
std::string to_bob(const std::string& id) {
  return chat("alice@example.org", "bob\\40example.org@sched.example.org", id, id);
}

class TakeoverTest : public testing::CoreTest {
 protected:
  TakeoverTest() : CoreTest(settings(), kMonday0800Utc + 1h) {}  // 10:00 Berlin

  void SetUp() override {
    out.clear();
    come_up();
  }
  // What app/ does on a (new) active instance: connect, schedules, users' presence (what
  // that released is in `out`).
  void come_up() {
    out.clear();
    router->connected(now, out);
    for (const char* user : {"bob@example.org", "carol@example.org", "alice@example.org"}) {
      router->set_schedule(user, testing::office_hours(now), now, out);
      present(user);
    }
  }
  void takeover() {
    restart(settings());
    out.clear();
    come_up();
  }
  void present(const std::string& who) {
    router->handle(testing::xml("<presence from=\"" + who +
                                "\" to=\"sched.example.org\" type=\"subscribed\"/>"),
                   now, out);
    router->handle(testing::xml("<presence from=\"" + who + "/desk\" to=\"sched.example.org\"/>"),
                   now, out);
  }
  void tick_to(Instant t) {
    now = t;
    out.clear();
    router->tick(now, out);
  }
  static bool is_notice(const xmpp::Element& s) {
    return s.child_text("body").value_or("").starts_with("Concierge:");
  }
  // The ids of the messages relayed to `who` (notices left out).
  std::vector<std::string> forwarded_to(const std::string& who) const {
    std::vector<std::string> ids;
    for (const auto& s : out.stanzas) {
      if (s.name == "message" && s.attr("to").starts_with(who) && !is_notice(s)) {
        ids.emplace_back(s.attr("id"));
      }
    }
    return ids;
  }
  // What Concierge told alice, at once or after the commit.
  std::vector<std::string> notices() const {
    std::vector<std::string> texts;
    for (const auto* list : {&out.after_commit, &out.stanzas}) {
      for (const auto& s : *list) {
        if (is_notice(s) && s.attr("to").starts_with("alice@example.org")) {
          texts.push_back(s.child_text("body").value_or(""));
        }
      }
    }
    return texts;
  }
  std::size_t rows(Kind kind) {
    std::size_t n = 0;
    for (const auto& row : store.remembered()) n += row.kind == kind;
    return n;
  }
};

TEST_F(TakeoverTest, APauseSurvivesAndEndsOnTimeLeavingNoRow) {
  router->pause("bob@example.org", now + 1h, now, out);
  takeover();
  EXPECT_TRUE(router->availability().paused("bob@example.org", now));
  in(to_bob("p1"));
  EXPECT_TRUE(forwarded_to("bob@example.org").empty()) << "still paused: held";
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
  tick_to(now + 1h);
  EXPECT_FALSE(router->availability().paused("bob@example.org", now));
  ASSERT_EQ(out.releases.size(), 1u) << "released when the pause ends";
  EXPECT_EQ(rows(Kind::pause), 0u) << "an ended pause is forgotten in the store too";
}

TEST_F(TakeoverTest, AnEndedPauseInTheStoreIsIgnoredAndRemoved) {
  router->pause("bob@example.org", now + 1h, now, out);
  now += 2h;  // the instance was down while the pause ran out
  takeover();
  EXPECT_FALSE(router->availability().paused("bob@example.org", now));
  in(to_bob("m1"));
  EXPECT_EQ(forwarded_to("bob@example.org"), std::vector<std::string>{"m1"});
  tick_to(now + 1s);
  EXPECT_EQ(rows(Kind::pause), 0u);
}

TEST_F(TakeoverTest, ASenderToldOnceIsNotToldAgainAndHearsDeliveredOnce) {
  router->pause("bob@example.org", now + 1h, now, out);
  in(to_bob("m1"));
  ASSERT_EQ(notices().size(), 1u) << "told once that it waits";
  takeover();
  in(to_bob("m2"));
  EXPECT_TRUE(notices().empty()) << "the same hold episode: no second notice";
  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 2u);
  std::vector<std::int64_t> ids;
  for (const auto& r : out.releases) ids.push_back(r.hold_id);
  takeover();  // released, not confirmed yet: they go again, and are confirmed there
  ASSERT_EQ(out.releases.size(), 2u) << "at-least-once";
  EXPECT_TRUE(notices().empty()) << "(bob's summary goes again with them)";
  ids.clear();
  for (const auto& r : out.releases) ids.push_back(r.hold_id);
  out.clear();
  router->releaser().release_confirmed(ids, now, out);
  EXPECT_EQ(notices(), std::vector<std::string>{
                           "Concierge: your 2 held messages to bob@example.org were delivered."});
  EXPECT_EQ(rows(Kind::delivering) + rows(Kind::hold_notice), 0u) << "the episode is over";
  takeover();
  in(to_bob("m3"));
  EXPECT_EQ(forwarded_to("bob@example.org"), std::vector<std::string>{"m3"});
  EXPECT_TRUE(notices().empty()) << "and nothing more about it";
}

TEST_F(TakeoverTest, AnOpenConversationGoesOnAfterWorkingTimeAndEndsWhenIdle) {
  now = kMonday0800Utc + 7h + 55min;  // 16:55 Berlin
  takeover();
  in(to_bob("m1"));
  ASSERT_EQ(forwarded_to("bob@example.org"), std::vector<std::string>{"m1"});
  in(chat("bob@example.org", "alice\\40example.org@sched.example.org", "r1", "yes?"));
  ASSERT_EQ(forwarded_to("alice@example.org"), std::vector<std::string>{"r1"});
  now += 7min;  // 17:02: bob is off, the conversation (idle_after 10 min) still open
  takeover();
  in(to_bob("m2"));
  EXPECT_EQ(forwarded_to("bob@example.org"), std::vector<std::string>{"m2"})
      << "a reply within idle_after goes through at once";
  EXPECT_TRUE(notices().empty());
  tick_to(now + 11min);
  EXPECT_EQ(rows(Kind::session) + rows(Kind::recent_write), 0u) << "ended: forgotten";
  in(to_bob("m3"));
  EXPECT_TRUE(forwarded_to("bob@example.org").empty()) << "off hours, no conversation: held";
}

// dave (example.org, not enrolled) wrote to alice: alice may answer him within idle_after
// (DESIGN §2 first row) — on the new active too — and not after it.
TEST_F(TakeoverTest, AnOutsiderWhoWroteCanBeAnsweredWithinIdleAfterOnly) {
  const std::string to_dave = "dave\\40example.org@sched.example.org";
  in(chat("dave@example.org", "alice\\40example.org@sched.example.org", "d1", "hello?"));
  ASSERT_EQ(forwarded_to("alice@example.org"), std::vector<std::string>{"d1"});
  now += 6min;
  takeover();
  in(chat("alice@example.org", to_dave, "a1", "hi dave"));
  EXPECT_EQ(forwarded_to("dave@example.org"), std::vector<std::string>{"a1"})
      << "dave wrote 6 min ago (idle_after 10 min): alice's answer goes at once";
  EXPECT_EQ(rows(Kind::recent_write), 2u) << "both directions kept";

  in(chat("carol@example.org", to_dave, "c1", "hi"));
  EXPECT_TRUE(forwarded_to("dave@example.org").empty()) << "dave never wrote to carol: refused";
  tick_to(now + 11min);  // dave silent since: he is an outsider again
  EXPECT_EQ(rows(Kind::recent_write), 0u) << "forgotten in the store too";
  takeover();
  in(chat("alice@example.org", to_dave, "a2", "still there?"));
  EXPECT_TRUE(forwarded_to("dave@example.org").empty()) << "past idle_after: refused";
}

// dave's conversation with helpdesk is reserved to the member it went to; a takeover keeps it
// there although another member is free.
TEST_F(TakeoverTest, APoolsSenderStaysWithTheReservedMember) {
  const std::string helpdesk = "helpdesk@sched.example.org";
  in(chat("dave@example.org", helpdesk, "d1", "help"));
  ASSERT_EQ(forwarded_to("bob@example.org"), std::vector<std::string>{"d1"})
      << "both free since ever: the first in the config";
  in(chat("bob@example.org", "helpdesk\\20dave\\40example.org@sched.example.org", "b1", "yes?"));
  ASSERT_EQ(forwarded_to("dave@example.org"), std::vector<std::string>{"b1"});
  now += 5min;
  takeover();
  in(chat("dave@example.org", helpdesk, "d2", "my printer"));
  EXPECT_EQ(forwarded_to("bob@example.org"), std::vector<std::string>{"d2"}) << "still bob's";
  EXPECT_TRUE(forwarded_to("carol@example.org").empty());
  EXPECT_EQ(rows(Kind::pool_reservation), 1u);

  tick_to(now + 11min);  // the conversation went idle: bob is free again, from now
  EXPECT_EQ(rows(Kind::pool_reservation), 0u) << "forgotten in the store too";
  EXPECT_EQ(rows(Kind::member_free), 1u) << "bob's free time (dave is no member: not kept)";
}

}  // namespace
}  // namespace concierge::core
