// SPDX-License-Identifier: MIT
// Users' own settings (DESIGN §4, §5, §7): enrolment by chat, time zone, calendar URL and
// upload, weekly hours, calendar kind, pending calendars and their outcome, with the config's
// keys winning.
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

Settings settings() { return testing::profile_settings(); }

TEST_F(SettingsTest, EnrolByChatThenSetZoneHoursAndKind) {
  EXPECT_NE(say("alice@example.org", "hours Mon-Fri 09:00-17:00").find("not enrolled"), std::string::npos);
  EXPECT_NE(say("alice@example.org", "enrol Mars/Olympus").find("Unknown time zone"), std::string::npos);
  EXPECT_EQ(say("alice@example.org", "enrol Europe/Berlin"),
            "You are enrolled (time zone Europe/Berlin). Others now reach you through "
            "alice\\40example.org@sched.example.org; send \"help\" for your settings.");
  EXPECT_TRUE(router->directory().enrolled("alice@example.org"));
  ASSERT_EQ(store.enrolments().size(), 1u);

  EXPECT_EQ(say("alice@example.org", "timezone America/New_York"), "Time zone set to America/New_York.");
  EXPECT_EQ(router->directory().schedule_source("alice@example.org")->zone, "America/New_York");
  EXPECT_EQ(store.enrolment("alice@example.org")->timezone, "America/New_York") << "kept in the store";

  EXPECT_NE(say("alice@example.org", "hours Mox-Fri 09:00-17:00").find("cannot be read"), std::string::npos);
  EXPECT_FALSE(asked_to_compile("alice@example.org")) << "a bad pattern changes nothing";
  EXPECT_EQ(say("alice@example.org", "hours Mon-Thu 08:00-16:00"), "Your weekly hours are Mon-Thu 08:00-16:00.");
  EXPECT_TRUE(asked_to_compile("alice@example.org"));
  EXPECT_EQ(router->directory().schedule_source("alice@example.org")->hours, "Mon-Thu 08:00-16:00");

  EXPECT_NE(say("alice@example.org", "kind sometimes").find("Say \"kind work\""), std::string::npos);
  EXPECT_EQ(say("alice@example.org", "kind personal"), "Your calendar now counts as a personal calendar.");
  EXPECT_TRUE(router->directory().schedule_source("alice@example.org")->personal);

  // The compile the app runs adds no second answer (issue 15 point 14); status shows it.
  const auto source = *router->directory().schedule_source("alice@example.org");
  out.clear();
  router->schedule_compiled("alice@example.org", source, compiled(source, now), now, out);
  EXPECT_TRUE(out.stanzas.empty());
  EXPECT_EQ(say("alice@example.org", "status").find("You are off until Mon 08:00."), 0u)
      << "09:00 UTC is 04:00 in New York: before Mon-Thu 08:00-16:00, told in alice's own zone";
}

TEST_F(SettingsTest, SettingsSurviveARestartAndUnenrolForgetsThem) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", "hours Mon-Fri 10:00-12:00");
  say("alice@example.org", "through boss@example.org, Deputy@Example.org");
  say("alice@example.org", "urgent anyone");
  say("alice@example.org", "subscribers served");
  restart(settings());
  EXPECT_EQ(router->directory().schedule_source("alice@example.org")->hours, "Mon-Fri 10:00-12:00");
  EXPECT_EQ(router->directory().always_through("alice@example.org"),
            (std::set<std::string>{"boss@example.org", "deputy@example.org"}));
  EXPECT_TRUE(router->directory().urgent_from_anyone("alice@example.org"));
  EXPECT_TRUE(router->directory().may_subscribe("alice@example.org", "someone@other.org"));
  EXPECT_EQ(say("alice@example.org", "unenrol"),
            "You are unenrolled; messages held for you went back to their senders.");
  EXPECT_FALSE(router->directory().enrolled("alice@example.org"));
  EXPECT_TRUE(store.settings().empty()) << "nothing of alice is kept";
}

