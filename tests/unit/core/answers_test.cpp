// SPDX-License-Identifier: MIT
// Answers a person can trust (issue 15 points 10-14, 16-19): what status, settings, when,
// cancel, pause, block, privacy and subscribers say; one answer per change; and the ad-hoc
// forms (XEP-0050) as a client shows them — order, confirmation, errors, current values.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

#include <ical/compile.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using testing::xml;

// Mon 2026-11-30, 09:00 UTC = 10:00 Berlin.
const Instant kMonday0900Utc =
    Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 9h;

Settings settings() {
  Settings s = testing::base_settings({"example.org", "other.org"});
  testing::enrol(s, {"bob@example.org", "alice@example.org"}, "Europe/Berlin", "Mon-Fri 09:00-17:00");
  s.admins = {"admin@example.org"};
  return s;
}

std::shared_ptr<const ical::Schedule> compiled(const ScheduleSource& source, Instant around) {
  ical::CompileRequest r;
  r.zone = source.zone;
  r.hours = source.hours;
  r.calendar = source.upload;
  ical::set_window_around(r, to_utc_seconds(around), 20);
  auto s = ical::compile(r);
  EXPECT_TRUE(s.ok()) << s.error();
  return std::make_shared<const ical::Schedule>(s.value());
}

class AnswersTest : public testing::CoreTest {
 protected:
  AnswersTest() : CoreTest(settings(), kMonday0900Utc) {}

  void SetUp() override {
    router->connected(now, out);
    for (const char* u : {"bob@example.org", "alice@example.org"}) {
      const auto source = *router->directory().schedule_source(u);
      router->schedule_compiled(u, source, compiled(source, now), now, out);
      in("<presence from=\"" + std::string(u) + "/desk\" to=\"sched.example.org\"/>");
    }
    out.clear();
  }
  void write(const std::string& from, const std::string& to_local, const std::string& body) {
    in("<message from=\"" + from + "/r\" to=\"" + to_local +
       "\\40example.org@sched.example.org\" type=\"chat\" id=\"m\"><body>" + body +
       "</body></message>");
  }
  // An ad-hoc command: executed (no form) or submitted with `fields`; the <command/> answered.
  xmpp::Element command(
      const std::string& who, const std::string& node,
      const std::optional<std::vector<std::pair<std::string, std::string>>>& fields = {}) {
    std::string form;
    if (fields) {
      form = "<x xmlns=\"jabber:x:data\" type=\"submit\">";
      for (const auto& [var, value] : *fields) {
        form += "<field var=\"" + var + "\"><value>" + value + "</value></field>";
      }
      form += "</x>";
    }
    in("<iq type=\"set\" id=\"c\" from=\"" + who +
       "/r\" to=\"sched.example.org\"><command "
       "xmlns=\"http://jabber.org/protocol/commands\" node=\"" +
       node + "\"" + (fields ? " sessionid=\"s1\"" : " action=\"execute\"") + ">" + form +
       "</command></iq>");
    for (const auto& s : out.stanzas) {
      if (s.name == "iq" && s.attr("id") == "c" && s.child("command")) return *s.child("command");
    }
    return xmpp::Element("none");
  }
  static std::string field_value(const xmpp::Element& command, const std::string& var) {
    const auto* x = command.child("x", "jabber:x:data");
    if (!x) return "<no form>";
    for (const auto& f : x->children) {
      if (f.name == "field" && f.attr("var") == var) return f.child_text("value").value_or("");
    }
    return "<no field>";
  }
  static std::string note(const xmpp::Element& command) {
    const auto* n = command.child("note");
    return n ? std::string(n->attr("type")) + ": " + n->inner_text() : "<no note>";
  }
};

// Point 10.
TEST_F(AnswersTest, StatusNamesConversationsAndCountsHeldMessagesInWords) {
  write("alice@example.org", "bob", "hi");
  write("bob@example.org", "alice", "hi back");
  std::string status = say("bob@example.org", "status");
  EXPECT_NE(status.find(" In a conversation with alice@example.org. Nothing is held for you.\n"),
            std::string::npos)
      << status;
  EXPECT_EQ(status.find("(s)"), std::string::npos) << status;
  EXPECT_EQ(say("bob@example.org", "end"), "Ended your conversation with alice@example.org.");
  say("bob@example.org", "pause 1h");
  write("alice@example.org", "bob", "one");
  write("alice@example.org", "bob", "two");
  status = say("bob@example.org", "status");
  EXPECT_NE(status.find(" 2 messages are held for you.\n"), std::string::npos) << status;
}

