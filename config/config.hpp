// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace concierge::config {

// Where a value came from, for error messages: "concierge.toml:12".
struct Origin {
  std::string file;
  int line = 0;
};

// DESIGN §12. Every field is documented with its default; required ones say so.
struct Component {
  std::string jid;          // required: the component's domain as registered
  std::string secret;       // required, or read from secret_file (never printed)
  std::string secret_file;  // path the secret was read from, when given
  std::string host = "127.0.0.1";
  std::uint16_t port = 5347;
  // `hosts`: the nodes of a server cluster, "host:port" each ("[v6]:port" for an IPv6
  // literal), tried in turn when a connection fails or ends; empty (the default): host/port.
  // Exactly one of host/port and hosts is set in the file.
  struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
  };
  std::vector<Endpoint> hosts;

  // Where to connect, in the order to try: `hosts`, or host/port alone.
  std::vector<Endpoint> endpoints() const {
    if (!hosts.empty()) return hosts;
    return {Endpoint{host, port}};
  }
};

// How messages reach Concierge (DESIGN §10): through proxy addresses, handed over by the
// server extension (mod_concierge, transparent delivery), or both ways at once.
enum class ServedMode { proxy, transparent, both };

struct Served {
  std::vector<std::string> domains;  // required, non-empty: only their users may use Concierge
  ServedMode mode = ServedMode::proxy;  // key: served.mode
  // Transparent delivery: also schedule senders of other servers (notices to them leave over
  // s2s from the component's domain). Default false: their messages go through unscheduled.
  bool remote = false;
};

// Exactly one backend: `path` (SQLite, the default) or `url` (PostgreSQL, libpq's URI syntax,
// "postgresql://USER@HOST:PORT/DB?sslmode=..."). `password` is read from `password_file` and
// never printed; a password written into the url is masked when the config is printed.
struct Store {
  std::string path = "/var/lib/concierge/concierge.db";
  std::string url;            // set: PostgreSQL, and `path` is unused
  std::string password_file;  // only with url
  std::string password;       // the content of password_file; a secret
};

struct Session {
  std::chrono::seconds idle_after{600};  // a conversation ends after this much silence
  int max_concurrent = 1;                // conversations a target takes at once (>= 1)
};

struct Notice {
  std::chrono::seconds before_end{900};
  std::string language = "en";
};

struct Release {
  int rate = 200;                            // messages/s when releasing holds (>= 1)
  std::chrono::seconds confirm_window{900};  // a released message can still be re-held
};

struct Presence {
  int probe_rate = 50;  // probes/s after connecting (>= 1)
};

struct Limits {
  std::chrono::seconds max_hold_age{14 * 24 * 3600};
  int holds_per_target = 10000;
  int holds_per_sender = 1000;
  int messages_per_sender_per_minute = 120;
  int max_body_bytes = 65536;
};

enum class UnknownSchedule { working, off_hours };
struct Schedule {
  UnknownSchedule unknown = UnknownSchedule::working;
  std::chrono::seconds window{60 * 24 * 3600};
  std::chrono::seconds refresh{3600};
  std::int64_t max_bytes = 5000000;
  bool allow_private_urls = false;
};

enum class PrivacyLevel { exact, wait, none };
struct Privacy {
  PrivacyLevel default_level = PrivacyLevel::exact;  // key: privacy.default
};

struct Urgent {
  std::string prefix = "!urgent";
  int max_per_hour = 3;
};

enum class CalendarKind { work, personal };
enum class UrgentFrom { always_through, anyone };

// One [users."bare@jid"] table: a user enrolled by the admin.
struct User {
  std::string jid;       // the table key, a bare JID
  std::string timezone;  // required, an IANA name (checked by app/ through ical/)
  std::string calendar;  // file path or https URL; empty: none
  CalendarKind calendar_kind = CalendarKind::work;
  std::string hours;  // weekly hours pattern (checked by app/ through ical/); empty: none
  std::vector<std::string> always_through;
  UrgentFrom urgent_from = UrgentFrom::always_through;
  // Where each key set in the file stood, by key name ("timezone", "hours", ...): lets app/
  // report errors it finds later with file:line, and tells which keys the admin set.
  std::map<std::string, Origin> origins;
};

// One [pools."name"] table: name@<component.jid>.
struct Pool {
  std::string name;
  std::vector<std::string> members;  // bare JIDs of served domains: [users] or self-enrolled
  Origin origin;
};

struct Admin {
  std::vector<std::string> jids;
};

enum class LogLevel { error, warn, info, debug };
struct Log {
  LogLevel level = LogLevel::info;
};

// [metrics]: OpenMetrics over HTTP at GET /metrics. Off unless `listen` is set.
struct Metrics {
  std::string listen;  // "IPv4:port" or "[IPv6]:port", an address literal; empty: off
};

struct Config {
  std::string file;  // the path it was read from
  Component component;
  Served served;
  Store store;
  Session session;
  Notice notice;
  Release release;
  Presence presence;
  Limits limits;
  Schedule schedule;
  Privacy privacy;
  Urgent urgent;
  std::vector<User> users;  // in file order
  std::vector<Pool> pools;  // in file order
  Admin admin;
  Log log;
  Metrics metrics;

  // Both compare ASCII case-insensitively (JIDs are case-insensitive); nullptr when absent.
  const User* find_user(std::string_view bare_jid) const;
  const Pool* find_pool(std::string_view name) const;
};

// One problem with a config file: "concierge.toml:12: limits.max_body_bytes: must be > 0".
struct Error {
  Origin origin;    // line 0 when the problem is the file as a whole
  std::string key;  // dotted key path, e.g. `users."bob@example.org".timezone`; may be empty
  std::string message;
  std::string to_string() const;
};

using ParseResult = std::variant<Config, std::vector<Error>>;

// Parses and validates TOML text. `file` names the source in errors; `secret_file` is opened
// as given (a relative path is relative to the working directory). Never throws; returns every
// problem found, sorted by line (problems of the file as a whole last).
// Checks: syntax, unknown keys, types, ranges, durations ("90s", "10m", "2h", "14d"),
// required keys, exactly one of secret/secret_file (secret_file is read here; an unreadable
// or empty file is an error), JIDs are well-formed bare JIDs, pool members are of served domains.
ParseResult parse(std::string_view text, std::string_view file);
ParseResult parse(std::istream& in, std::string_view file);
ParseResult parse_file(const std::string& path);  // an unreadable file is an Error with line 0

// Parses "90s", "10m", "2h", "14d" (a non-negative integer and one unit). nullopt otherwise.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);
// The largest unit that divides it exactly: 600 s -> "10m", 0 -> "0s" (negative: "-5s").
std::string format_duration(std::chrono::seconds duration);

// The effective configuration as TOML, every key shown with its value (defaults included),
// the secret masked as "********" and calendar URLs reduced to scheme://host/… (URLs are secrets).
// A [users] key the admin did not set (absent from User::origins) is shown commented out, so
// parse(to_toml(c)) gives back the same values and the same keys set (the secret masked).
std::string to_toml(const Config& config);

const char* to_string(LogLevel level);
const char* to_string(PrivacyLevel level);
const char* to_string(ServedMode mode);
const char* to_string(CalendarKind kind);
const char* to_string(UnknownSchedule unknown);
const char* to_string(UrgentFrom from);

}  // namespace concierge::config
