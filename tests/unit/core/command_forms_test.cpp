// SPDX-License-Identifier: MIT
// Users' own settings as they show and act: the week view, answers in the thread they came in,
// always-through and urgent policy, proxy subscribers, held-for-me, every ad-hoc form against
// its chat twin, admin commands hidden from others.
#include <gtest/gtest.h>

#include <tests/unit/core/settings_fixture.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using testing::compiled;
using testing::kIcs;
using testing::kMonday0900Utc;
using testing::SettingsTest;
using testing::xml;

// The week view across DST changes: Berlin springs forward at 02:00 on Sun 2027-03-28;
// Santiago's clocks jump from 00:00 to 01:00 on Sun 2026-09-06 (that local midnight never is).
TEST_F(SettingsTest, TheWeekViewKeepsLocalHoursAcrossDaylightSavingChanges) {
  struct Case {
    const char* zone;
    Instant at;
    const char* sunday;
  };
  for (const Case& c : {Case{"Europe/Berlin", Instant{std::chrono::sys_days{std::chrono::year{2027} / 3 / 25}} + 12h,
                             "Sun 28 Mar: 09:00-17:00"},
                        Case{"America/Santiago", Instant{std::chrono::sys_days{std::chrono::year{2026} / 9 / 3}} + 15h,
                             "Sun  6 Sep: 09:00-17:00"}}) {
    now = c.at;
    say("alice@example.org", std::string("enrol ") + c.zone);
    say("alice@example.org", "hours Mon-Sun 09:00-17:00");
    const auto source = *router->directory().schedule_source("alice@example.org");
    router->schedule_compiled("alice@example.org", source, compiled(source, now), now, out);
    const std::string status = say("alice@example.org", "status");
    EXPECT_NE(status.find(c.sunday), std::string::npos) << c.zone << "\n" << status;
    std::size_t days = 0;
    for (std::size_t at = status.find(": 09:00-17:00"); at != std::string::npos;
         at = status.find(": 09:00-17:00", at + 1)) {
      ++days;
    }
    EXPECT_EQ(days, 7u) << c.zone << "\n" << status;
    say("alice@example.org", "unenrol");
  }
}

TEST_F(SettingsTest, EveryCommandIsAnsweredInTheThreadAndTypeItCameIn) {
  for (const char* body : {"help", "status", "no-such-command"}) {
    out.clear();
    router->handle(xml(std::string("<message from=\"bob@example.org/r\" to=\"sched.example.org\" "
                                   "type=\"normal\"><thread>t-7</thread><body>") + body + "</body></message>"),
                   now, out);
    ASSERT_EQ(out.stanzas.size(), 1u) << body;
    EXPECT_EQ(out.stanzas[0].child_text("thread"), "t-7") << body;
    EXPECT_EQ(out.stanzas[0].attr("type"), "normal") << body;
    EXPECT_EQ(out.stanzas[0].attr("to"), "bob@example.org/r") << body;
  }
}

TEST_F(SettingsTest, AlwaysThroughAndUrgentPolicyDecideUrgentMessages) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", "hours Sat 09:00-10:00");  // off on Monday
  const auto source = *router->directory().schedule_source("alice@example.org");
  router->schedule_compiled("alice@example.org", source, compiled(source, now), now, out);
  auto urgent = [&](const std::string& from) {
    out.clear();
    router->handle(xml("<message from=\"" + from + "/r\" to=\"alice\\40example.org@sched.example.org\" "
                       "type=\"chat\" id=\"u\"><body>!urgent server down</body></message>"),
                   now, out);
    return !out.stanzas.empty() && out.stanzas[0].attr("to") == "alice@example.org";
  };
  EXPECT_FALSE(urgent("boss@example.org")) << "nobody is on the list yet";
  EXPECT_EQ(say("alice@example.org", "through boss@example.org"), "Always through: boss@example.org.");
  EXPECT_TRUE(urgent("boss@example.org"));
  EXPECT_FALSE(urgent("carol@example.org"));
  EXPECT_NE(say("alice@example.org", "through not an address@").find("is not an address"), std::string::npos);
  say("alice@example.org", "urgent anyone");
  EXPECT_TRUE(urgent("carol@example.org"));
}

