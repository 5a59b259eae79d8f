// SPDX-License-Identifier: MIT
// The config as written: DESIGN §12's example, every key, defaults, required keys, secrets.
#include <tests/unit/config/config_test_support.hpp>

namespace concierge::config {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace config_test;

TEST(ConfigDesignExample, ParsesAsWritten) {
  // §12's pool lists carol@example.org, who has no [users] entry: members may enrol themselves.
  EXPECT_THAT(errors_of(kDesignExample), ElementsAre());
}

TEST(ConfigDesignExample, PoolMemberOutsideServedDomainsIsAnError) {
  std::string text(kDesignExample);
  const auto carol = text.find("\"carol@example.org\"]");
  ASSERT_NE(carol, std::string::npos);
  text.replace(carol, 19, "\"carol@elsewhere.org\"");
  EXPECT_THAT(
      errors_of(text),
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
secret_file = ")toml" + secret.path() +
                          R"toml("
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

}  // namespace
}  // namespace concierge::config
