// SPDX-License-Identifier: MIT
// The scheduler seen through commands: held/cancel, status/pause/end/when, ad-hoc forms,
// privacy and blocklists, admin commands (DESIGN §4, §9).
#include <gtest/gtest.h>

#include <tests/unit/core/scheduler_fixture.hpp>

#include <ical/compile.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using testing::chat;
using testing::ids_of;
using testing::kMonday0800Utc;
using testing::office_hours;
using testing::SchedulerTest;
using testing::xml;

Settings settings() { return testing::scheduler_settings(); }

TEST_F(SchedulerTest, SendersCanListAndCancelWhatTheySent) {
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "x"));
  in("<message from=\"alice@example.org/r\" to=\"sched.example.org\" type=\"chat\"><body>held</body></message>");
  EXPECT_NE(out.stanzas[0].child_text("body")->find("bob@example.org: 1 message"), std::string::npos);
  in("<message from=\"alice@example.org/r\" to=\"sched.example.org\" type=\"chat\"><body>cancel</body></message>");
  EXPECT_EQ(out.stanzas[0].child_text("body"), "Cancelled 1 held message.");
  EXPECT_TRUE(store.holds().empty());
}

TEST_F(SchedulerTest, ChatCommandsStatusPauseEndWhen) {
  EXPECT_EQ(say("bob@example.org", "status"), "You are working until Mon 17:00. Nothing is held for you.\nWorking time this week (Europe/Berlin):\n  Mon 30 Nov: 09:00-17:00\n  Tue  1 Dec: 09:00-17:00\n  Wed  2 Dec: 09:00-17:00\n  Thu  3 Dec: 09:00-17:00\n  Fri  4 Dec: 09:00-17:00\n  Sat  5 Dec: off\n  Sun  6 Dec: off");
  EXPECT_EQ(say("bob@example.org", "pause 30m"), "Paused until Mon 10:30: messages wait until then.");
  EXPECT_EQ(router->availability().status_of("bob@example.org", now), ical::Status::busy);
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"),
            "bob@example.org is busy until Mon 10:30; a message will wait until then.");
  EXPECT_EQ(say("bob@example.org", "end"), "Pause ended: messages reach you again.");
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"), "bob@example.org is free now.");
  EXPECT_EQ(say("alice@example.org", "when nobody@example.org"), "nobody@example.org does not use Concierge.");
  EXPECT_NE(say("bob@example.org", "pause forever").find("Say how long"), std::string::npos);
}

TEST_F(SchedulerTest, AdHocCommandsListExecuteAndAskForWhatTheyNeed) {
  in("<iq type=\"get\" id=\"l\" from=\"bob@example.org/r\" to=\"sched.example.org\"><query "
     "xmlns=\"http://jabber.org/protocol/disco#items\" node=\"http://jabber.org/protocol/commands\"/></iq>");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_NE(out.stanzas[0].to_xml().find("node=\"pause\""), std::string::npos);
  in("<iq type=\"set\" id=\"s\" from=\"bob@example.org/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"status\" action=\"execute\"/></iq>");
  ASSERT_EQ(out.stanzas.size(), 1u);
  const auto* done = out.stanzas[0].child("command");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->attr("status"), "completed");
  EXPECT_EQ(done->child_text("note"), "You are working until Mon 17:00. Nothing is held for you.\nWorking time this week (Europe/Berlin):\n  Mon 30 Nov: 09:00-17:00\n  Tue  1 Dec: 09:00-17:00\n  Wed  2 Dec: 09:00-17:00\n  Thu  3 Dec: 09:00-17:00\n  Fri  4 Dec: 09:00-17:00\n  Sat  5 Dec: off\n  Sun  6 Dec: off");
  // pause: first a form, then the submitted value.
  in("<iq type=\"set\" id=\"p1\" from=\"bob@example.org/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"pause\" action=\"execute\"/></iq>");
  const auto* asking = out.stanzas[0].child("command");
  ASSERT_NE(asking, nullptr);
  EXPECT_EQ(asking->attr("status"), "executing");
  EXPECT_NE(asking->to_xml().find("var=\"duration\""), std::string::npos);
  const std::string session(asking->attr("sessionid"));
  in("<iq type=\"set\" id=\"p2\" from=\"bob@example.org/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"pause\" sessionid=\"" + session +
     "\"><x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"duration\"><value>1h</value></field></x>"
     "</command></iq>");
  EXPECT_EQ(out.stanzas[0].child("command")->child_text("note"), "Paused until Mon 11:00: messages wait until then.");
  EXPECT_EQ(router->availability().status_of("bob@example.org", now), ical::Status::busy);
  in("<iq type=\"set\" id=\"x\" from=\"eve@evil.example/r\" to=\"sched.example.org\"><command "
     "xmlns=\"http://jabber.org/protocol/commands\" node=\"status\" action=\"execute\"/></iq>");
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
}

