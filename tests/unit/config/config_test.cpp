// SPDX-License-Identifier: MIT
#include <config/config.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace concierge::config {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr std::string_view kFile = "concierge.toml";

// DESIGN §12's example, word for word except the secret ("…" there).
constexpr std::string_view kDesignExample = R"([component]
jid = "concierge.example.org"   # the component's domain, as registered in the server
secret = "s3cret"               # or secret_file = "/etc/concierge/secret"
host = "127.0.0.1"
port = 5347

[served]
domains = ["example.org"]       # only users of these domains may use Concierge

[store]
path = "/var/lib/concierge/concierge.db"

[session]
idle_after = "10m"              # a conversation ends after this much silence
max_concurrent = 1              # conversations a target takes at once

[notice]
before_end = "15m"              # tell a sender when the target's working time ends this soon
language = "en"

[release]
rate = 200                      # messages/s when releasing holds
confirm_window = "15m"          # a released message can still be re-held if it bounces

[presence]
probe_rate = 50                 # probes/s after connecting

[limits]
max_hold_age = "14d"
holds_per_target = 10000
holds_per_sender = 1000
messages_per_sender_per_minute = 120
max_body_bytes = 65536

[schedule]
unknown = "working"             # users with no usable schedule: "working" or "off_hours"
window = "60d"
refresh = "1h"                  # re-fetch schedule URLs
max_bytes = 5000000
allow_private_urls = false      # loopback/private addresses and plain http (tests, intranets)

[privacy]
default = "exact"               # "exact" times, "wait" (only that it will wait), or "none"

[urgent]
prefix = "!urgent"              # a body starting with this asks to go through at once
max_per_hour = 3                # per sender and target; above it a message is not urgent

[users."bob@example.org"]       # enrolled by the admin (users can also enrol themselves)
timezone = "Europe/Berlin"
calendar = "/etc/concierge/bob.ics"   # a file path (admins only) or an https URL
calendar_kind = "work"                # "work" or "personal" (DESIGN §5)
hours = "Mon-Fri 09:00-17:00"         # weekly hours (DESIGN §5 grammar)
always_through = ["boss@example.org"] # senders who may send urgent (their other messages follow the table)
urgent_from = "always_through"        # who may send urgent: "always_through" or "anyone"

[pools."helpdesk"]              # helpdesk@concierge.example.org
members = ["bob@example.org", "carol@example.org"]

[admin]
jids = ["admin@example.org"]    # may use the admin commands

[log]
level = "info"                  # error | warn | info | debug (debug logs stanzas without bodies)
)";

// The smallest valid file: only the required keys.
constexpr std::string_view kMinimal = R"([component]
jid = "concierge.example.org"
secret = "s3cret"

[served]
domains = ["example.org"]
)";