TEST_F(AnswersTest, SettingsShowPrivacyPauseAndTheBlocklist) {
  say("bob@example.org", "privacy wait");
  say("bob@example.org", "block mallory@example.org");
  say("bob@example.org", "pause 30m");
  const std::string settings = say("bob@example.org", "settings");
  EXPECT_NE(settings.find("\n  proxy subscribers: people of example.org"), std::string::npos)
      << settings;
  EXPECT_NE(settings.find("\n  privacy: wait: senders learn only that a message will wait"),
            std::string::npos)
      << settings;
  EXPECT_NE(settings.find("\n  pause: until Mon 10:30"), std::string::npos) << settings;
  EXPECT_NE(settings.find("\n  blocked: mallory@example.org"), std::string::npos) << settings;
}

// Point 11.
TEST_F(AnswersTest, ANameWithoutDomainIsToldAsNoAddressWithASuggestion) {
  say("bob@example.org", "pause 1h");
  write("alice@example.org", "bob", "one");
  EXPECT_EQ(say("alice@example.org", "cancel bob"),
            "\"bob\" is not an address (user@domain); did you mean bob@example.org?");
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u) << "nothing was cancelled";
  EXPECT_EQ(say("alice@example.org", "when bob"),
            "\"bob\" is not an address (user@domain); did you mean bob@example.org?");
  EXPECT_EQ(say("alice@example.org", "through boss"),
            "\"boss\" is not an address (user@domain); did you mean boss@example.org?");
  EXPECT_EQ(say("alice@example.org", "cancel bob@example.org"), "Cancelled 1 held message.");
}

// Point 12.
TEST_F(AnswersTest, WhenTellsABlockedSenderNoTimesAndAPauseAsBusy) {
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"), "bob@example.org is free now.");
  say("bob@example.org", "pause 40m");
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"),
            "bob@example.org is busy until Mon 10:40; a message will wait until then.");
  now += 7h + 30min;  // 17:30 Berlin: off duty, still paused until 18:10
  say("bob@example.org", "pause 40m");
  EXPECT_EQ(say("alice@example.org", "when bob@example.org"),
            "bob@example.org is busy until Mon 18:10, then next working Tue 09:00.");
  say("bob@example.org", "block alice@example.org");
  const std::string blocked = say("alice@example.org", "when bob@example.org");
  EXPECT_EQ(blocked, "bob@example.org does not accept messages from you.");
  EXPECT_EQ(blocked.find("Tue"), std::string::npos);
}

// Point 13.
TEST_F(AnswersTest, AnswersSayWhatTheyMeanAndWhatDidNotChange) {
  EXPECT_EQ(
      say("dave@example.org", "status"),
      "You are not enrolled with Concierge: send \"enrol Europe/Berlin\" (your time zone) first.");
  const std::string help = say("olga@other.org", "help");
  EXPECT_NE(help.find("To write to bob@other.org, write to bob\\40other.org@sched.example.org"),
            std::string::npos)
      << help;
  EXPECT_EQ(help.find("example.org,"), std::string::npos) << "no example domain: " << help;
  EXPECT_EQ(say("bob@example.org", "privacy wait"),
            "Privacy set to wait: senders learn only that a message will wait.");
  EXPECT_EQ(say("bob@example.org", "subscribers served"),
            "Who may see your status: people of example.org and other.org.");
  EXPECT_EQ(say("bob@example.org", "unblock carol@example.org"),
            "You do not block carol@example.org.");
  EXPECT_EQ(say("bob@example.org", "block carol@example.org"),
            "Blocked carol@example.org: their messages to you are refused.");
  EXPECT_EQ(say("bob@example.org", "block carol@example.org"),
            "You already block carol@example.org.");
  EXPECT_EQ(say("bob@example.org", "unblock carol@example.org"), "Unblocked carol@example.org.");
  EXPECT_EQ(say("bob@example.org", "unblock carol@example.org"),
            "You do not block carol@example.org.");
  EXPECT_EQ(say("bob@example.org", "pause 0"), "You are not paused.");
  say("bob@example.org", "pause 10m");
  EXPECT_EQ(say("bob@example.org", "pause 0"), "Pause ended: messages reach you again.");
}

