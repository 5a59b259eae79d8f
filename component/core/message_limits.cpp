// SPDX-License-Identifier: MIT
#include <component/core/message_limits.hpp>

#include <component/core/service_info.hpp>

namespace concierge::core {
namespace {

// Text bytes below `e`, counted in place (no copy of the text).
std::size_t text_bytes(const xmpp::Element& e) {
  if (e.is_text()) return e.text.size();
  std::size_t total = 0;
  for (const auto& c : e.children) total += text_bytes(c);
  return total;
}

std::size_t body_bytes(const xmpp::Element& message) {
  std::size_t total = 0;
  for (const auto& c : message.children) {
    if (c.name == "body") total += text_bytes(c);
  }
  return total;
}

}  // namespace

std::optional<std::pair<Refusal, std::string>> limit_exceeded(RateLimiter& limiter,
                                                              const Settings& settings,
                                                              const xmpp::Element& stanza,
                                                              const std::string& sender,
                                                              Instant now) {
  if (!limiter.allow(sender, now)) return std::pair{Refusal::rate_limited, std::string(kTooFast)};
  if (body_bytes(stanza) > settings.max_body_bytes) {
    return std::pair{Refusal::body_too_large, "This message is longer than the " +
                                                  std::to_string(settings.max_body_bytes) +
                                                  " bytes Concierge accepts."};
  }
  return std::nullopt;
}

}  // namespace concierge::core
