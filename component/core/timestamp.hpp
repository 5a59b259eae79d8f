// SPDX-License-Identifier: MIT
#pragma once
// XEP-0082 timestamps read and written; pure functions, no state.

#include <optional>
#include <string>
#include <string_view>

#include <component/core/time.hpp>

namespace concierge::core {

// XEP-0082 date-time: "2026-11-26T12:00:00Z", fractions and "+01:00" offsets accepted.
// nullopt for anything else (malformed stamps from clients are common: never trust them).
std::optional<Instant> parse_xmpp_datetime(std::string_view text);
// "2026-11-26T12:00:00.123Z" (milliseconds only when non-zero).
std::string format_xmpp_datetime(Instant t);

}  // namespace concierge::core
