// SPDX-License-Identifier: MIT
// What a config error tells the user: file, line, key and reason, all of them in file order.
#include <tests/unit/config/config_test_support.hpp>

namespace concierge::config {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace config_test;

TEST(ConfigErrors, UnknownKeyNamesFileLineAndFullKey) {
  const std::string text = std::string(kMinimal) +
                           "\n[limits]\nmax_hold_age = \"7d\"\n"
                           "max_body_byte = 1000\n";
  EXPECT_THAT(errors_of(text), ElementsAre(at(10) + "limits.max_body_byte: unknown key"));
}

TEST(ConfigErrors, UnknownSectionAndUnknownUserKey) {
  const std::string text =
      std::string(kMinimal) +
      "\n[sessions]\nidle_after = \"5m\"\n"
      "\n[users.\"bob@example.org\"]\ntimezone = \"UTC\"\ntimezome = \"UTC\"\n";
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(8) + "sessions: unknown section",
                          at(13) + "users.\"bob@example.org\".timezome: unknown key"));
}

TEST(ConfigErrors, SyntaxErrorNamesTheLine) {
  const std::vector<std::string> errors = errors_of("[component]\njid = \"x\"\nport = \n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith(at(3)));
}

TEST(ConfigErrors, BadDurations) {
  const std::string text = std::string(kMinimal) +
                           "\n[session]\nidle_after = \"10 min\"\n"
                           "[limits]\nmax_hold_age = 14\n"
                           "[schedule]\nwindow = \"0d\"\nrefresh = \"-1h\"\n";
  EXPECT_THAT(
      errors_of(text),
      ElementsAre(at(9) + "session.idle_after: not a duration: \"10 min\" (an integer and s, m, h "
                          "or d, like \"90s\", \"10m\", \"2h\", \"14d\")",
                  at(11) + "limits.max_hold_age: expected a duration string like \"10m\", got an "
                           "integer",
                  at(13) + "schedule.window: must be > 0, got \"0d\"",
                  at(14) + "schedule.refresh: not a duration: \"-1h\" (an integer and s, m, h or "
                           "d, like \"90s\", \"10m\", \"2h\", \"14d\")"));
}

TEST(ConfigErrors, BadEnums) {
  const std::string text = std::string(kMinimal) +
                           "\n[schedule]\nunknown = \"sometimes\"\n"
                           "[privacy]\ndefault = \"Exact\"\n"
                           "[log]\nlevel = \"verbose\"\n"
                           "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
                           "calendar_kind = \"home\"\nurgent_from = \"nobody\"\n";
  EXPECT_THAT(
      errors_of(text),
      ElementsAre(
          at(9) + "schedule.unknown: must be \"working\" or \"off_hours\", got \"sometimes\"",
          at(11) + "privacy.default: must be \"exact\", \"wait\" or \"none\", got \"Exact\"",
          at(13) + "log.level: must be \"error\", \"warn\", \"info\" or \"debug\", got "
                   "\"verbose\"",
          at(16) + "users.\"bob@example.org\".calendar_kind: must be \"work\" or "
                   "\"personal\", got \"home\"",
          at(17) + "users.\"bob@example.org\".urgent_from: must be \"always_through\" or "
                   "\"anyone\", got \"nobody\""));
}

TEST(ConfigErrors, TypeMismatches) {
  const std::string text = std::string(kMinimal) +
                           "\n[store]\npath = 42\n"
                           "[schedule]\nallow_private_urls = \"yes\"\n"
                           "[admin]\njids = \"admin@example.org\"\n"
                           "[log]\nlevel = [\"info\"]\n"
                           "[urgent]\nmax_per_hour = 2.5\n";
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(9) + "store.path: expected a string, got an integer",
                          at(11) + "schedule.allow_private_urls: expected a boolean, got a string",
                          at(13) + "admin.jids: expected an array of strings, got a string",
                          at(15) + "log.level: expected a string, got an array",
                          at(17) + "urgent.max_per_hour: expected an integer, got a float"));
}

TEST(ConfigErrors, RangesAndSectionsThatAreNotTables) {
  const std::string text = std::string(kMinimal) +
                           "\n[limits]\nholds_per_target = 0\nmax_body_bytes = 3000000000\n"
                           "[release]\nrate = -5\n"
                           "[presence]\nprobe_rate = 0\n";
  const std::string bad_port =
      "[component]\njid = \"c.example.org\"\nsecret = \"x\"\nport = 70000\n"
      "[served]\ndomains = [\"example.org\"]\nlog = \"debug\"\n";
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(9) + "limits.holds_per_target: must be > 0, got 0",
                          at(10) + "limits.max_body_bytes: must be at most 2147483647, got "
                                   "3000000000",
                          at(12) + "release.rate: must be > 0, got -5",
                          at(14) + "presence.probe_rate: must be > 0, got 0"));
  EXPECT_THAT(errors_of(bad_port),
              ElementsAre(at(4) + "component.port: must be between 1 and 65535, got 70000",
                          at(7) + "served.log: unknown key"));
}

