// SPDX-License-Identifier: MIT
#pragma once
// Settings: the core's plain copy of the configuration; a value, owns no state of users.

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <config/config.hpp>

namespace concierge::core {

// What the core needs to know of the configuration, copied out of config::Config once per
// (re)load so the hot path reads plain fields.
struct Settings {
  std::string component_domain;              // component.jid
  std::set<std::string> served_domains;      // served.domains, lower-case
  // served.mode: which ways in are open (DESIGN §10). Proxy addresses, the server
  // extension's diverts (transparent delivery), or both.
  bool proxy_way = true;
  bool transparent_way = false;
  bool remote_senders = false;               // served.remote (transparent only)
  std::set<std::string> enrolled;            // bare JIDs of [users]
  std::set<std::string> admins;              // [admin] jids
  std::chrono::milliseconds idle_after{std::chrono::minutes(10)};
  int max_concurrent = 1;                    // session.max_concurrent
  bool allow_private_urls = false;           // schedule.allow_private_urls (plain http allowed)
  int messages_per_sender_per_minute = 120;
  std::size_t max_body_bytes = 65536;
  // Whole-stanza bound (attributes + text + names, summed): well above any body we accept,
  // far below what would hurt. Prosody's own c2s limit is 256 KiB.
  std::size_t max_stanza_bytes = 262144;
  std::size_t max_depth = 32;
  std::string version = "0";

  // The scheduler (DESIGN §2, §6, §12).
  bool unknown_is_working = true;                          // schedule.unknown
  std::chrono::milliseconds notice_before_end{std::chrono::minutes(15)};
  std::chrono::milliseconds confirm_window{std::chrono::minutes(15)};
  std::chrono::milliseconds max_hold_age{std::chrono::hours(14 * 24)};
  std::size_t holds_per_target = 10000;
  std::size_t holds_per_sender = 1000;
  std::string urgent_prefix = "!urgent";
  int urgent_max_per_hour = 3;
  enum class Privacy { exact, wait, none };
  Privacy privacy_default = Privacy::exact;                // for senders of the target's domain
  // Per-user settings from [users] (self-enrolled users get the defaults).
  struct User {
    std::string timezone;                  // IANA
    std::string calendar;                  // a file path (admins only) or a URL; empty: none
    std::string hours;                     // weekly hours (DESIGN §5 grammar); empty: none
    bool personal = false;                 // calendar_kind = "personal"
    std::set<std::string> always_through;  // bare JIDs, lower-case
    bool urgent_from_anyone = false;
    // The keys the admin set in the file ("timezone", "calendar", "hours", "calendar_kind",
    // "always_through", "urgent_from"): a user command that would change one is refused.
    std::set<std::string> admin_keys;
  };
  std::map<std::string, User> users;       // by bare JID, lower-case
  // [pools]: name (lower-case) → member bare JIDs, in config order.
  std::map<std::string, std::vector<std::string>> pools;

  // Whether users of `domain` are served (served.domains).
  bool serves(const std::string& domain) const { return served_domains.count(domain) != 0; }
  // Whether senders of other servers are scheduled: through the transparent way only, and
  // only with served.remote (DESIGN §11).
  bool schedules_remote() const { return remote_senders && transparent_way; }

  static Settings from_config(const config::Config& config, std::string version);
};

}  // namespace concierge::core