// Point 14: a setting's answer is the only message; a calendar's outcome only when it differs.
TEST_F(AnswersTest, EveryChangeIsAnsweredOnce) {
  EXPECT_EQ(say("dave@example.org", "enrol Europe/Berlin").find("You are enrolled"), 0u);
  for (const char* change :
       {"hours Mon-Fri 08:00-16:00", "timezone Europe/Paris", "kind personal"}) {
    const std::string answer = say("dave@example.org", change);
    EXPECT_EQ(out.stanzas.size(), 1u) << change << ": " << answer;
    const auto source = *router->directory().schedule_source("dave@example.org");
    out.clear();
    router->schedule_compiled("dave@example.org", source, compiled(source, now), now, out);
    EXPECT_TRUE(out.stanzas.empty()) << change << ": " << out.stanzas.at(0).to_xml();
  }
  EXPECT_EQ(say("dave@example.org", "calendar https://cal.example.org/d.ics"),
            "Fetching your calendar: it is in force as soon as it is read; you hear from me only "
            "if something is wrong with it.");
  auto source = *router->directory().schedule_source("dave@example.org");
  ScheduleSource as_read = source;
  out.clear();
  router->schedule_compiled("dave@example.org", as_read, compiled(source, now), now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "in force as promised";
  EXPECT_FALSE(router->directory().schedule_source("dave@example.org")->pending);
  say("dave@example.org", "calendar https://cal.example.org/typo.ics");
  source = *router->directory().schedule_source("dave@example.org");
  out.clear();
  router->schedule_failed("dave@example.org", source, "HTTP 404", now, out);
  ASSERT_EQ(out.stanzas.size(), 1u) << "what differs from the promise is told";
  EXPECT_NE(out.stanzas[0].child_text("body")->find("cannot be used: HTTP 404"), std::string::npos);
}

// Point 16.
TEST_F(AnswersTest, UnenrolByFormAsksForConfirmationSayingWhatGoesBack) {
  say("dave@example.org", "enrol Europe/Berlin");
  say("dave@example.org", "pause 1h");
  write("alice@example.org", "dave", "one");
  write("alice@example.org", "dave", "two");
  const auto asked = command("dave@example.org", "unenrol");
  EXPECT_EQ(asked.attr("status"), "executing") << asked.to_xml();
  EXPECT_EQ(field_value(asked, "confirm"), "") << asked.to_xml();
  EXPECT_NE(
      asked.to_xml().find("<instructions>2 messages held for you will go back to their senders."),
      std::string::npos)
      << asked.to_xml();
  EXPECT_TRUE(router->directory().enrolled("dave@example.org")) << "one click unenrols nobody";
  const auto kept = command("dave@example.org", "unenrol", {{{"confirm", "0"}}});
  EXPECT_EQ(note(kept), "info: You are still enrolled; nothing changed.");
  EXPECT_TRUE(router->directory().enrolled("dave@example.org"));
  const auto gone = command("dave@example.org", "unenrol", {{{"confirm", "1"}}});
  EXPECT_EQ(gone.attr("status"), "completed");
  EXPECT_EQ(note(gone),
            "info: You are unenrolled; messages held for you went back to their senders.");
  EXPECT_FALSE(router->directory().enrolled("dave@example.org"));
}

// Point 17.
TEST_F(AnswersTest, TheCommandListIsInTheOrderPeopleLookAdminLast) {
  auto listing = [&](const std::string& who) {
    in("<iq type=\"get\" id=\"l\" from=\"" + who +
       "/r\" to=\"sched.example.org\"><query "
       "xmlns=\"http://jabber.org/protocol/disco#items\" "
       "node=\"http://jabber.org/protocol/commands\"/></iq>");
    std::vector<std::string> nodes;
    for (const auto& item : out.stanzas.at(0).child("query")->children) {
      nodes.emplace_back(item.attr("node"));
    }
    return nodes;
  };
  const auto bob = listing("bob@example.org");
  ASSERT_GE(bob.size(), 5u);
  EXPECT_EQ((std::vector<std::string>(bob.begin(), bob.begin() + 5)),
            (std::vector<std::string>{"status", "settings", "timezone", "hours", "calendar"}));
  EXPECT_EQ(bob.back(), "unenrol");
  EXPECT_EQ(listing("dave@example.org").front(), "enrol") << "someone not enrolled starts there";
  const auto admin = listing("admin@example.org");
  EXPECT_EQ(admin.front(), "enrol");
  EXPECT_EQ((std::vector<std::string>(admin.end() - 6, admin.end())),
            (std::vector<std::string>{"stats", "queues", "reload", "backup", "flush", "drop"}));
}

// Point 18.
TEST_F(AnswersTest, BadInputInAFormReturnsTheFormWithAnErrorNote) {
  say("dave@example.org", "enrol Europe/Berlin");
  for (const auto& [node, var, bad, why] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"timezone", "timezone", "Europe/Berln", "error: Unknown time zone \"Europe/Berln\""},
           {"hours", "hours", "Mon-Fri 9-17", "error: Those hours cannot be read"},
           {"when", "jid", "bob", "error: \"bob\" is not an address"},
           {"pause", "duration", "soon", "error: For how long?"},
           {"subscribers", "who", "everyone", "error: Give domain (people of your domain)"}}) {
    const auto answer = command("dave@example.org", node, {{{var, bad}}});
    EXPECT_EQ(answer.attr("status"), "executing") << node << ": " << answer.to_xml();
    EXPECT_EQ(note(answer).find(why), 0u) << node << ": " << note(answer);
    EXPECT_EQ(field_value(answer, var), bad) << node << ": what was typed, to correct";
  }
  EXPECT_EQ(router->directory().schedule_source("dave@example.org")->zone, "Europe/Berlin");
  EXPECT_EQ(
      command("dave@example.org", "timezone", {{{"timezone", "Europe/Paris"}}}).attr("status"),
      "completed");
}

