// SPDX-License-Identifier: MIT
// Users' own settings (DESIGN §4, §5, §7): enrolment by chat, time zone, calendar URL and
// upload, weekly hours, calendar kind, always-through, urgent policy, proxy subscribers — as
// chat commands and as their ad-hoc forms, with the config's keys winning.
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
const Instant kMonday0900Utc = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 9h;

const char* kIcs =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
    "DTSTAMP:20261101T000000Z\r\nDTSTART:20261130T080000Z\r\nDTEND:20261130T160000Z\r\n"
    "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

Settings settings() {
  Settings s = testing::base_settings({"example.org", "other.org"});
  testing::enrol(s, {"bob@example.org"}, "Europe/Berlin", "Mon-Fri 09:00-17:00");
  s.users["bob@example.org"].admin_keys = {"timezone", "hours"};
  s.admins = {"admin@example.org"};
  return s;
}

std::shared_ptr<const ical::Schedule> compiled(const ScheduleSource& source, Instant around) {
  ical::CompileRequest r;
  r.zone = source.zone;
  r.hours = source.hours;
  r.calendar = source.upload;
  r.kind = source.personal ? ical::CalendarKind::personal : ical::CalendarKind::work;
  ical::set_window_around(r, to_utc_seconds(around), 20);
  auto s = ical::compile(r);
  EXPECT_TRUE(s.ok()) << s.error();
  return std::make_shared<const ical::Schedule>(s.value());
}

class ProfileTest : public testing::CoreTest {
 protected:
  ProfileTest() : CoreTest(settings(), kMonday0900Utc) {}

  void SetUp() override {
    router->connected(now, out);
    out.clear();
  }
  // An ad-hoc command submitted with `fields` (var → values); the completed note, or the
  // status when it did not complete.
  std::string submit(const std::string& who, const std::string& node,
                     const std::vector<std::pair<std::string, std::vector<std::string>>>& fields) {
    std::string form = "<x xmlns=\"jabber:x:data\" type=\"submit\">";
    for (const auto& [var, values] : fields) {
      form += "<field var=\"" + var + "\">";
      for (const auto& v : values) form += "<value>" + v + "</value>";
      form += "</field>";
    }
    form += "</x>";
    out.clear();
    router->handle(xml("<iq type=\"set\" id=\"c\" from=\"" + who + "/r\" to=\"sched.example.org\">"
                       "<command xmlns=\"http://jabber.org/protocol/commands\" node=\"" + node +
                       "\" sessionid=\"s1\">" + form + "</command></iq>"),
                   now, out);
    const xmpp::Element* iq = nullptr;
    for (const auto& s : out.stanzas) {
      if (s.name == "iq" && s.attr("id") == "c") iq = &s;
    }
    if (!iq) return "<no answer>";
    const auto* command = iq->child("command");
    if (!command) return "<" + std::string(iq->attr("type")) + ">";
    if (command->attr("status") != "completed") return "<" + std::string(command->attr("status")) + ">";
    return command->child_text("note").value_or("");
  }
  bool asked_to_compile(const std::string& who) const {
    return std::find(out.schedule_changed.begin(), out.schedule_changed.end(), who) !=
           out.schedule_changed.end();
  }
};

TEST_F(ProfileTest, EnrolByChatThenSetZoneHoursAndKind) {
  EXPECT_NE(say("alice@example.org", "hours Mon-Fri 09:00-17:00").find("not enrolled"), std::string::npos);
  EXPECT_NE(say("alice@example.org", "enrol Mars/Olympus").find("Unknown time zone"), std::string::npos);
  EXPECT_EQ(say("alice@example.org", "enrol Europe/Berlin"),
            "You are enrolled (time zone Europe/Berlin). Others now reach you through "
            "alice\\40example.org@sched.example.org; send \"help\" for your settings.");
  EXPECT_TRUE(router->enrolled("alice@example.org"));
  ASSERT_EQ(store.enrolments().size(), 1u);

  EXPECT_EQ(say("alice@example.org", "timezone America/New_York"), "Time zone set to America/New_York.");
  EXPECT_EQ(router->schedule_source("alice@example.org")->zone, "America/New_York");
  EXPECT_EQ(store.enrolment("alice@example.org")->timezone, "America/New_York") << "kept in the store";

  EXPECT_NE(say("alice@example.org", "hours Mox-Fri 09:00-17:00").find("cannot be read"), std::string::npos);
  EXPECT_FALSE(asked_to_compile("alice@example.org")) << "a bad pattern changes nothing";
  EXPECT_EQ(say("alice@example.org", "hours Mon-Thu 08:00-16:00"), "Your weekly hours are Mon-Thu 08:00-16:00.");
  EXPECT_TRUE(asked_to_compile("alice@example.org"));
  EXPECT_EQ(router->schedule_source("alice@example.org")->hours, "Mon-Thu 08:00-16:00");

  EXPECT_NE(say("alice@example.org", "kind sometimes").find("Say \"kind work\""), std::string::npos);
  EXPECT_EQ(say("alice@example.org", "kind personal"), "Your calendar now counts as a personal calendar.");
  EXPECT_TRUE(router->schedule_source("alice@example.org")->personal);

  // The compile the app runs adds no second answer (issue 15 point 14); status shows it.
  const auto source = *router->schedule_source("alice@example.org");
  out.clear();
  router->schedule_compiled("alice@example.org", source, compiled(source, now), now, out);
  EXPECT_TRUE(out.stanzas.empty());
  EXPECT_EQ(say("alice@example.org", "status").find("You are off until Mon 08:00."), 0u)
      << "09:00 UTC is 04:00 in New York: before Mon-Thu 08:00-16:00, told in alice's own zone";
}

