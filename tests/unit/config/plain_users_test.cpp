// SPDX-License-Identifier: MIT
// The fast way through [users] (issue 12): plain user tables are read without toml++, and the
// result — users, values, lines, errors — is always what reading the whole file with toml++
// gives. Each case checks both that the fast path was taken (or not) and that parse() equals
// parse_whole().
#include <config/plain_users.hpp>
#include <tests/unit/config/config_test_support.hpp>

#include <random>

namespace concierge::config {
namespace {

using namespace config_test;

// Everything a user sees of a result: the errors as printed, or the config as TOML and the
// line of every key of every user.
std::string seen(const ParseResult& result) {
  std::string out;
  if (const auto* errors = std::get_if<std::vector<Error>>(&result)) {
    for (const Error& e : *errors) out += e.to_string() + "\n";
    return out;
  }
  const Config& config = std::get<Config>(result);
  out = to_toml(config);
  for (const User& user : config.users) {
    out += user.jid + ":";
    for (const auto& [key, origin] : user.origins) {
      out += " " + key + "@" + origin.file + ":" + std::to_string(origin.line);
    }
    out += "\n";
  }
  return out;
}

std::string with_users(std::string_view users, std::string_view settings = kMinimal) {
  return std::string(settings) + "\n" + std::string(users);
}

void expect_same_as_whole(const std::string& text) {
  EXPECT_EQ(seen(parse(text, kFile)), seen(detail::parse_whole(text, kFile))) << text;
}

TEST(PlainUsers, PlainTablesAreReadWithoutTomlAndGiveWhatTomlGives) {
  const std::vector<std::string> cases = {
      R"([users."bob@example.org"]
timezone = "Europe/Berlin"
hours = "mon-fri 09:00-17:00"
)",
      // comments, blanks, indentation, literal strings, CRLF, arrays with a trailing comma
      "# people\n[users.\"bob@example.org\"]   # Bob\n\ttimezone = 'Europe/Berlin' # his\r\n"
      "\n  calendar = \"/srv/cal/bob.ics\"\ncalendar_kind = \"personal\"\n"
      "always_through = [ \"alice@example.org\" , 'carol@example.org', ]\n"
      "urgent_from='anyone'\n\n[users.\"Alice@Example.org\"]\ntimezone=\"UTC\"\n"
      "always_through = []\n",
      // users between other sections: their lines keep their numbers
      R"([users."bob@example.org"]
timezone = "UTC"

[pools."desk"]
members = ["bob@example.org"]

[users."dave@example.org"]
timezone = "UTC"
hours = "mon 08:00-12:00"
[log]
level = "debug"
)",
      // the last line without a line break
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"",
  };
  for (const std::string& users : cases) {
    const std::string text = with_users(users);
    EXPECT_TRUE(detail::parse_plain(text, kFile).has_value()) << text;
    ASSERT_TRUE(std::holds_alternative<Config>(parse(text, kFile))) << seen(parse(text, kFile));
    expect_same_as_whole(text);
  }
}

TEST(PlainUsers, TheFastPathKeepsEveryValueAndItsLine) {
  const std::string text = with_users(R"([users."bob@example.org"]
timezone = "Europe/Berlin"
always_through = ["alice@example.org", 'carol@example.org']
urgent_from = "anyone"
)");
  const std::optional<Config> config = detail::parse_plain(text, kFile);
  ASSERT_TRUE(config.has_value());
  ASSERT_EQ(config->users.size(), 1u);
  const User& bob = config->users[0];
  EXPECT_EQ(bob.jid, "bob@example.org");
  EXPECT_EQ(bob.timezone, "Europe/Berlin");
  EXPECT_THAT(bob.always_through, ElementsAre("alice@example.org", "carol@example.org"));
  EXPECT_EQ(bob.urgent_from, UrgentFrom::anyone);
  EXPECT_EQ(bob.origins.at("timezone").line, line_of(text, "timezone"));
  EXPECT_EQ(bob.origins.at("urgent_from").line, line_of(text, "urgent_from"));
  EXPECT_EQ(config->component.jid, "concierge.example.org");
}

// Anything outside the plain form, and anything wrong, is left to toml++ whole: the user sees
// the same errors (or the same config) as before.
TEST(PlainUsers, AnythingElseIsReadWholeWithTheSameResult) {
  const std::vector<std::string> cases = {
      // not plain, but valid
      "[users.\"bob@example.org\"]\ntimezone = \"Europe\\/Berlin\"\n",  // an escape: an error
      "[users.\"bob@example.org\"]\ntimezone = \"Europe/Berl\\u0069n\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
      "always_through = [\n  \"a@example.org\",\n]\n",
      "[users]\n\"bob@example.org\" = { timezone = \"UTC\" }\n",
      "[users.'bob@example.org']\ntimezone = \"UTC\"\n",
      "[ users.\"bob@example.org\" ]\ntimezone = \"UTC\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[users.\"dave@example.org\"]\n"
      "timezone = \"UTC\"\n[admin]\njids = [\"bob@example.org\"]\nusers.\"x@example.org\".timezone"
      " = \"UTC\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\" # caf\xc3\xa9\n",
      "[users.\"bob@example.org\"]\n\"timezone\" = \"UTC\"\n",
      // a multi-line string elsewhere, hiding a header-like line
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[log]\nlevel = "
      "\"\"\"\n[users.\"x@example.org\"]\n"
      "\"\"\"\n",
      // wrong: each must be reported exactly as before
      "[users.\"bob@example.org\"]\nhours = \"mon 09:00-17:00\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\ncolour = \"blue\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\ntimezone = \"UTC\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
      "always_through = \"a@example.org\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
      "always_through = [\"not a jid\"]\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\ncalendar_kind = \"play\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
      "calendar = \"http://cal.example.org/b\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[users.\"BOB@example.org\"]\ntimezone = "
      "\"UTC\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[users.\"bob@example.org\"]\ntimezone = "
      "\"UTC\"\n",
      "[users.\"bob@elsewhere.org\"]\ntimezone = \"UTC\"\n",
      "[users.\"bob\"]\ntimezone = \"UTC\"\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[users.\"bob@example.org\".more]\nx = 1\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\" extra\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\r",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[log]\nlevel = \"loud\"\n",
      // a CR that is not part of a CRLF, outside the user tables: toml++'s error, as before
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[log]\nlevel = \"info\"\r\r\n",
      "[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n[log]\nlevel = \"info\"\r",
      "\r\r\n[users.\"c@example.org\"] # h\ntimezone = \"UTC\"\r\n",
  };
  for (const std::string& users : cases) {
    const std::string text = with_users(users);
    EXPECT_FALSE(detail::parse_plain(text, kFile).has_value()) << text;
    expect_same_as_whole(text);
  }
  // Settings that are wrong while the users are plain: the settings' error, as before.
  const std::string bad_settings = with_users("[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n",
                                              "[component]\njid = \"concierge.example.org\"\n");
  EXPECT_FALSE(detail::parse_plain(bad_settings, kFile).has_value());
  expect_same_as_whole(bad_settings);
  EXPECT_THAT(seen(parse(bad_settings, kFile)), HasSubstr("served.domains"));
}

