// SPDX-License-Identifier: MIT
#pragma once
// The per-message limits of DESIGN §11 (messages_per_sender_per_minute, max_body_bytes) as one
// check. Owns nothing: the sender's bucket lives in the caller's RateLimiter.

#include <optional>
#include <string>
#include <utility>

#include <component/core/rate_limiter.hpp>
#include <component/core/refusal.hpp>
#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>

namespace concierge::core {

// The refusal and its text when `stanza` from `sender` is over one of the limits (a message
// counts against the sender's rate whether or not it passes), else nullopt.
std::optional<std::pair<Refusal, std::string>> limit_exceeded(RateLimiter& limiter,
                                                              const Settings& settings,
                                                              const xmpp::Element& stanza,
                                                              const std::string& sender,
                                                              Instant now);

}  // namespace concierge::core