TEST_F(ProfileTest, SettingsSurviveARestartAndUnenrolForgetsThem) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", "hours Mon-Fri 10:00-12:00");
  say("alice@example.org", "through boss@example.org, Deputy@Example.org");
  say("alice@example.org", "urgent anyone");
  say("alice@example.org", "subscribers served");
  restart(settings());
  EXPECT_EQ(router->schedule_source("alice@example.org")->hours, "Mon-Fri 10:00-12:00");
  EXPECT_EQ(router->always_through("alice@example.org"),
            (std::set<std::string>{"boss@example.org", "deputy@example.org"}));
  EXPECT_TRUE(router->urgent_from_anyone("alice@example.org"));
  EXPECT_TRUE(router->may_subscribe("alice@example.org", "someone@other.org"));
  EXPECT_EQ(say("alice@example.org", "unenrol"),
            "You are unenrolled; messages held for you went back to their senders.");
  EXPECT_FALSE(router->enrolled("alice@example.org"));
  EXPECT_TRUE(store.settings().empty()) << "nothing of alice is kept";
}

TEST_F(ProfileTest, KeysTheAdminSetAreRefusedOthersAreTheUsers) {
  EXPECT_EQ(say("bob@example.org", "hours Mon 09:00-10:00"), "Your hours is set by your admin.");
  EXPECT_EQ(say("bob@example.org", "timezone Europe/Paris"), "Your timezone is set by your admin.");
  EXPECT_EQ(say("bob@example.org", "unenrol"),
            "You are enrolled by your admin: ask them to remove you.");
  // Not set by the admin: bob's to choose.
  EXPECT_EQ(say("bob@example.org", "kind personal"), "Your calendar now counts as a personal calendar.");
  EXPECT_TRUE(router->schedule_source("bob@example.org")->personal);
  EXPECT_EQ(router->schedule_source("bob@example.org")->hours, "Mon-Fri 09:00-17:00");
  EXPECT_EQ(say("bob@example.org", "settings"),
            "Your settings:\n  time zone: Europe/Berlin\n  calendar: none\n  hours: Mon-Fri "
            "09:00-17:00\n  kind: personal\n  always through: nobody\n  urgent from: "
            "your always-through list\n  proxy subscribers: people of example.org\n  privacy: exact: senders "
            "of your domain see when you are back (others: only that a message will wait)\n  "
            "pause: none\n  blocked: nobody");
}