// Point 19.
TEST_F(AnswersTest, FormsShowWhatIsInForceAndAnswersSpeakOfForms) {
  const auto enrol = command("dave@example.org", "enrol", {{{"timezone", "Europe/Berlin"}}});
  EXPECT_EQ(note(enrol),
            "info: You are enrolled (time zone Europe/Berlin). Others now reach you through "
            "dave\\40example.org@sched.example.org; your settings are in this command menu.");
  say("dave@example.org", "hours Mon-Thu 08:00-12:00");
  say("dave@example.org", "through alice@example.org");
  say("dave@example.org", "privacy none");
  EXPECT_EQ(field_value(command("dave@example.org", "hours"), "hours"), "Mon-Thu 08:00-12:00");
  EXPECT_EQ(field_value(command("dave@example.org", "timezone"), "timezone"), "Europe/Berlin");
  EXPECT_EQ(field_value(command("dave@example.org", "through"), "jids"), "alice@example.org");
  EXPECT_EQ(field_value(command("dave@example.org", "privacy"), "level"), "none");
  EXPECT_EQ(field_value(command("dave@example.org", "kind"), "kind"), "work");
  EXPECT_EQ(field_value(command("dave@example.org", "subscribers"), "who"), "domain");
  EXPECT_EQ(note(command("erin@example.org", "status")),
            "info: You are not enrolled with Concierge: run \"Enrol with Concierge\" first.");
}

// Admin answers: counts in words; the form's confirm box is named, not a chat line.
TEST_F(AnswersTest, AdminAnswersCountInWordsAndFormsNameTheirConfirmBox) {
  say("bob@example.org", "pause 1h");
  write("alice@example.org", "bob", "one");
  const auto asked = command("admin@example.org", "drop", {{{"jid", "bob@example.org"}}});
  EXPECT_EQ(note(asked),
            "info: 1 message is held for bob@example.org. Tick \"Yes, drop them\" to drop them "
            "(their senders are told).");
  EXPECT_EQ(say("admin@example.org", "drop bob@example.org"),
            "1 message is held for bob@example.org. To drop them (their senders are told), send "
            "\"drop bob@example.org confirm\".");
  EXPECT_EQ(say("admin@example.org", "drop bob@example.org confirm"),
            "Dropped 1 held message for bob@example.org.");
}

}  // namespace
}  // namespace concierge::core