TEST(ConfigErrors, JidsAndDomains) {
  const std::string text = R"([component]
jid = "concierge@example.org"
secret = "x"
[served]
domains = ["example.org", "bad domain.org"]
[users."bob"]
timezone = "UTC"
[users."eve@elsewhere.org"]
timezone = "UTC"
[users."bob@example.org"]
timezone = "UTC"
always_through = [
  "boss@example.org",
  "boss@example.org/phone",
]
[admin]
jids = ["@example.org"]
)";
  EXPECT_THAT(
      errors_of(text),
      ElementsAre(at(2) + "component.jid: not a domain (no '@' or '/'): \"concierge@example.org\"",
                  at(5) + "served.domains: not a domain: \"bad domain.org\"",
                  at(6) + "users.bob: not a bare JID (local@domain)",
                  at(8) + "users.\"eve@elsewhere.org\": domain \"elsewhere.org\" is not in "
                          "served.domains",
                  at(14) + "users.\"bob@example.org\".always_through: not a bare JID "
                           "(local@domain): \"boss@example.org/phone\"",
                  at(17) + "admin.jids: not a bare JID (local@domain): \"@example.org\""));
}

TEST(ConfigErrors, PoolMemberOutsideServedDomainsAndBadPoolNames) {
  const std::string text = std::string(kMinimal) +
                           "\n[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
                           "\n[pools.helpdesk]\nmembers = [\n  \"bob@example.org\",\n"
                           "  \"carol@elsewhere.org\",\n]\n"
                           "[pools.\"front desk\"]\n";
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(14) + "pools.helpdesk.members: domain \"elsewhere.org\" is not in "
                                   "served.domains",
                          at(16) + "pools.\"front desk\": not usable as a JID localpart (no "
                                   "spaces, @ / \\ \" & ' : < >)",
                          at(16) + "pools.\"front desk\".members: required key is missing"));
}

TEST(ConfigErrors, JidsAndPoolNamesCompareCaseInsensitively) {
  const std::string text = std::string(kMinimal) +
                           "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
                           "[users.\"Bob@Example.org\"]\ntimezone = \"UTC\"\n"
                           "[pools.desk]\nmembers = [\"BOB@example.org\"]\n"
                           "[pools.Desk]\nmembers = [\"bob@example.org\"]\n";
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(9) + "users.\"Bob@Example.org\": listed twice (JIDs compare "
                                  "case-insensitively)",
                          at(13) + "pools.Desk: listed twice (pool names compare "
                                   "case-insensitively)"));
}

TEST(ConfigErrors, CollectsAllErrorsInFileOrder) {
  const std::string text = R"([log]
level = "loud"
[component]
port = 0
[session]
max_concurrent = 0
)";
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(2) + "log.level: must be \"error\", \"warn\", \"info\" or \"debug\", "
                                  "got \"loud\"",
                          at(3) + "component.jid: required key is missing",
                          at(3) + "component.secret: required: set component.secret or "
                                  "component.secret_file",
                          at(4) + "component.port: must be between 1 and 65535, got 0",
                          at(6) + "session.max_concurrent: must be > 0, got 0",
                          "concierge.toml: served.domains: required key is missing"));
}

TEST(ConfigErrors, CalendarUrlsAreCheckedButNeverQuoted) {
  const std::string text = std::string(kMinimal) +
                           "\n[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
                           "calendar = \"http://cal.example.org/bob.ics?token=SECRETTOKEN\"\n"
                           "[users.\"carol@example.org\"]\ntimezone = \"UTC\"\n"
                           "calendar = \"ftp://cal.example.org/carol.ics\"\n";
  const std::vector<std::string> errors = errors_of(text);
  EXPECT_THAT(errors, ElementsAre(at(10) + "users.\"bob@example.org\".calendar: plain http needs "
                                           "schedule.allow_private_urls = true; use https",
                                  at(13) + "users.\"carol@example.org\".calendar: must be a file "
                                           "path or an https URL"));
  for (const std::string& error : errors) EXPECT_THAT(error, Not(HasSubstr("SECRETTOKEN")));
  EXPECT_THAT(errors_of(text + "[schedule]\nallow_private_urls = true\n"),
              ElementsAre(HasSubstr("must be a file path or an https URL")));
}

TEST(ConfigErrorText, OmitsEmptyParts) {
  EXPECT_EQ((Error{{"c.toml", 12}, "limits.max_body_bytes", "must be > 0"}).to_string(),
            "c.toml:12: limits.max_body_bytes: must be > 0");
  EXPECT_EQ((Error{{"c.toml", 0}, "served.domains", "required"}).to_string(),
            "c.toml: served.domains: required");
  EXPECT_EQ((Error{{"c.toml", 3}, "", "syntax"}).to_string(), "c.toml:3: syntax");
  EXPECT_EQ((Error{{"", 0}, "", "oops"}).to_string(), "oops");
}

}  // namespace
}  // namespace concierge::config
