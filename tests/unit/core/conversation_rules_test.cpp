// SPDX-License-Identifier: MIT
// DESIGN §2's conversation rules as a person meets them, with a fake clock: presence counts only
// by right, only the target writing back engages a conversation, urgent messages and releases
// engage nothing, a pause holds everything but urgent from the always-through list, dnd is
// "busy", notices are marked and close their episode, bounces quote what came back.
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

// Mon 2026-11-30 09:00 UTC = 10:00 Berlin. bob works Mon-Fri 09:00-17:00 Europe/Berlin.
const Instant kMonday0900Utc = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 9h;
const char* const kBobProxy = "bob\\40example.org@sched.example.org";

Settings settings() {
  Settings s = testing::base_settings();
  testing::enrol(s, {"bob@example.org", "alice@example.org", "carol@example.org", "boss@example.org"},
                 "Europe/Berlin");
  s.users["bob@example.org"].always_through = {"boss@example.org"};
  return s;
}

class ConversationRulesTest : public testing::CoreTest {
 protected:
  ConversationRulesTest() : CoreTest(settings(), kMonday0900Utc) {}

  void start(Settings s = settings()) {
    restart(std::move(s));
    router->connected(now, out);
    router->set_schedule("bob@example.org", office_hours(now), now, out);
    out.clear();
  }
  void SetUp() override { start(); }

  void presence(const std::string& from, const std::string& type = "", const std::string& show = "") {
    in("<presence from=\"" + from + "\" to=\"sched.example.org\"" +
       (type.empty() ? "" : " type=\"" + type + "\"") + ">" +
       (show.empty() ? "" : "<show>" + show + "</show>") + "</presence>");
  }
  // bob approved the component's subscription request and is online at his desk.
  void bob_granted_and_online(const std::string& show = "") {
    presence("bob@example.org", "subscribed");
    presence("bob@example.org/desk", "", show);
  }
  void chat(const std::string& from, const std::string& to, const std::string& body) {
    in("<message from=\"" + from + "/r\" to=\"" + to.substr(0, to.find('@')) +
       "\\40example.org@sched.example.org\" type=\"chat\" id=\"" + body + "\"><body>" + body +
       "</body></message>");
  }
  // What reached bob@example.org in this turn, relayed live (not released, not a summary).
  std::vector<std::string> to_bob() const {
    std::vector<std::string> b;
    for (const auto& s : out.stanzas) {
      if (s.attr("to").starts_with("bob@example.org") && s.attr("from") != "sched.example.org") {
        b.push_back(s.child_text("body").value_or(""));
      }
    }
    return b;
  }
  std::vector<std::string> released() const {
    std::vector<std::string> b;
    for (const auto& r : out.releases) b.push_back(r.stanza.child_text("body").value_or(""));
    return b;
  }
  // Notices to `who` in this turn (sent now or after the commit), by body.
  std::vector<std::string> notices(const std::string& who) const {
    std::vector<std::string> b;
    for (const auto* list : {&out.stanzas, &out.after_commit}) {
      for (const auto& s : *list) {
        if (s.attr("to") == who && s.attr("from") == kBobProxy) b.push_back(s.child_text("body").value_or(""));
      }
    }
    return b;
  }
  std::vector<std::int64_t> release_ids() const {
    std::vector<std::int64_t> v;
    for (const auto& r : out.releases) v.push_back(r.hold_id);
    return v;
  }
  void tick_to(Instant t) {
    now = t;
    out.clear();
    router->tick(now, out);
  }
};

// --- 1. presence counts only by right -------------------------------------------------------

TEST_F(ConversationRulesTest, ProsodysAcknowledgementOfAnUnansweredRequestIsNotOffline) {
  // Prosody answers the component's subscription request with an `unavailable` from bob's bare
  // JID ("acknowledging receipt"); bob never answers the request.
  presence("bob@example.org", "unavailable");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::unknown);
  chat("alice@example.org", "bob", "are you there");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"are you there"}) << "unknown presence: forwarded";
  EXPECT_TRUE(notices("alice@example.org").empty()) << "and nobody is told bob is offline";
}

TEST_F(ConversationRulesTest, ADeniedSubscriptionLeavesPresenceUnknown) {
  presence("bob@example.org", "unsubscribed");
  presence("bob@example.org", "unavailable");
  presence("bob@example.org/desk", "", "dnd");  // e.g. a directed presence: not ours by right
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::unknown);
  chat("alice@example.org", "bob", "hello");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"hello"});
}

