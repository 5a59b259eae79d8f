// SPDX-License-Identifier: MIT
#include <component/app/config_check.hpp>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

config::Config parsed(const std::string& users) {
  const std::string text =
      "[component]\njid = \"sched.example.org\"\nsecret = \"x\"\n[served]\n"
      "domains = [\"example.org\"]\n" + users;
  auto result = config::parse(text, "c.toml");
  EXPECT_TRUE(std::holds_alternative<config::Config>(result));
  return std::get<config::Config>(result);
}

TEST(ConfigCheck, GoodZonesHoursAndCalendarsPass) {
  auto c = parsed(
      "[users.\"bob@example.org\"]\ntimezone = \"Europe/Berlin\"\n"
      "hours = \"Mon-Fri 09:00-17:00; Sun 22:00-06:00\"\ncalendar = \"https://c.example.org/b.ics\"\n");
  EXPECT_TRUE(check_with_calendars(c).empty());
}

TEST(ConfigCheck, BadZoneHoursAndMissingFileNameFileLineAndKey) {
  auto c = parsed(
      "[users.\"bob@example.org\"]\n"         // line 6
      "timezone = \"Mars/Olympus\"\n"         // line 7
      "hours = \"Mox-Fri 09:00-17:00\"\n"     // line 8
      "calendar = \"/nonexistent/bob.ics\"\n");  // line 9
  auto errors = check_with_calendars(c);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].to_string().substr(0, 45), "c.toml:7: users.\"bob@example.org\".timezone: u");
  EXPECT_NE(errors[1].to_string().find("c.toml:8: users.\"bob@example.org\".hours: "),
            std::string::npos)
      << errors[1].to_string();
  EXPECT_NE(errors[2].to_string().find("c.toml:9: users.\"bob@example.org\".calendar: no such"),
            std::string::npos)
      << errors[2].to_string();
}

}  // namespace
}  // namespace concierge::app