TEST_F(SchedulerTest, UsersChooseTheirPrivacyAndBlocklistAndItIsRemembered) {
  EXPECT_EQ(say("bob@example.org", "privacy wait"), "Privacy set to wait: senders learn only that a message will wait.");
  EXPECT_EQ(say("bob@example.org", "block carol@example.org"),
            "Blocked carol@example.org: their messages to you are refused.");
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "x"));
  ASSERT_EQ(out.after_commit.size(), 1u);
  EXPECT_EQ(out.after_commit[0].child_text("body"),
            "Concierge: bob@example.org can't take messages right now; your message will wait and be "
            "delivered later.")
      << "no times with privacy wait";
  in(chat("carol@example.org", "bob", "c1", "x"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  // Remembered across a restart.
  restart(settings());
  in(chat("carol@example.org", "bob", "c2", "x"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"),
            "bob@example.org shares no times with you; a message will wait until they can take it.");
  EXPECT_EQ(say("bob@example.org", "privacy none"), "Privacy set to none: senders learn nothing of your schedule.");
  EXPECT_EQ(say("bob@example.org", "unblock carol@example.org"), "Unblocked carol@example.org.");
  EXPECT_EQ(say("bob@example.org", "blocked"), "You block nobody.");
}

TEST_F(SchedulerTest, AdminCommandsOnlyForAdminsAndDestructiveOnesNeedConfirmation) {
  Settings s = settings();
  s.admins = {"boss@example.org"};
  router->reconfigure(s, now, out);
  EXPECT_EQ(say("alice@example.org", "stats"), "Only Concierge's admins may use \"stats\".");
  now = kMonday0800Utc + 10h;
  in(chat("alice@example.org", "bob", "m1", "x"));
  EXPECT_NE(say("boss@example.org", "stats").find("Held: 1"), std::string::npos);
  EXPECT_EQ(say("boss@example.org", "queues"), "Held per target:\n  bob@example.org: 1");
  EXPECT_NE(say("boss@example.org", "flush bob@example.org").find("send \"flush bob@example.org confirm\""),
            std::string::npos);
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u) << "not without confirmation";
  say("boss@example.org", "flush bob@example.org confirm");
  EXPECT_EQ(released_bodies(), std::vector<std::string>{"x"});
  EXPECT_NE(say("boss@example.org", "stats").find("Released in the last hour: 1."), std::string::npos);
  now += 61min;
  EXPECT_NE(say("boss@example.org", "stats").find("Released in the last hour: 0."), std::string::npos)
      << "a rolling hour";
  say("boss@example.org", "reload");
  ASSERT_EQ(out.admin.size(), 1u);
  EXPECT_EQ(out.admin[0].kind, Outbox::AdminRequest::Kind::reload);
  EXPECT_EQ(out.admin[0].reply_to, "boss@example.org/r");
  say("alice@example.org", "backup");
  EXPECT_TRUE(out.admin.empty()) << "refused for a non-admin";
}

TEST_F(SchedulerTest, BlockedSenderIsRefused) {
  router->block("bob@example.org", "alice@example.org", true);
  in(chat("alice@example.org", "bob", "m1", "x"));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_NE(out.stanzas[0].to_xml().find("not-acceptable"), std::string::npos);
}

}  // namespace
}  // namespace concierge::core