TEST_F(ProfileTest, ANewCalendarIsPendingUntilItCompilesAndABadOneKeepsTheOld) {
  say("alice@example.org", "enrol Europe/Berlin");
  // A URL keeps its case (paths are case-sensitive); plain http is refused here.
  EXPECT_NE(say("alice@example.org", "calendar http://cal.example.org/a.ics").find("https"),
            std::string::npos);
  EXPECT_EQ(say("alice@example.org", "calendar https://Cal.example.org/Team/Alice.ics"),
            "Fetching your calendar: it is in force as soon as it is read; you hear from me only if "
            "something is wrong with it.");
  auto pending = *router->schedule_source("alice@example.org");
  EXPECT_TRUE(pending.pending);
  EXPECT_EQ(pending.url, "https://Cal.example.org/Team/Alice.ics");
  out.clear();
  router->schedule_failed("alice@example.org", pending, "HTTP 404 from https://Cal.example.org/…", now, out);
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].child_text("body"),
            "Concierge: your new calendar cannot be used: HTTP 404 from https://Cal.example.org/…. "
            "Your previous schedule stays in force.");
  EXPECT_FALSE(router->schedule_source("alice@example.org")->has_calendar()) << "the old source (none) stays";

  // An upload, pasted as a chat message: good this time.
  EXPECT_EQ(say("alice@example.org", kIcs),
            "Reading your calendar: it is in force as soon as it is read; you hear from me only if "
            "something is wrong with it.");
  auto upload = *router->schedule_source("alice@example.org");
  ASSERT_TRUE(upload.pending);
  out.clear();
  router->schedule_compiled("alice@example.org", upload, compiled(upload, now), now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "in force as the answer promised: nothing more to say";
  EXPECT_FALSE(router->schedule_source("alice@example.org")->pending);
  EXPECT_EQ(router->status_of("alice@example.org", now), ical::Status::working);

  // Then a broken upload: the good one stays, in memory and in the store.
  say("alice@example.org", "upload BEGIN:VCALENDAR\nBEGIN:VEVENT\n");
  auto broken = *router->schedule_source("alice@example.org");
  out.clear();
  router->schedule_failed("alice@example.org", broken, "the calendar is incomplete", now, out);
  EXPECT_EQ(out.stanzas.at(0).child_text("body"),
            "Concierge: your new calendar cannot be used: the calendar is incomplete. Your "
            "previous schedule stays in force.");
  restart(settings());
  const auto kept = router->schedule_source("alice@example.org")->upload;
  EXPECT_EQ(kept, upload.upload) << "the good one after a restart";
  EXPECT_NE(kept.find("RRULE:FREQ=DAILY"), std::string::npos);
}

TEST_F(ProfileTest, ARefreshThatKeepsFailingIsToldOncePerProblem) {
  say("alice@example.org", "enrol Europe/Berlin https://cal.example.org/a.ics");
  auto pending = *router->schedule_source("alice@example.org");
  EXPECT_TRUE(pending.pending) << "a URL given at enrolment is new like any other";
  router->schedule_compiled("alice@example.org", pending, compiled(pending, now), now, out);
  const auto source = *router->schedule_source("alice@example.org");
  EXPECT_FALSE(source.pending) << "now the user's calendar of record";
  int told = 0;
  for (const char* why : {"timeout", "timeout", "HTTP 503", "HTTP 503"}) {
    out.clear();
    router->schedule_failed("alice@example.org", source, why, now, out);
    told += static_cast<int>(out.stanzas.size());
  }
  EXPECT_EQ(told, 2);
}

TEST_F(ProfileTest, EnrolAgainKeepsTheCalendarAndABadNewUrlKeepsTheOldOne) {
  say("alice@example.org", "enrol Europe/Berlin https://cal.example.org/good.ics");
  auto good = *router->schedule_source("alice@example.org");
  router->schedule_compiled("alice@example.org", good, compiled(good, now), now, out);
  say("alice@example.org", "enrol Europe/Paris");
  auto now_source = *router->schedule_source("alice@example.org");
  EXPECT_EQ(now_source.zone, "Europe/Paris");
  EXPECT_EQ(now_source.url, "https://cal.example.org/good.ics") << "enrol without a URL keeps it";
  say("alice@example.org", "enrol Europe/Paris https://cal.example.org/typo.ics");
  auto typo = *router->schedule_source("alice@example.org");
  ASSERT_TRUE(typo.pending);
  out.clear();
  router->schedule_failed("alice@example.org", typo, "it could not be fetched: HTTP 404", now, out);
  EXPECT_EQ(router->schedule_source("alice@example.org")->url, "https://cal.example.org/good.ics");
  EXPECT_FALSE(router->schedule_source("alice@example.org")->pending);
  EXPECT_TRUE(asked_to_compile("alice@example.org"))
      << "the calendar of record is compiled again (after a restart it may never have been)";
  say("alice@example.org", "enrol Europe/Paris https://cal.example.org/typo2.ics");
  say("alice@example.org", "enrol Europe/Paris https://cal.example.org/good.ics");
  EXPECT_FALSE(router->schedule_source("alice@example.org")->pending)
      << "naming the URL in force again drops the pending one";
}

TEST_F(ProfileTest, APendingCalendarSurvivesARestartAndIsStillReported) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", kIcs);
  restart(settings());
  auto source = *router->schedule_source("alice@example.org");
  ASSERT_TRUE(source.pending) << "the upload waits to be compiled after the restart";
  out.clear();
  router->schedule_compiled("alice@example.org", source, compiled(source, now), now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "in force as promised before the restart";
  restart(settings());
  EXPECT_FALSE(router->schedule_source("alice@example.org")->pending);
  EXPECT_FALSE(router->schedule_source("alice@example.org")->upload.empty());
}