TEST_F(ConversationRulesTest, ARevokedSubscriptionMakesPresenceUnknownAgain) {
  bob_granted_and_online();
  presence("bob@example.org/desk", "unavailable");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::offline) << "by right: offline";
  // bob revokes: Prosody routes `unsubscribed`, then `unavailable` from each online resource.
  presence("bob@example.org/desk");
  presence("bob@example.org", "unsubscribed");
  presence("bob@example.org/desk", "unavailable");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::unknown);
  chat("alice@example.org", "bob", "still there?");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"still there?"});
}

TEST_F(ConversationRulesTest, WithXep0356ResourcesCountButTheBareAcknowledgementDoesNot) {
  in("<message from=\"example.org\" to=\"sched.example.org\"><privilege xmlns=\"urn:xmpp:privilege:2\">"
     "<perm access=\"presence\" type=\"managed_entity\"/></privilege></message>");
  presence("bob@example.org", "unavailable");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::unknown);
  presence("bob@example.org/desk", "", "dnd");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::dnd);
}

TEST_F(ConversationRulesTest, WithXep0356TheUnavailableThatFollowsADenialIsNotOffline) {
  // ejabberd grants presence (XEP-0356) and follows bob's denial with an `unavailable` from his
  // online resource: XEP-0356 still counts, but that `unavailable` says nothing about bob.
  in("<message from=\"example.org\" to=\"sched.example.org\"><privilege xmlns=\"urn:xmpp:privilege:1\">"
     "<perm access=\"presence\" type=\"roster\"/></privilege></message>");
  presence("bob@example.org/desk");
  presence("bob@example.org", "unsubscribed");
  presence("bob@example.org/desk", "unavailable");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::available);
  chat("alice@example.org", "bob", "hello");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"hello"});
  // Later presence through the privilege counts again, going offline included.
  presence("bob@example.org/desk", "", "dnd");
  presence("bob@example.org/desk", "unavailable");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::offline);
}

// --- 2. only the target writing back engages ----------------------------------------------

TEST_F(ConversationRulesTest, AReleasedMessageOpensNoConversation) {
  bob_granted_and_online();
  presence("bob@example.org/desk", "unavailable");
  chat("alice@example.org", "bob", "first");
  presence("bob@example.org/desk");
  ASSERT_EQ(released(), std::vector<std::string>{"first"});
  EXPECT_FALSE(router->presences().sessions().is_open("alice@example.org", "bob@example.org", now));
  EXPECT_TRUE(router->presences().session_idle("bob@example.org", now)) << "bob answered nobody";
  // bob goes offline: alice's next message is held and she is told, not dropped on the server.
  presence("bob@example.org/desk", "unavailable");
  now += 1min;
  chat("alice@example.org", "bob", "second");
  EXPECT_TRUE(to_bob().empty());
  EXPECT_EQ(notices("alice@example.org"),
            std::vector<std::string>{
                "Concierge: bob@example.org is offline; your message will be delivered when they are back."});
}

TEST_F(ConversationRulesTest, BobAnsweringEngagesAndAnOfflineBobStillHolds) {
  bob_granted_and_online();
  presence("alice@example.org", "subscribed");
  presence("alice@example.org/r");
  chat("alice@example.org", "bob", "hi");
  chat("bob@example.org", "alice", "hi back");
  EXPECT_TRUE(router->presences().sessions().is_open("alice@example.org", "bob@example.org", now));
  presence("bob@example.org/desk", "unavailable");
  chat("alice@example.org", "bob", "you left?");
  EXPECT_TRUE(to_bob().empty()) << "an open session forwards only while bob is not known offline";
  presence("bob@example.org/desk");
  EXPECT_EQ(released(), std::vector<std::string>{"you left?"});
}

// --- 3. urgent messages engage nothing and release nothing else ----------------------------

TEST_F(ConversationRulesTest, AnUrgentMessageReleasesNothingElseWhateverHappensNext) {
  Settings s = settings();
  s.users["bob@example.org"].urgent_from_anyone = true;
  start(s);
  bob_granted_and_online();
  now = kMonday0900Utc + 9h;  // 19:00 Berlin: bob is off duty
  chat("carol@example.org", "bob", "when you can");
  chat("carol@example.org", "bob", "!urgent the server is down");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"the server is down"});
  EXPECT_FALSE(router->presences().sessions().is_open("carol@example.org", "bob@example.org", now));
  EXPECT_TRUE(router->presences().session_idle("bob@example.org", now)) << "status shows no conversation";
  // What released the held message early before: any re-decision for bob while the session the
  // urgent message opened lasted — the next tick, a presence change, a recompiled schedule.
  tick_to(now + 30s);
  EXPECT_TRUE(released().empty()) << "tick";
  presence("bob@example.org/desk", "", "away");
  EXPECT_TRUE(released().empty()) << "presence change";
  out.clear();
  router->set_schedule("bob@example.org", office_hours(now), now, out);
  EXPECT_TRUE(released().empty()) << "schedule recompiled";
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
  // bob answers carol: now they are in a conversation, and what she wrote before goes too.
  chat("bob@example.org", "carol", "on it");
  EXPECT_EQ(released(), std::vector<std::string>{"when you can"});
}