TEST_F(SettingsTest, KeysTheAdminSetAreRefusedOthersAreTheUsers) {
  EXPECT_EQ(say("bob@example.org", "hours Mon 09:00-10:00"), "Your hours is set by your admin.");
  EXPECT_EQ(say("bob@example.org", "timezone Europe/Paris"), "Your timezone is set by your admin.");
  EXPECT_EQ(say("bob@example.org", "unenrol"),
            "You are enrolled by your admin: ask them to remove you.");
  // Not set by the admin: bob's to choose.
  EXPECT_EQ(say("bob@example.org", "kind personal"), "Your calendar now counts as a personal calendar.");
  EXPECT_TRUE(router->directory().schedule_source("bob@example.org")->personal);
  EXPECT_EQ(router->directory().schedule_source("bob@example.org")->hours, "Mon-Fri 09:00-17:00");
  EXPECT_EQ(say("bob@example.org", "settings"),
            "Your settings:\n  time zone: Europe/Berlin\n  calendar: none\n  hours: Mon-Fri "
            "09:00-17:00\n  kind: personal\n  always through: nobody\n  urgent from: "
            "your always-through list\n  proxy subscribers: people of example.org\n  privacy: exact: senders "
            "of your domain see when you are back (others: only that a message will wait)\n  "
            "pause: none\n  blocked: nobody");
}

TEST_F(SettingsTest, ANewCalendarIsPendingUntilItCompilesAndABadOneKeepsTheOld) {
  say("alice@example.org", "enrol Europe/Berlin");
  // A URL keeps its case (paths are case-sensitive); plain http is refused here.
  EXPECT_NE(say("alice@example.org", "calendar http://cal.example.org/a.ics").find("https"),
            std::string::npos);
  EXPECT_EQ(say("alice@example.org", "calendar https://Cal.example.org/Team/Alice.ics"),
            "Fetching your calendar: it is in force as soon as it is read; you hear from me only if "
            "something is wrong with it.");
  auto pending = *router->directory().schedule_source("alice@example.org");
  EXPECT_TRUE(pending.pending);
  EXPECT_EQ(pending.url, "https://Cal.example.org/Team/Alice.ics");
  out.clear();
  router->schedule_failed("alice@example.org", pending, "HTTP 404 from https://Cal.example.org/…", now, out);
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].child_text("body"),
            "Concierge: your new calendar cannot be used: HTTP 404 from https://Cal.example.org/…. "
            "Your previous schedule stays in force.");
  EXPECT_FALSE(router->directory().schedule_source("alice@example.org")->has_calendar()) << "the old source (none) stays";

  // An upload, pasted as a chat message: good this time.
  EXPECT_EQ(say("alice@example.org", kIcs),
            "Reading your calendar: it is in force as soon as it is read; you hear from me only if "
            "something is wrong with it.");
  auto upload = *router->directory().schedule_source("alice@example.org");
  ASSERT_TRUE(upload.pending);
  out.clear();
  router->schedule_compiled("alice@example.org", upload, compiled(upload, now), now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "in force as the answer promised: nothing more to say";
  EXPECT_FALSE(router->directory().schedule_source("alice@example.org")->pending);
  EXPECT_EQ(router->availability().status_of("alice@example.org", now), ical::Status::working);

  // Then a broken upload: the good one stays, in memory and in the store.
  say("alice@example.org", "upload BEGIN:VCALENDAR\nBEGIN:VEVENT\n");
  auto broken = *router->directory().schedule_source("alice@example.org");
  out.clear();
  router->schedule_failed("alice@example.org", broken, "the calendar is incomplete", now, out);
  EXPECT_EQ(out.stanzas.at(0).child_text("body"),
            "Concierge: your new calendar cannot be used: the calendar is incomplete. Your "
            "previous schedule stays in force.");
  restart(settings());
  const auto kept = router->directory().schedule_source("alice@example.org")->upload;
  EXPECT_EQ(kept, upload.upload) << "the good one after a restart";
  EXPECT_NE(kept.find("RRULE:FREQ=DAILY"), std::string::npos);
}

TEST_F(SettingsTest, ARefreshThatKeepsFailingIsToldOncePerProblem) {
  say("alice@example.org", "enrol Europe/Berlin https://cal.example.org/a.ics");
  auto pending = *router->directory().schedule_source("alice@example.org");
  EXPECT_TRUE(pending.pending) << "a URL given at enrolment is new like any other";
  router->schedule_compiled("alice@example.org", pending, compiled(pending, now), now, out);
  const auto source = *router->directory().schedule_source("alice@example.org");
  EXPECT_FALSE(source.pending) << "now the user's calendar of record";
  int told = 0;
  for (const char* why : {"timeout", "timeout", "HTTP 503", "HTTP 503"}) {
    out.clear();
    router->schedule_failed("alice@example.org", source, why, now, out);
    told += static_cast<int>(out.stanzas.size());
  }
  EXPECT_EQ(told, 2);
}