TEST_F(ProfileTest, AResultForASourceChangedMeanwhileIsIgnored) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", "calendar https://cal.example.org/u2.ics");
  const auto u2 = *router->schedule_source("alice@example.org");
  say("alice@example.org", "calendar https://cal.example.org/u3.ics");
  out.clear();
  router->schedule_compiled("alice@example.org", u2, compiled(u2, now), now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "nobody is told U2 is in force: U3 is what they gave last";
  router->schedule_failed("alice@example.org", u2, "HTTP 404", now, out);
  EXPECT_TRUE(out.stanzas.empty());
  EXPECT_EQ(router->schedule_source("alice@example.org")->url, "https://cal.example.org/u3.ics");
  EXPECT_TRUE(router->schedule_source("alice@example.org")->pending);
}

TEST_F(ProfileTest, SettingsShowACalendarUrlAsSchemeAndHostOnly) {
  say("alice@example.org", "enrol Europe/Berlin https://user:token@cal.example.org:8443/private/a.ics?key=s3cret");
  auto source = *router->schedule_source("alice@example.org");
  router->schedule_compiled("alice@example.org", source, nullptr, now, out);
  const std::string settings = say("alice@example.org", "settings");
  EXPECT_NE(settings.find("calendar: https://cal.example.org:8443/…\n"), std::string::npos) << settings;
  for (const char* secret : {"user", "token", "private", "s3cret"}) {
    EXPECT_EQ(settings.find(secret), std::string::npos) << secret;
  }
}

TEST_F(ProfileTest, CommandsCountAgainstTheSendersRate) {
  Settings s = settings();
  s.messages_per_sender_per_minute = 3;
  router = std::make_unique<Router>(s, store);
  for (int i = 0; i < 3; ++i) EXPECT_NE(say("bob@example.org", "status"), "<no answer>");
  EXPECT_EQ(say("bob@example.org", "status"), "You are sending too fast; wait a minute and send again.");
  EXPECT_EQ(submit("bob@example.org", "status", {}), "<error>");
  now += 1min;
  EXPECT_NE(say("bob@example.org", "status").find("You are"), std::string::npos);
}

// The week view across DST changes: Berlin springs forward at 02:00 on Sun 2027-03-28;
// Santiago's clocks jump from 00:00 to 01:00 on Sun 2026-09-06 (that local midnight never is).
TEST_F(ProfileTest, TheWeekViewKeepsLocalHoursAcrossDaylightSavingChanges) {
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
    const auto source = *router->schedule_source("alice@example.org");
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

TEST_F(ProfileTest, EveryCommandIsAnsweredInTheThreadAndTypeItCameIn) {
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

TEST_F(ProfileTest, AlwaysThroughAndUrgentPolicyDecideUrgentMessages) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", "hours Sat 09:00-10:00");  // off on Monday
  const auto source = *router->schedule_source("alice@example.org");
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

TEST_F(ProfileTest, SubscribersPolicyNarrowsWhoSeesTheProxyAndDropsThoseWhoNoLongerMay) {
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
  EXPECT_EQ(router->proxy_subscribers("bob@example.org"), 1u);
  say("bob@example.org", "subscribers nobody");
  EXPECT_EQ(router->proxy_subscribers("bob@example.org"), 0u);
  EXPECT_FALSE(subscribe("alice@example.org"));
}

TEST_F(ProfileTest, HeldForMeShowsSendersCountsAndAgesNeverBodies) {
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

TEST_F(ProfileTest, EveryFormRunsItsChatTwin) {
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
  const auto source = *router->schedule_source("alice@example.org");
  EXPECT_TRUE(source.pending);
  EXPECT_NE(source.upload.find("RRULE:FREQ=DAILY\nEND:VEVENT"), std::string::npos);
  EXPECT_TRUE(compiled(source, now)) << "the joined lines are a calendar again";
  EXPECT_EQ(submit("alice@example.org", "privacy", {{"level", {"wait"}}}), "Privacy set to wait: senders learn only that a message will wait.");
  EXPECT_EQ(submit("alice@example.org", "unenrol", {{"confirm", {"1"}}}),
            "You are unenrolled; messages held for you went back to their senders.");
}

TEST_F(ProfileTest, AdminCommandsAreHiddenAndForbiddenForOthers) {
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
