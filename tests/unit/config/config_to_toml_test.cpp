// SPDX-License-Identifier: MIT
// Durations, the config shown back as TOML (secrets masked), and reading from streams and files.
#include <tests/unit/config/config_test_support.hpp>

namespace concierge::config {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace config_test;

TEST(ConfigDuration, ParsesAnIntegerAndOneUnit) {
  EXPECT_EQ(parse_duration("90s"), seconds(90));
  EXPECT_EQ(parse_duration("10m"), seconds(600));
  EXPECT_EQ(parse_duration("2h"), seconds(7200));
  EXPECT_EQ(parse_duration("14d"), seconds(14 * 86400));
  EXPECT_EQ(parse_duration("0s"), seconds(0));
  for (const char* bad : {"", "s", "10", "10 m", " 10m", "-1h", "+1h", "1.5h", "10ms", "1w", "10M",
                          "1h30m", "99999999999999999999s", "999999999999999999d"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(ConfigDuration, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(format_duration(seconds(0)), "0s");
  EXPECT_EQ(format_duration(seconds(90)), "90s");
  EXPECT_EQ(format_duration(seconds(600)), "10m");
  EXPECT_EQ(format_duration(seconds(5400)), "90m");
  EXPECT_EQ(format_duration(seconds(7200)), "2h");
  EXPECT_EQ(format_duration(seconds(14 * 86400)), "14d");
  EXPECT_EQ(format_duration(seconds(-5)), "-5s");
  for (const char* text : {"90s", "10m", "2h", "14d", "0s"}) {
    EXPECT_EQ(format_duration(*parse_duration(text)), text);
  }
}

TEST(ConfigToToml, MasksTheSecretAndRoundTrips) {
  const std::string text = with_pool_member_enrolled(kDesignExample);
  const Config c = parsed(text);
  const std::string printed = to_toml(c);
  EXPECT_THAT(printed, Not(HasSubstr("s3cret")));
  EXPECT_THAT(printed, HasSubstr("secret = \"********\"\n"));
  const Config again = parsed(printed);
  EXPECT_EQ(again.component.secret, "********");
  EXPECT_EQ(to_toml(again), printed);
  ASSERT_EQ(again.users.size(), 2u);
  EXPECT_EQ(again.users[0].origins.size(), 6u);
  EXPECT_EQ(again.users[1].origins.size(), 1u);  // carol's unset keys stay unset
  EXPECT_THAT(printed, HasSubstr("[users.\"carol@example.org\"]\ntimezone = \"Europe/Paris\"\n"
                                 "# calendar = \"\"  # not set by the admin"));
  EXPECT_THAT(again.pools[0].members, ElementsAre("bob@example.org", "carol@example.org"));
}

TEST(ConfigToToml, ShowsEveryKeyInSectionOrder) {
  const std::string printed = to_toml(parsed(kMinimal));
  std::size_t position = 0;
  for (const char* line : {"[component]\n",
                           "jid = \"concierge.example.org\"\n",
                           "secret = \"********\"\n",
                           "host = \"127.0.0.1\"\n",
                           "port = 5347\n",
                           "[served]\n",
                           "domains = [\"example.org\"]\n",
                           "[store]\n",
                           "path = \"/var/lib/concierge/concierge.db\"\n",
                           "[session]\n",
                           "idle_after = \"10m\"\n",
                           "max_concurrent = 1\n",
                           "[notice]\n",
                           "before_end = \"15m\"\n",
                           "language = \"en\"\n",
                           "[release]\n",
                           "rate = 200\n",
                           "confirm_window = \"15m\"\n",
                           "[presence]\n",
                           "probe_rate = 50\n",
                           "[limits]\n",
                           "max_hold_age = \"14d\"\n",
                           "holds_per_target = 10000\n",
                           "holds_per_sender = 1000\n",
                           "messages_per_sender_per_minute = 120\n",
                           "max_body_bytes = 65536\n",
                           "[schedule]\n",
                           "unknown = \"working\"\n",
                           "window = \"60d\"\n",
                           "refresh = \"1h\"\n",
                           "max_bytes = 5000000\n",
                           "allow_private_urls = false\n",
                           "[privacy]\n",
                           "default = \"exact\"\n",
                           "[urgent]\n",
                           "prefix = \"!urgent\"\n",
                           "max_per_hour = 3\n",
                           "[admin]\n",
                           "jids = []\n",
                           "[log]\n",
                           "level = \"info\"\n"}) {
    const std::size_t found = printed.find(line, position);
    ASSERT_NE(found, std::string::npos) << line << " after offset " << position << " in\n"
                                        << printed;
    position = found + 1;
  }
}

TEST(ConfigToToml, SecretFileShowsThePathNeverTheContent) {
  const TempFile secret("t0p-secret\n");
  const Config c = parsed("[component]\njid = \"c.example.org\"\nsecret_file = \"" + secret.path() +
                          "\"\n[served]\ndomains = [\"example.org\"]\n");
  const std::string printed = to_toml(c);
  EXPECT_THAT(printed, Not(HasSubstr("t0p-secret")));
  EXPECT_THAT(printed, HasSubstr("secret_file = \"" + secret.path() + "\""));
  EXPECT_EQ(parsed(printed).component.secret, "t0p-secret");
}

TEST(ConfigToToml, CalendarUrlsLoseEverythingButSchemeAndHost) {
  const Config c = parsed(std::string(kMinimal) +
                          "\n[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
                          "calendar = \"https://bob:pw@cal.example.org:8443/p/bob.ics?token=T0K\"\n"
                          "[users.\"carol@example.org\"]\ntimezone = \"UTC\"\n"
                          "calendar = \"/etc/concierge/carol.ics\"\n");
  const std::string printed = to_toml(c);
  EXPECT_THAT(printed, HasSubstr("calendar = \"https://cal.example.org:8443/…\"\n"));
  EXPECT_THAT(printed, HasSubstr("calendar = \"/etc/concierge/carol.ics\"\n"));
  EXPECT_THAT(printed, Not(HasSubstr("T0K")));
  EXPECT_THAT(printed, Not(HasSubstr("pw@")));
  EXPECT_EQ(to_toml(parsed(printed)), printed);
}

TEST(ConfigFiles, StreamAndMissingFile) {
  std::istringstream in{std::string(kMinimal)};
  ParseResult from_stream = parse(in, "stream.toml");
  ASSERT_TRUE(std::holds_alternative<Config>(from_stream));
  EXPECT_EQ(std::get<Config>(from_stream).file, "stream.toml");

  ParseResult missing = parse_file("/nonexistent/concierge.toml");
  ASSERT_TRUE(std::holds_alternative<std::vector<Error>>(missing));
  EXPECT_THAT(std::get<std::vector<Error>>(missing),
              ElementsAre(::testing::Property(
                  &Error::to_string,
                  "/nonexistent/concierge.toml: cannot open: No such file or directory")));
}

}  // namespace
}  // namespace concierge::config