// Files built from random mixes of plain and other ways of writing users, right and wrong:
// parse() never differs from the whole file's reading.
TEST(PlainUsers, RandomMixesReadAsTheWholeFile) {
  const std::vector<std::string> lines = {
      "timezone = \"UTC\"",
      "timezone = 'Asia/Tokyo'",
      "timezone = \"\"",
      "hours = \"mon-fri 09:00-17:00\"  # office",
      "calendar = \"/c/x.ics\"",
      "calendar = \"https://cal.example.org/x.ics\"",
      "calendar_kind = \"work\"",
      "urgent_from = \"always_through\"",
      "always_through = []",
      "always_through = [\"a@example.org\", 'b@example.org',]",
      "always_through = [\"a b\"]",
      "# a comment",
      "",
      "  \t",
      "colour = \"blue\"",
      "hours = 5",
      "timezone = \"U\\u0054C\"",
      "\thours = \"sat 10:00-11:00\"\r",
  };
  const std::vector<std::string> headers = {
      "[users.\"u%d@example.org\"]", "[users.\"U%d@Example.org\"]  # again?",
      "[users.'u%d@example.org']",   "  [users.\"u%d@example.org\"]",
      "[users.\"u%d@other.org\"]",
  };
  std::mt19937 random(12);
  int fast = 0;
  for (int file = 0; file < 300; ++file) {
    std::string users;
    const int count = 1 + static_cast<int>(random() % 4);
    for (int u = 0; u < count; ++u) {
      char header[64];
      std::snprintf(header, sizeof header,
                    headers[random() % 5 < 3 ? 0 : random() % headers.size()].c_str(),
                    static_cast<int>(random() % 6));
      users += std::string(header) + "\n";
      if (random() % 5 != 0) users += "timezone = \"Europe/Paris\"\n";
      for (int l = static_cast<int>(random() % 3); l > 0; --l) {
        users += lines[random() % lines.size()] + "\n";
      }
    }
    const std::string text = with_users(users);
    fast += detail::parse_plain(text, kFile).has_value() ? 1 : 0;
    expect_same_as_whole(text);
  }
  EXPECT_GT(fast, 20);  // the fast path was exercised, not only the fallback
  EXPECT_LT(fast, 280);
}

// Plain lines with odd bytes put into them here and there (a review's fuzzing found the CRs
// above this way): parse() never differs from the whole file's reading.
TEST(PlainUsers, OddBytesInPlainLinesReadAsTheWholeFile) {
  const std::vector<std::string> lines = {
      "[users.\"bob@example.org\"]", "[users.\"al@example.org\"]", "[users.\"c@example.org\"] # h",
      "timezone = \"UTC\"",          "hours = \"mon 09:00-10:00\"", "calendar = \"/c.ics\"",
      "always_through = [\"a@example.org\",]", "[log]", "level = \"info\"", "# c", "",
  };
  const std::vector<std::string> odd = {
      "\r", "\r\r", "\t", "\f", std::string("\0", 1), "\x01", "\x7f", "\xc3\xa9", "\xef\xbb\xbf",
      "\"", "'", "\"\"\"", "'''", "\\", "[", "]", "[users.", "\"]", "{", ",", "=", "#", ".",
      "users.\"d@example.org\".timezone = \"UTC\"", "[[users]]", "\n[",
  };
  std::mt19937 random(7);
  int fast = 0;
  for (int file = 0; file < 10000; ++file) {
    std::string text(kMinimal);
    for (int l = 2 + static_cast<int>(random() % 8); l > 0; --l) {
      std::string line = lines[random() % lines.size()];
      if (random() % 6 == 0) line.insert(random() % (line.size() + 1), odd[random() % odd.size()]);
      text += line;
      if (line.starts_with("[users.") && random() % 8 != 0) text += "\ntimezone = \"UTC\"";
      if (random() % 10 != 0) text += random() % 4 == 0 ? "\r\n" : "\n";
    }
    fast += detail::parse_plain(text, kFile).has_value() ? 1 : 0;
    expect_same_as_whole(text);
  }
  EXPECT_GT(fast, 50);  // the fast path was exercised, not only the fallback
}

}  // namespace
}  // namespace concierge::config