// --- 4. a pause holds everything but urgent from the always-through list; dnd ------------

TEST_F(ConversationRulesTest, APauseHoldsOpenConversationsButLetsTheAlwaysThroughListInterrupt) {
  Settings s = settings();
  s.users["bob@example.org"].urgent_from_anyone = true;
  start(s);
  bob_granted_and_online();
  chat("alice@example.org", "bob", "hi");
  chat("bob@example.org", "alice", "hi back");
  ASSERT_TRUE(router->presences().sessions().is_open("alice@example.org", "bob@example.org", now));
  router->pause("bob@example.org", now + 1h, now, out);
  chat("alice@example.org", "bob", "one more thing");
  EXPECT_TRUE(to_bob().empty()) << "paused: held although they are talking";
  EXPECT_EQ(notices("alice@example.org"),
            std::vector<std::string>{
                "Concierge: bob@example.org is busy until Mon 11:00; your message will be delivered then."});
  chat("carol@example.org", "bob", "!urgent fire");
  EXPECT_TRUE(to_bob().empty()) << "urgent from anyone does not break a pause";
  chat("boss@example.org", "bob", "!urgent real fire");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"real fire"}) << "the always-through list does";
  tick_to(now + 1h);
  EXPECT_EQ(released(), (std::vector<std::string>{"one more thing", "!urgent fire"}));
}

TEST_F(ConversationRulesTest, DndQueuesNewSendersButAConversationGoesOn) {
  bob_granted_and_online();
  chat("alice@example.org", "bob", "hi");
  chat("bob@example.org", "alice", "hi back");
  presence("bob@example.org/desk", "", "dnd");
  chat("alice@example.org", "bob", "as I was saying");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"as I was saying"}) << "dnd does not cut a conversation";
  chat("carol@example.org", "bob", "hello");
  EXPECT_TRUE(to_bob().empty());
  EXPECT_EQ(notices("carol@example.org"),
            std::vector<std::string>{"Concierge: bob@example.org is in another conversation; you are #1 in line."});
}

// --- 5. leaving dnd for away or xa releases ------------------------------------------------

class LeavingDnd : public ConversationRulesTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(LeavingDnd, ForAwayOrXaReleasesWhatDndHeld) {
  const std::string show = GetParam();
  bob_granted_and_online(show);
  chat("carol@example.org", "bob", "hello");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"hello"})
      << "away/xa count as available; the schedule decides who is off duty";
  presence("bob@example.org/desk", "", "dnd");
  chat("alice@example.org", "bob", "while dnd");
  ASSERT_TRUE(to_bob().empty());
  presence("bob@example.org/desk", "", show);
  EXPECT_EQ(released(), std::vector<std::string>{"while dnd"}) << "leaving dnd frees the slot";
}

INSTANTIATE_TEST_SUITE_P(AwayAndXa, LeavingDnd, ::testing::Values("away", "xa"));

// --- 6. dnd alone is "busy" -----------------------------------------------------------------

TEST_F(ConversationRulesTest, DndWithNobodyTalkingToBobIsToldAsBusy) {
  bob_granted_and_online("dnd");
  chat("alice@example.org", "bob", "hi");
  chat("carol@example.org", "bob", "hello");
  EXPECT_EQ(notices("carol@example.org"),
            std::vector<std::string>{"Concierge: bob@example.org is busy; you are #2 in line."});
}

TEST_F(ConversationRulesTest, ASlotKeptForAReleasedConversationIsBusyNotAConversation) {
  bob_granted_and_online("dnd");
  chat("alice@example.org", "bob", "first");
  presence("bob@example.org/desk", "", "away");  // released from the line: the slot is alice's
  ASSERT_EQ(released(), std::vector<std::string>{"first"});
  chat("carol@example.org", "bob", "hello");
  EXPECT_TRUE(to_bob().empty()) << "bob's one slot is kept for alice until he answers";
  EXPECT_EQ(notices("carol@example.org"),
            std::vector<std::string>{"Concierge: bob@example.org is busy; you are #1 in line."})
      << "bob is in no conversation yet";
}

