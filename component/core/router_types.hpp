// SPDX-License-Identifier: MIT
#pragma once
// Plain values the router hands out and takes (stats, what a schedule is compiled
// from, form values) and small helpers on stanzas and ages. Owns no state.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <component/core/time.hpp>
#include <xmpp/element.hpp>

namespace concierge::core {

// Counters an admin can read (stats command, logs on shutdown).
struct RouterStats {
  std::uint64_t relayed = 0;        // messages forwarded between users
  std::uint64_t refused = 0;        // stanzas answered with an error
  std::uint64_t dropped = 0;        // stanzas dropped without an answer (errors, bad from, …)
  std::uint64_t answered = 0;       // iqs and commands answered by the component itself
  std::uint64_t presences = 0;      // presence updates of enrolled users taken in
  std::uint64_t held = 0;           // messages put on hold
  std::uint64_t released = 0;       // held messages sent to their target
  std::uint64_t expired = 0;        // holds dropped after limits.max_hold_age
  std::uint64_t urgent = 0;         // messages let through as urgent
};

// What a user's schedule is compiled from (DESIGN §5), as in force: the config's [users] keys
// win, then what the user set themselves, then their enrolment. At most one calendar source
// (url, path or upload) is set.
struct ScheduleSource {
  std::string zone;     // IANA
  std::string hours;    // weekly hours; empty: none
  bool personal = false;
  std::string url;      // https (webcal, or http where allowed); a secret
  std::string path;     // a file path from the config (admins only)
  std::string upload;   // an uploaded calendar's text
  // A calendar the user just gave: it replaces the one in force only once it compiles.
  bool pending = false;
  bool has_calendar() const { return !url.empty() || !path.empty() || !upload.empty(); }
  friend bool operator==(const ScheduleSource&, const ScheduleSource&) = default;
};

// The values of a data form's fields (XEP-0004), by field var.
using FormValues = std::map<std::string, std::vector<std::string>>;

// Why a calendar URL a user gives is refused (DESIGN §11: https or webcal; plain http only with
// `allow_http`), or nullopt when it is acceptable (an empty URL is: none).
std::optional<std::string> check_calendar_url(const std::string& url, bool allow_http);

// An age in words for users: "under a minute", "42 min", "5 h", "3 days".
std::string age_text(Duration age);

// Size of a stanza as the bound sees it: names, attributes and text summed; and its depth.
std::size_t stanza_weight(const xmpp::Element& element, std::size_t max_depth, bool& too_deep);

}  // namespace concierge::core
