// SPDX-License-Identifier: MIT
#pragma once
// What the config tests share: DESIGN §12's example and a minimal config as text, and helpers
// that parse text and report errors as the user sees them. Test-only; owns no state but
// TempFile's file.
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

namespace concierge::config::config_test {

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
mode = "proxy"                  # "proxy", "transparent" (server extension) or "both"
remote = false                  # transparent: also schedule senders of other servers (needs s2s for the component domain)

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
inline int line_of(std::string_view text, std::string_view needle) {
  const std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << needle;
  if (at == std::string_view::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

inline std::string at(int line) {
  return std::string(kFile) + ":" + std::to_string(line) + ": ";
}

// Every error as the user sees it; empty when the text parses.
inline std::vector<std::string> errors_of(std::string_view text) {
  std::vector<std::string> messages;
  ParseResult result = parse(text, kFile);
  if (const auto* errors = std::get_if<std::vector<Error>>(&result)) {
    for (const Error& error : *errors) messages.push_back(error.to_string());
  }
  return messages;
}

inline Config parsed(std::string_view text) {
  ParseResult result = parse(text, kFile);
  if (const auto* errors = std::get_if<std::vector<Error>>(&result)) {
    for (const Error& error : *errors) ADD_FAILURE() << error.to_string();
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

inline std::string with_pool_member_enrolled(std::string_view design_example) {
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

}  // namespace concierge::config::config_test