TEST_F(ConversationRulesTest, EndFreesASlotKeptForAReleasedConversation) {
  bob_granted_and_online("dnd");
  chat("alice@example.org", "bob", "first");
  presence("bob@example.org/desk");  // leaving dnd: released from the line, the slot is alice's
  ASSERT_EQ(released(), std::vector<std::string>{"first"});
  chat("carol@example.org", "bob", "waiting");
  ASSERT_TRUE(to_bob().empty()) << "bob's one slot is kept for alice";
  EXPECT_EQ(say("bob@example.org", "end"), "Ended your conversation with alice@example.org.");
  EXPECT_EQ(released(), std::vector<std::string>{"waiting"}) << "the line moves at once";
  EXPECT_EQ(say("bob@example.org", "end"), "Ended your conversation with carol@example.org.");
  chat("boss@example.org", "bob", "straight");
  EXPECT_EQ(to_bob(), std::vector<std::string>{"straight"}) << "no slot kept any more";
}

// --- 7. notices are marked; senders learn once that their messages were delivered --------

TEST_F(ConversationRulesTest, SendersAreToldOnceWhenTheirHeldMessagesWereDelivered) {
  bob_granted_and_online();
  now = kMonday0900Utc + 9h;
  chat("alice@example.org", "bob", "one");
  chat("alice@example.org", "bob", "two");
  tick_to(kMonday0900Utc + 23h);  // Tue 09:00 Berlin
  ASSERT_EQ(released(), (std::vector<std::string>{"one", "two"}));
  const auto ids = release_ids();
  out.clear();
  router->releaser().release_confirmed({ids[0]}, now, out);
  EXPECT_TRUE(notices("alice@example.org").empty()) << "not before all of them are delivered";
  router->releaser().release_confirmed({ids[1]}, now, out);
  const auto told = notices("alice@example.org");
  ASSERT_EQ(told, std::vector<std::string>{"Concierge: your 2 held messages to bob@example.org were delivered."});
  out.clear();
  router->releaser().release_confirmed(ids, now, out);
  EXPECT_TRUE(notices("alice@example.org").empty()) << "once per episode";
}

TEST_F(ConversationRulesTest, EveryNoticeSaysConciergeAndCarriesNoStore) {
  Settings s = settings();
  s.users["bob@example.org"].urgent_from_anyone = true;
  s.privacy_default = Settings::Privacy::none;
  start(s);
  bob_granted_and_online();
  now = kMonday0900Utc + 9h;
  chat("alice@example.org", "bob", "held");
  std::vector<xmpp::Element> seen = out.after_commit;
  chat("carol@example.org", "bob", "!urgent now");
  seen.insert(seen.end(), out.stanzas.begin(), out.stanzas.end());
  tick_to(kMonday0900Utc + 23h);
  seen.insert(seen.end(), out.stanzas.begin(), out.stanzas.end());
  out.clear();
  router->releaser().release_confirmed(release_ids(), now, out);
  EXPECT_TRUE(notices("alice@example.org").empty()) << "privacy none: not even that it was delivered";
  std::size_t checked = 0;
  for (const auto& m : seen) {
    if (m.child_text("body") && m.attr("from") != "bob@example.org" &&
        !m.child("attention", "urn:xmpp:attention:0") && !m.child("delay", "urn:xmpp:delay")) {
      EXPECT_TRUE(m.child_text("body")->starts_with("Concierge: ")) << m.to_xml();
      EXPECT_NE(m.child("no-store", "urn:xmpp:hints"), nullptr) << m.to_xml();
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3u) << "the hold notice, the urgent notice, the summary to bob";
}

// --- 8. a bounce says which messages came back ---------------------------------------------

TEST_F(ConversationRulesTest, UnenrolBouncesQuoteTheReturnedMessages) {
  now = kMonday0900Utc + 9h;
  chat("alice@example.org", "bob", "lunch tomorrow?");
  chat("alice@example.org", "bob",
       "and about the report: the numbers for November look wrong to me, can you check them");
  Settings s = settings();
  s.enrolled.erase("bob@example.org");
  out.clear();
  router->reconfigure(s, now, out);
  EXPECT_EQ(notices("alice@example.org"),
            std::vector<std::string>{
                "Concierge: your 2 messages to bob@example.org could not be delivered: they no longer "
                "use Concierge. You wrote: “lunch tomorrow?”, “and about the report: the numbers for "
                "November look wrong to…”."});
}

}  // namespace
}  // namespace concierge::core