TEST_F(SettingsTest, SubscribersPolicyNarrowsWhoSeesTheProxyAndDropsThoseWhoNoLongerMay) {
  auto subscribe = [&](const std::string& who) {
    out.clear();
    router->handle(xml("<presence from=\"" + who + "/r\" to=\"bob\\40example.org@sched.example.org\" "
                       "type=\"subscribe\"/>"),
                   now, out);
    return out.stanzas.at(0).attr("type") == "subscribed";
  };
  EXPECT_TRUE(subscribe("alice@example.org")) << "own domain: the default";
  EXPECT_FALSE(subscribe("olga@other.org"));
  EXPECT_EQ(say("bob@example.org", "subscribers served"), "Who may see your status: people of example.org and other.org.");
  EXPECT_TRUE(subscribe("olga@other.org"));
  EXPECT_EQ(say("bob@example.org", "subscribers alice@example.org"),
            "Who may see your status: alice@example.org. 1 subscriber no longer may and was removed.");
  bool olga_dropped = false;
  for (const auto& s : out.stanzas) {
    olga_dropped |= s.attr("to") == "olga@other.org" && s.attr("type") == "unsubscribed";
  }
  EXPECT_TRUE(olga_dropped);
  EXPECT_EQ(router->presences().subscriptions().proxies().subscriber_count("bob@example.org"), 1u);
  say("bob@example.org", "subscribers nobody");
  EXPECT_EQ(router->presences().subscriptions().proxies().subscriber_count("bob@example.org"), 0u);
  EXPECT_FALSE(subscribe("alice@example.org"));
}

TEST_F(SettingsTest, HeldForMeShowsSendersCountsAndAgesNeverBodies) {
  ScheduleSource saturdays;
  saturdays.zone = "Europe/Berlin";
  saturdays.hours = "Sat 09:00-10:00";
  router->set_schedule("bob@example.org", compiled(saturdays, now), now, out);
  for (const char* from : {"alice@example.org", "alice@example.org", "carol@example.org"}) {
    out.clear();
    router->handle(xml(std::string("<message from=\"") + from +
                       "/r\" to=\"bob\\40example.org@sched.example.org\" type=\"chat\" id=\"m\">"
                       "<body>secret plans</body></message>"),
                   now, out);
    now += 30min;
  }
  const std::string text = say("bob@example.org", "waiting");
  EXPECT_EQ(text,
            "Held for you:\n  alice@example.org: 2 messages, oldest 90 min old\n  carol@example.org: "
            "1 message, oldest 30 min old\nThey come to you when you are free and working (\"pause "
            "0\" or \"end\" if you are paused).");
  EXPECT_EQ(say("bob@example.org", "held for me"), text) << "the same, in words";
  EXPECT_EQ(submit("bob@example.org", "waiting", {}),
            text.substr(0, text.rfind('\n')) +
                "\nThey come to you when you are free and working (if you are paused: \"End my "
                "pause or my conversations\").")
      << "and as an ad-hoc command, in the words of its menu";
  EXPECT_EQ(say("alice@example.org", "held"),
            "Held for delivery:\n  bob@example.org: 2 messages, oldest 90 min old\nSend \"cancel\" (or "
            "\"cancel user@domain\") to withdraw them.");
}

