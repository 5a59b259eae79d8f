// SPDX-License-Identifier: MIT
// What senders get while the store cannot commit (DESIGN §6): app/ reports every turn's commit;
// here the test plays app/, with a fake clock.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/office_hours.hpp>
#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

#include <ical/compile.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using testing::office_hours;
using testing::xml;

// Mon 2026-11-30, 19:00 Berlin: bob (Mon-Fri 09:00-17:00) is off; carol has no schedule and
// counts as working (schedule.unknown), with no presence known: messages to her go at once.
const Instant kMonday1900Berlin =
    Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 18h;
constexpr std::string_view kStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

Settings settings() {
  Settings s = testing::base_settings();
  return testing::enrol(s, {"bob@example.org", "alice@example.org", "carol@example.org"}, "Europe/Berlin");
}

std::string chat(const std::string& to_local, const std::string& id) {
  return "<message from=\"alice@example.org/phone\" to=\"" + to_local +
         "\\40example.org@sched.example.org\" type=\"chat\" id=\"" + id + "\"><body>text of " + id +
         "</body></message>";
}

class StoreFaultTest : public ::testing::Test {
 protected:
  MemoryStore store;
  Router router{settings(), store};
  Outbox out;
  Instant now = kMonday1900Berlin;

  void SetUp() override {
    router.scheduler().commits().watch();
    router.connected(now, out);
    router.set_schedule("bob@example.org", office_hours(now), now, out);
    out.clear();
  }
  void in(const std::string& text) {
    out.clear();
    router.handle(xml(text), now, out);
  }
  // alice's "held" command: the component's answer.
  std::string held() {
    in("<message from=\"alice@example.org/phone\" to=\"sched.example.org\" type=\"chat\">"
       "<body>held</body></message>");
    return out.stanzas.empty() ? "<no answer>" : out.stanzas[0].child_text("body").value_or("");
  }
  static void expect_unstorable_error(const xmpp::Element& e, const std::string& id) {
    EXPECT_EQ(e.name, "message");
    EXPECT_EQ(e.attr("type"), "error");
    EXPECT_EQ(e.attr("id"), id);
    EXPECT_EQ(e.attr("to"), "alice@example.org/phone") << "errors go to the resource that sent";
    EXPECT_EQ(e.attr("from"), "bob\\40example.org@sched.example.org");
    const auto* error = e.child("error");
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->attr("type"), "wait");
    EXPECT_NE(error->child("resource-constraint", kStanzas), nullptr);
    EXPECT_EQ(error->child_text("text"),
              "Not delivered: bob@example.org can't take messages now, and Concierge cannot store "
              "them for later (its storage is failing). Send it again later.");
  }
};

TEST_F(StoreFaultTest, AHoldTheCommitLackedIsRefusedToItsSenderAndNeverCounted) {
  in(chat("bob", "m1"));
  ASSERT_EQ(out.after_commit.size(), 1u) << "the held notice waits for the commit";
  const std::string notice_from(out.after_commit[0].attr("from"));
  const std::string notice_to(out.after_commit[0].attr("to"));
  EXPECT_EQ(held(), "Nothing you sent is held.") << "not committed yet: not counted";

  out.clear();
  const auto withdrawn = router.scheduler().commits().failed(out);
  ASSERT_EQ(out.stanzas.size(), 1u);
  expect_unstorable_error(out.stanzas[0], "m1");
  EXPECT_EQ(withdrawn, (std::set<std::pair<std::string, std::string>>{{notice_from, notice_to}}))
      << "its held notice must not go out";
  EXPECT_TRUE(store.holds().empty()) << "should the store commit later, nothing of it remains";
  EXPECT_TRUE(router.scheduler().holds_for("bob@example.org").empty());
  EXPECT_EQ(held(), "Nothing you sent is held.");
  EXPECT_EQ(router.stats().held, 0u);
}

TEST_F(StoreFaultTest, WhileTheStoreFailsMessagesToHoldAreRefusedAtOnceOthersStillGo) {
  router.scheduler().commits().failed(out);  // a commit failed with nothing held
  EXPECT_TRUE(router.scheduler().commits().failing());
  in(chat("bob", "m2"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  expect_unstorable_error(out.stanzas[0], "m2");
  EXPECT_TRUE(out.after_commit.empty()) << "no held notice";
  EXPECT_TRUE(store.holds().empty()) << "nothing taken into the store or memory";

  in(chat("carol", "c1"));
  ASSERT_EQ(out.stanzas.size(), 1u) << "a message that goes at once still goes";
  EXPECT_EQ(out.stanzas[0].attr("to"), "carol@example.org");
  EXPECT_EQ(out.stanzas[0].attr("type"), "chat");

  // The store commits again: messages are held again, announced after the commit.
  out.clear();
  router.scheduler().commits().succeeded(out);
  EXPECT_FALSE(router.scheduler().commits().failing());
  ASSERT_EQ(out.logs.size(), 1u);
  EXPECT_EQ(out.logs[0].text, "the store commits again: messages are held again");
  in(chat("bob", "m3"));
  EXPECT_TRUE(out.stanzas.empty());
  ASSERT_EQ(out.after_commit.size(), 1u);
  EXPECT_EQ(
      out.after_commit[0].child_text("body"),
      "Concierge: bob@example.org is off until Tue 09:00; your message will be delivered then.");
  ASSERT_EQ(store.holds().size(), 1u);
  EXPECT_EQ(store.holds()[0].stanza_id, "m3");
  router.scheduler().commits().succeeded(out);
  EXPECT_NE(held().find("bob@example.org: 1 message,"), std::string::npos);
}

TEST_F(StoreFaultTest, CommittedHoldsStayWhenALaterCommitFails) {
  in(chat("bob", "m1"));
  router.scheduler().commits().succeeded(out);
  in(chat("bob", "m2"));
  EXPECT_TRUE(out.after_commit.empty()) << "same hold episode: no second notice";
  out.clear();
  const auto withdrawn = router.scheduler().commits().failed(out);
  ASSERT_EQ(out.stanzas.size(), 1u) << "only m2 is refused";
  expect_unstorable_error(out.stanzas[0], "m2");
  EXPECT_TRUE(withdrawn.empty()) << "alice's episode with bob goes on: m1 is held";
  ASSERT_EQ(store.holds().size(), 1u);
  EXPECT_EQ(store.holds()[0].stanza_id, "m1");
  EXPECT_NE(held().find("bob@example.org: 1 message,"), std::string::npos);
}

TEST_F(StoreFaultTest, AHoldCancelledInTheSameTurnIsNotRefused) {
  in(chat("bob", "m1"));
  router.scheduler().commits().succeeded(out);
  in("<message from=\"alice@example.org/phone\" to=\"sched.example.org\" type=\"chat\">"
     "<body>cancel</body></message>");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].child_text("body"), "Cancelled 1 held message.");
  in(chat("bob", "m2"));
  in("<message from=\"alice@example.org/phone\" to=\"bob\\40example.org@sched.example.org\" "
     "type=\"chat\" id=\"r1\"><body>/retracted</body>"
     "<retract xmlns=\"urn:xmpp:message-retract:1\" id=\"m2\"/></message>");
  out.clear();
  router.scheduler().commits().failed(out);
  EXPECT_TRUE(out.stanzas.empty()) << "m2 was retracted: nothing to refuse";
  EXPECT_TRUE(store.holds().empty());
}

}  // namespace
}  // namespace concierge::core