TEST_F(SettingsTest, EnrolAgainKeepsTheCalendarAndABadNewUrlKeepsTheOldOne) {
  say("alice@example.org", "enrol Europe/Berlin https://cal.example.org/good.ics");
  auto good = *router->directory().schedule_source("alice@example.org");
  router->schedule_compiled("alice@example.org", good, compiled(good, now), now, out);
  say("alice@example.org", "enrol Europe/Paris");
  auto now_source = *router->directory().schedule_source("alice@example.org");
  EXPECT_EQ(now_source.zone, "Europe/Paris");
  EXPECT_EQ(now_source.url, "https://cal.example.org/good.ics") << "enrol without a URL keeps it";
  say("alice@example.org", "enrol Europe/Paris https://cal.example.org/typo.ics");
  auto typo = *router->directory().schedule_source("alice@example.org");
  ASSERT_TRUE(typo.pending);
  out.clear();
  router->schedule_failed("alice@example.org", typo, "it could not be fetched: HTTP 404", now, out);
  EXPECT_EQ(router->directory().schedule_source("alice@example.org")->url, "https://cal.example.org/good.ics");
  EXPECT_FALSE(router->directory().schedule_source("alice@example.org")->pending);
  EXPECT_TRUE(asked_to_compile("alice@example.org"))
      << "the calendar of record is compiled again (after a restart it may never have been)";
  say("alice@example.org", "enrol Europe/Paris https://cal.example.org/typo2.ics");
  say("alice@example.org", "enrol Europe/Paris https://cal.example.org/good.ics");
  EXPECT_FALSE(router->directory().schedule_source("alice@example.org")->pending)
      << "naming the URL in force again drops the pending one";
}

TEST_F(SettingsTest, APendingCalendarSurvivesARestartAndIsStillReported) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", kIcs);
  restart(settings());
  auto source = *router->directory().schedule_source("alice@example.org");
  ASSERT_TRUE(source.pending) << "the upload waits to be compiled after the restart";
  out.clear();
  router->schedule_compiled("alice@example.org", source, compiled(source, now), now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "in force as promised before the restart";
  restart(settings());
  EXPECT_FALSE(router->directory().schedule_source("alice@example.org")->pending);
  EXPECT_FALSE(router->directory().schedule_source("alice@example.org")->upload.empty());
}

TEST_F(SettingsTest, AResultForASourceChangedMeanwhileIsIgnored) {
  say("alice@example.org", "enrol Europe/Berlin");
  say("alice@example.org", "calendar https://cal.example.org/u2.ics");
  const auto u2 = *router->directory().schedule_source("alice@example.org");
  say("alice@example.org", "calendar https://cal.example.org/u3.ics");
  out.clear();
  router->schedule_compiled("alice@example.org", u2, compiled(u2, now), now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "nobody is told U2 is in force: U3 is what they gave last";
  router->schedule_failed("alice@example.org", u2, "HTTP 404", now, out);
  EXPECT_TRUE(out.stanzas.empty());
  EXPECT_EQ(router->directory().schedule_source("alice@example.org")->url, "https://cal.example.org/u3.ics");
  EXPECT_TRUE(router->directory().schedule_source("alice@example.org")->pending);
}

TEST_F(SettingsTest, SettingsShowACalendarUrlAsSchemeAndHostOnly) {
  say("alice@example.org", "enrol Europe/Berlin https://user:token@cal.example.org:8443/private/a.ics?key=s3cret");
  auto source = *router->directory().schedule_source("alice@example.org");
  router->schedule_compiled("alice@example.org", source, nullptr, now, out);
  const std::string settings = say("alice@example.org", "settings");
  EXPECT_NE(settings.find("calendar: https://cal.example.org:8443/…\n"), std::string::npos) << settings;
  for (const char* secret : {"user", "token", "private", "s3cret"}) {
    EXPECT_EQ(settings.find(secret), std::string::npos) << secret;
  }
}

TEST_F(SettingsTest, CommandsCountAgainstTheSendersRate) {
  Settings s = settings();
  s.messages_per_sender_per_minute = 3;
  router = std::make_unique<Router>(s, store);
  for (int i = 0; i < 3; ++i) EXPECT_NE(say("bob@example.org", "status"), "<no answer>");
  EXPECT_EQ(say("bob@example.org", "status"), "You are sending too fast; wait a minute and send again.");
  EXPECT_EQ(submit("bob@example.org", "status", {}), "<error>");
  now += 1min;
  EXPECT_NE(say("bob@example.org", "status").find("You are"), std::string::npos);
}

}  // namespace
}  // namespace concierge::core
