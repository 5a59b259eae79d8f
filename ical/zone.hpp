// SPDX-License-Identifier: MIT
#pragma once
// Time zones as immutable tables of UTC offsets, built once from ICU's tz database (or, for a
// calendar's own VTIMEZONE with a name nobody knows, from that definition) and then shared
// read-only. Local → UTC follows RFC 5545 §3.3.5: a wall time in a DST gap is read with the offset
// before the gap (02:30 on a spring-forward night is 03:30 new time); a repeated wall time is the
// first of the two.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <ical/time.hpp>

namespace concierge::ical {

class Zone {
 public:
  // A table: offsets[i] (seconds east of UTC) holds from transitions[i-1] (inclusive) up to
  // transitions[i]; offsets.size() == transitions.size() + 1.
  Zone(std::string name, std::vector<UtcSeconds> transitions, std::vector<std::int32_t> offsets);

  static std::shared_ptr<const Zone> utc();
  // Samples offset_at over [from, to) (daily, refined to the second) — for VTIMEZONE definitions.
  static std::shared_ptr<const Zone> sampled(
      std::string name, UtcSeconds from, UtcSeconds to,
      const std::function<std::int32_t(UtcSeconds)>& offset_at);

  const std::string& name() const { return name_; }
  std::int32_t offset_at(UtcSeconds t) const;
  LocalSeconds to_local(UtcSeconds t) const { return t + offset_at(t); }
  UtcSeconds to_utc(LocalSeconds local) const;

 private:
  std::size_t segment_of(UtcSeconds t) const;

  std::string name_;
  std::vector<UtcSeconds> transitions_;
  std::vector<std::int32_t> offsets_;
};

// The zone for an IANA name ("Europe/Berlin"), a Windows name ("W. Europe Standard Time", as
// Outlook writes), or a libical-style prefixed name ("/freeassociation.sourceforge.net/Europe/
// Berlin"); nullptr when none of these. Results are cached process-wide; safe to call from any
// thread. Tables cover 1970–2100 (earlier/later instants use the edge offsets).
std::shared_ptr<const Zone> find_zone(std::string_view name);

// Whether find_zone would succeed — for validating a user's `timezone` setting.
bool is_valid_zone(std::string_view name);

// The canonical IANA name for a name find_zone accepts ("W. Europe Standard Time" →
// "Europe/Berlin"); empty if unknown.
std::string canonical_zone_name(std::string_view name);

}  // namespace concierge::ical