// The 1-based line of the first line of `text` containing `needle`.
int line_of(std::string_view text, std::string_view needle) {
  const std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << needle;
  if (at == std::string_view::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

std::string at(int line) {
  return std::string(kFile) + ":" + std::to_string(line) + ": ";
}

// Every error as the user sees it; empty when the text parses.
std::vector<std::string> errors_of(std::string_view text) {
  std::vector<std::string> messages;
  ParseResult result = parse(text, kFile);
  if (const auto* errors = std::get_if<std::vector<Error>>(&result)) {
    for (const Error& error : *errors) messages.push_back(error.to_string());
  }
  return messages;
}

Config parsed(std::string_view text) {
  ParseResult result = parse(text, kFile);
  if (const auto* errors = std::get_if<std::vector<Error>>(&result)) {
    for (const Error& error : *errors) ADD_FAILURE() << error.to_string();
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

std::string with_pool_member_enrolled(std::string_view design_example) {
  std::string text(design_example);
  const std::size_t pools = text.find("[pools.");
  text.insert(pools, "[users.\"carol@example.org\"]\ntimezone = \"Europe/Paris\"\n\n");
  return text;
}

// A file in the test's temporary directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(std::string_view content)
      : path_(std::filesystem::temp_directory_path() /
              ("concierge_config_test_" + std::to_string(::getpid()) + "_" +
               std::to_string(counter_++))) {
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(ConfigDesignExample, ParsesAsWritten) {
  // §12's pool lists carol@example.org, who has no [users] entry: members may enrol themselves.
  EXPECT_THAT(errors_of(kDesignExample), ElementsAre());
}

TEST(ConfigDesignExample, PoolMemberOutsideServedDomainsIsAnError) {
  std::string text(kDesignExample);
  const auto carol = text.find("\"carol@example.org\"]");
  ASSERT_NE(carol, std::string::npos);
  text.replace(carol, 19, "\"carol@elsewhere.org\"");
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(line_of(text, "members =")) +
                          "pools.helpdesk.members: domain \"elsewhere.org\" is not in served.domains"));
}

TEST(ConfigDesignExample, ParsesEveryValue) {
  const std::string text = with_pool_member_enrolled(kDesignExample);
  const Config c = parsed(text);
  EXPECT_EQ(c.file, "concierge.toml");
  EXPECT_EQ(c.component.jid, "concierge.example.org");
  EXPECT_EQ(c.component.secret, "s3cret");
  EXPECT_EQ(c.component.secret_file, "");
  EXPECT_EQ(c.component.host, "127.0.0.1");
  EXPECT_EQ(c.component.port, 5347);
  EXPECT_THAT(c.served.domains, ElementsAre("example.org"));
  EXPECT_EQ(c.store.path, "/var/lib/concierge/concierge.db");
  EXPECT_EQ(c.session.idle_after, seconds(600));
  EXPECT_EQ(c.session.max_concurrent, 1);
  EXPECT_EQ(c.notice.before_end, seconds(900));
  EXPECT_EQ(c.notice.language, "en");
  EXPECT_EQ(c.release.rate, 200);
  EXPECT_EQ(c.release.confirm_window, seconds(900));
  EXPECT_EQ(c.presence.probe_rate, 50);
  EXPECT_EQ(c.limits.max_hold_age, seconds(14 * 86400));
  EXPECT_EQ(c.limits.holds_per_target, 10000);
  EXPECT_EQ(c.limits.holds_per_sender, 1000);
  EXPECT_EQ(c.limits.messages_per_sender_per_minute, 120);
  EXPECT_EQ(c.limits.max_body_bytes, 65536);
  EXPECT_EQ(c.schedule.unknown, UnknownSchedule::working);
  EXPECT_EQ(c.schedule.window, seconds(60 * 86400));
  EXPECT_EQ(c.schedule.refresh, seconds(3600));
  EXPECT_EQ(c.schedule.max_bytes, 5000000);
  EXPECT_FALSE(c.schedule.allow_private_urls);
  EXPECT_EQ(c.privacy.default_level, PrivacyLevel::exact);
  EXPECT_EQ(c.urgent.prefix, "!urgent");
  EXPECT_EQ(c.urgent.max_per_hour, 3);
  ASSERT_EQ(c.users.size(), 2u);
  const User& bob = c.users[0];
  EXPECT_EQ(bob.jid, "bob@example.org");
  EXPECT_EQ(bob.timezone, "Europe/Berlin");
  EXPECT_EQ(bob.calendar, "/etc/concierge/bob.ics");
  EXPECT_EQ(bob.calendar_kind, CalendarKind::work);
  EXPECT_EQ(bob.hours, "Mon-Fri 09:00-17:00");
  EXPECT_THAT(bob.always_through, ElementsAre("boss@example.org"));
  EXPECT_EQ(bob.urgent_from, UrgentFrom::always_through);
  EXPECT_EQ(c.users[1].jid, "carol@example.org");
  ASSERT_EQ(c.pools.size(), 1u);
  EXPECT_EQ(c.pools[0].name, "helpdesk");
  EXPECT_THAT(c.pools[0].members, ElementsAre("bob@example.org", "carol@example.org"));
  EXPECT_EQ(c.pools[0].origin.file, "concierge.toml");
  EXPECT_EQ(c.pools[0].origin.line, line_of(text, "[pools."));
  EXPECT_THAT(c.admin.jids, ElementsAre("admin@example.org"));
  EXPECT_EQ(c.log.level, LogLevel::info);
  EXPECT_EQ(c.find_user("Bob@Example.org"), &c.users[0]);
  EXPECT_EQ(c.find_user("dave@example.org"), nullptr);
  EXPECT_EQ(c.find_pool("helpdesk"), &c.pools[0]);
}

// Every key with a value other than its default: a read that went missing (the default stays)
// fails here, which the design example (all defaults) cannot show.
TEST(ConfigEveryKey, TakesEveryValueThatDiffersFromTheDefault) {
  const TempFile secret("t0p-secret\n");
  const Config c = parsed(R"toml(
[component]
jid = "c.example.net"
secret_file = ")toml" + secret.path() + R"toml("
host = "::1"
port = 5348
[served]
domains = ["example.net", "example.com"]
[store]
path = "/tmp/c.db"
[session]
idle_after = "90s"
max_concurrent = 2
[notice]
before_end = "5m"
language = "de"
[release]
rate = 7
confirm_window = "2h"
[presence]
probe_rate = 9
[limits]
max_hold_age = "3d"
holds_per_target = 11
holds_per_sender = 12
messages_per_sender_per_minute = 13
max_body_bytes = 1400
[schedule]
unknown = "off_hours"
window = "30d"
refresh = "15m"
max_bytes = 16000
allow_private_urls = true
[privacy]
default = "none"
[urgent]
prefix = "!!"
max_per_hour = 1
[users."ann@example.net"]
timezone = "Asia/Tokyo"
calendar = "https://cal.example.net/ann.ics"
calendar_kind = "personal"
hours = "Sat 10:00-12:00"
always_through = ["boss@example.net", "deputy@example.com"]
urgent_from = "anyone"
[admin]
jids = ["root@example.net"]
[log]
level = "debug"
)toml");
  EXPECT_EQ(c.component.jid, "c.example.net");
  EXPECT_EQ(c.component.secret, "t0p-secret") << "read from the file";
  EXPECT_EQ(c.component.secret_file, secret.path());
  EXPECT_EQ(c.component.host, "::1");
  EXPECT_EQ(c.component.port, 5348);
  EXPECT_THAT(c.served.domains, ElementsAre("example.net", "example.com"));
  EXPECT_EQ(c.store.path, "/tmp/c.db");
  EXPECT_EQ(c.session.idle_after, seconds(90));
  EXPECT_EQ(c.session.max_concurrent, 2);
  EXPECT_EQ(c.notice.before_end, seconds(300));
  EXPECT_EQ(c.notice.language, "de");
  EXPECT_EQ(c.release.rate, 7);
  EXPECT_EQ(c.release.confirm_window, seconds(7200));
  EXPECT_EQ(c.presence.probe_rate, 9);
  EXPECT_EQ(c.limits.max_hold_age, seconds(3 * 86400));
  EXPECT_EQ(c.limits.holds_per_target, 11);
  EXPECT_EQ(c.limits.holds_per_sender, 12);
  EXPECT_EQ(c.limits.messages_per_sender_per_minute, 13);
  EXPECT_EQ(c.limits.max_body_bytes, 1400);
  EXPECT_EQ(c.schedule.unknown, UnknownSchedule::off_hours);
  EXPECT_EQ(c.schedule.window, seconds(30 * 86400));
  EXPECT_EQ(c.schedule.refresh, seconds(900));
  EXPECT_EQ(c.schedule.max_bytes, 16000);
  EXPECT_TRUE(c.schedule.allow_private_urls);
  EXPECT_EQ(c.privacy.default_level, PrivacyLevel::none);
  EXPECT_EQ(c.urgent.prefix, "!!");
  EXPECT_EQ(c.urgent.max_per_hour, 1);
  ASSERT_EQ(c.users.size(), 1u);
  const User& ann = c.users[0];
  EXPECT_EQ(ann.timezone, "Asia/Tokyo");
  EXPECT_EQ(ann.calendar, "https://cal.example.net/ann.ics");
  EXPECT_EQ(ann.calendar_kind, CalendarKind::personal);
  EXPECT_EQ(ann.hours, "Sat 10:00-12:00");
  EXPECT_THAT(ann.always_through, ElementsAre("boss@example.net", "deputy@example.com"));
  EXPECT_EQ(ann.urgent_from, UrgentFrom::anyone);
  EXPECT_THAT(c.admin.jids, ElementsAre("root@example.net"));
  EXPECT_EQ(c.log.level, LogLevel::debug);
}

TEST(ConfigDesignExample, UserOriginsNameTheLineOfEachKeySet) {
  const std::string text = with_pool_member_enrolled(kDesignExample);
  const Config c = parsed(text);
  ASSERT_EQ(c.users.size(), 2u);
  const auto& origins = c.users[0].origins;
  EXPECT_EQ(origins.size(), 6u);
  for (const char* key :
       {"timezone", "calendar", "calendar_kind", "hours", "always_through", "urgent_from"}) {
    ASSERT_TRUE(origins.count(key)) << key;
    EXPECT_EQ(origins.at(key).file, "concierge.toml");
    EXPECT_EQ(origins.at(key).line, line_of(text, std::string(key) + " = ")) << key;
  }
  // carol sets only her timezone: no other key counts as set by the admin.
  const auto& carol = c.users[1].origins;
  ASSERT_EQ(carol.size(), 1u);
  EXPECT_EQ(carol.at("timezone").line, line_of(text, "timezone = \"Europe/Paris\""));
}

TEST(ConfigDeploy, AnnotatedExampleParses) {
  const std::string path = std::string(CONCIERGE_SOURCE_DIR) + "/config/deploy/concierge.toml";
  ParseResult result = parse_file(path);
  if (const auto* errors = std::get_if<std::vector<Error>>(&result)) {
    for (const Error& error : *errors) ADD_FAILURE() << error.to_string();
    return;
  }
  const Config& c = std::get<Config>(result);
  EXPECT_EQ(c.file, path);
  EXPECT_FALSE(c.users.empty());
  EXPECT_FALSE(c.pools.empty());
  // The first user shows every user key.
  EXPECT_EQ(c.users[0].origins.size(), 6u);
}

TEST(ConfigDefaults, AbsentKeysTakeTheDocumentedDefaults) {
  const Config c = parsed(kMinimal);
  EXPECT_EQ(c.component.host, "127.0.0.1");
  EXPECT_EQ(c.component.port, 5347);
  EXPECT_EQ(c.store.path, "/var/lib/concierge/concierge.db");
  EXPECT_EQ(c.session.idle_after, seconds(600));
  EXPECT_EQ(c.session.max_concurrent, 1);
  EXPECT_EQ(c.notice.before_end, seconds(900));
  EXPECT_EQ(c.notice.language, "en");
  EXPECT_EQ(c.release.rate, 200);
  EXPECT_EQ(c.release.confirm_window, seconds(900));
  EXPECT_EQ(c.presence.probe_rate, 50);
  EXPECT_EQ(c.limits.max_hold_age, seconds(14 * 86400));
  EXPECT_EQ(c.limits.holds_per_target, 10000);
  EXPECT_EQ(c.limits.holds_per_sender, 1000);
  EXPECT_EQ(c.limits.messages_per_sender_per_minute, 120);
  EXPECT_EQ(c.limits.max_body_bytes, 65536);
  EXPECT_EQ(c.schedule.unknown, UnknownSchedule::working);
  EXPECT_EQ(c.schedule.window, seconds(60 * 86400));
  EXPECT_EQ(c.schedule.refresh, seconds(3600));
  EXPECT_EQ(c.schedule.max_bytes, 5000000);
  EXPECT_FALSE(c.schedule.allow_private_urls);
  EXPECT_EQ(c.privacy.default_level, PrivacyLevel::exact);
  EXPECT_EQ(c.urgent.prefix, "!urgent");
  EXPECT_EQ(c.urgent.max_per_hour, 3);
  EXPECT_THAT(c.users, IsEmpty());
  EXPECT_THAT(c.pools, IsEmpty());
  EXPECT_THAT(c.admin.jids, IsEmpty());
  EXPECT_EQ(c.log.level, LogLevel::info);
}

TEST(ConfigDefaults, UserKeysDefaultAndAreNotRecordedAsSet) {
  const Config c = parsed(std::string(kMinimal) +
                          "\n[users.\"bob@example.org\"]\ntimezone = \"Europe/Berlin\"\n");
  ASSERT_EQ(c.users.size(), 1u);
  const User& bob = c.users[0];
  EXPECT_EQ(bob.calendar, "");
  EXPECT_EQ(bob.calendar_kind, CalendarKind::work);
  EXPECT_EQ(bob.hours, "");
  EXPECT_THAT(bob.always_through, IsEmpty());
  EXPECT_EQ(bob.urgent_from, UrgentFrom::always_through);
  EXPECT_EQ(bob.origins.size(), 1u);
  EXPECT_EQ(bob.origins.at("timezone").line, 9);
}

TEST(ConfigRequired, EmptyFileNamesEveryRequiredKey) {
  EXPECT_THAT(errors_of(""),
              ElementsAre("concierge.toml: component.jid: required key is missing",
                          "concierge.toml: component.secret: required: set component.secret or "
                          "component.secret_file",
                          "concierge.toml: served.domains: required key is missing"));
}

TEST(ConfigRequired, MissingJidPointsAtItsSection) {
  EXPECT_THAT(errors_of("[component]\nsecret = \"x\"\n[served]\ndomains = [\"example.org\"]\n"),
              ElementsAre(at(1) + "component.jid: required key is missing"));
}

TEST(ConfigRequired, MissingSecret) {
  EXPECT_THAT(errors_of("[component]\njid = \"c.example.org\"\n[served]\ndomains = [\"e.org\"]\n"),
              ElementsAre(at(1) + "component.secret: required: set component.secret or "
                                  "component.secret_file"));
}

TEST(ConfigRequired, EmptyServedDomains) {
  EXPECT_THAT(errors_of("[component]\njid = \"c.example.org\"\nsecret = \"x\"\n[served]\n"
                        "domains = []\n"),
              ElementsAre(at(5) + "served.domains: must list at least one domain"));
}

TEST(ConfigRequired, UserWithoutTimezone) {
  const std::string text =
      std::string(kMinimal) + "\n[users.\"bob@example.org\"]\nhours = \"Mon-Fri 09:00-17:00\"\n";
  EXPECT_THAT(errors_of(text),
              ElementsAre(at(8) + "users.\"bob@example.org\".timezone: required key is missing"));
}

TEST(ConfigSecret, ReadFromSecretFileWithoutTrailingNewline) {
  const TempFile secret("t0p-secret\n");
  const Config c = parsed("[component]\njid = \"c.example.org\"\nsecret_file = \"" + secret.path() +
                          "\"\n[served]\ndomains = [\"example.org\"]\n");
  EXPECT_EQ(c.component.secret, "t0p-secret");
  EXPECT_EQ(c.component.secret_file, secret.path());
}

TEST(ConfigSecret, BothSecretAndSecretFileIsAnError) {
  const TempFile secret("t0p-secret\n");
  EXPECT_THAT(errors_of("[component]\njid = \"c.example.org\"\nsecret = \"x\"\nsecret_file = \"" +
                        secret.path() + "\"\n[served]\ndomains = [\"example.org\"]\n"),
              ElementsAre(at(4) + "component.secret_file: set only one of component.secret and "
                                  "component.secret_file"));
}

TEST(ConfigSecret, UnreadableOrEmptySecretFileNamesTheKey) {
  const TempFile empty("\n");
  const std::string missing = empty.path() + ".absent";
  const auto config = [](const std::string& path) {
    return "[component]\njid = \"c.example.org\"\nsecret_file = \"" + path +
           "\"\n[served]\ndomains = [\"example.org\"]\n";
  };
  EXPECT_THAT(errors_of(config(missing)),
              ElementsAre(at(3) + "component.secret_file: cannot read \"" + missing +
                          "\": No such file or directory"));
  EXPECT_THAT(errors_of(config(empty.path())),
              ElementsAre(at(3) + "component.secret_file: \"" + empty.path() + "\" is empty"));
}

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