TEST_F(SettingsTest, EveryFormRunsItsChatTwin) {
  EXPECT_EQ(submit("alice@example.org", "enrol", {{"timezone", {"Europe/Berlin"}}, {"calendar_url", {""}}}),
            "You are enrolled (time zone Europe/Berlin). Others now reach you through "
            "alice\\40example.org@sched.example.org; your settings are in this command menu.");
  EXPECT_EQ(submit("alice@example.org", "hours", {{"hours", {"Mon-Fri 09:00-17:00"}}}),
            "Your weekly hours are Mon-Fri 09:00-17:00.");
  EXPECT_EQ(submit("alice@example.org", "hours", {{"hours", {""}}}), "<executing>")
      << "a required field left empty asks again";
  EXPECT_EQ(submit("alice@example.org", "kind", {{"kind", {"personal"}}}),
            "Your calendar now counts as a personal calendar.");
  EXPECT_EQ(submit("alice@example.org", "timezone", {{"timezone", {"Europe/Paris"}}}),
            "Time zone set to Europe/Paris.");
  EXPECT_EQ(submit("alice@example.org", "through", {{"jids", {"boss@example.org", "deputy@example.org"}}}),
            "Always through: boss@example.org, deputy@example.org.");
  EXPECT_EQ(submit("alice@example.org", "urgent", {{"from", {"anyone"}}}),
            "Anyone may now send you urgent messages (at most 3 an hour each).");
  EXPECT_EQ(submit("alice@example.org", "subscribers", {{"who", {"nobody"}}}), "Who may see your status: nobody.");
  EXPECT_EQ(submit("alice@example.org", "calendar", {{"url", {"https://cal.example.org/A.ics"}}}),
            "Fetching your calendar: it is in force as soon as it is read; you hear from me only if "
            "something is wrong with it.");
  // An upload arrives as a text-multi field, one value per line.
  std::vector<std::string> lines;
  std::string ics = kIcs;
  for (std::size_t at = 0; at < ics.size();) {
    const auto end = ics.find("\r\n", at);
    lines.push_back(ics.substr(at, end - at));
    at = end + 2;
  }
  EXPECT_EQ(submit("alice@example.org", "upload", {{"ics", lines}}),
            "Reading your calendar: it is in force as soon as it is read; you hear from me only if "
            "something is wrong with it.");
  const auto source = *router->directory().schedule_source("alice@example.org");
  EXPECT_TRUE(source.pending);
  EXPECT_NE(source.upload.find("RRULE:FREQ=DAILY\nEND:VEVENT"), std::string::npos);
  EXPECT_TRUE(compiled(source, now)) << "the joined lines are a calendar again";
  EXPECT_EQ(submit("alice@example.org", "privacy", {{"level", {"wait"}}}), "Privacy set to wait: senders learn only that a message will wait.");
  EXPECT_EQ(submit("alice@example.org", "unenrol", {{"confirm", {"1"}}}),
            "You are unenrolled; messages held for you went back to their senders.");
}

TEST_F(SettingsTest, AdminCommandsAreHiddenAndForbiddenForOthers) {
  auto listing = [&](const std::string& who) {
    out.clear();
    router->handle(xml("<iq type=\"get\" id=\"l\" from=\"" + who + "/r\" to=\"sched.example.org\"><query "
                       "xmlns=\"http://jabber.org/protocol/disco#items\" "
                       "node=\"http://jabber.org/protocol/commands\"/></iq>"),
                   now, out);
    return out.stanzas.at(0).to_xml();
  };
  EXPECT_EQ(listing("bob@example.org").find("node=\"stats\""), std::string::npos);
  EXPECT_NE(listing("admin@example.org").find("node=\"stats\""), std::string::npos);
  EXPECT_NE(listing("bob@example.org").find("node=\"upload\""), std::string::npos);
  for (const char* node : {"stats", "queues", "reload", "backup", "flush", "drop"}) {
    EXPECT_EQ(submit("bob@example.org", node, {{"jid", {"bob@example.org"}}}), "<error>") << node;
    EXPECT_NE(out.stanzas[0].to_xml().find("<forbidden"), std::string::npos) << node;
  }
  EXPECT_NE(submit("admin@example.org", "stats", {}).find("Enrolled: 1 by the config"), std::string::npos);
  EXPECT_EQ(submit("admin@example.org", "drop", {{"jid", {"bob@example.org"}}, {"confirm", {"1"}}}),
            "Nothing is held for bob@example.org.");
}

}  // namespace
}  // namespace concierge::core
