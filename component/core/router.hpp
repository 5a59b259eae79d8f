// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <component/core/outbox.hpp>
#include <component/core/rate_limiter.hpp>
#include <component/core/refusal.hpp>
#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

// Counters an admin can read (stats command, logs on shutdown).
struct RouterStats {
  std::uint64_t relayed = 0;        // messages forwarded between users
  std::uint64_t refused = 0;        // stanzas answered with an error
  std::uint64_t dropped = 0;        // stanzas dropped without an answer (errors, bad from, …)
  std::uint64_t answered = 0;       // iqs and commands answered by the component itself
};

// The decision point for every stanza that reaches the component (DESIGN §2, §7). Pure: the
// caller passes each stanza with the instant it arrived and sends what lands in the outbox.
//
// Today every enrolled target is treated as free, so the decision table reduces to its first
// row (refuse what may not pass) and its last (forward now); holds come with the scheduler.
class Router {
 public:
  explicit Router(Settings settings);

  // SIGHUP: new users, limits, … take effect for the next stanza.
  void reconfigure(Settings settings);
  const Settings& settings() const { return settings_; }

  void handle(const xmpp::Element& stanza, Instant now, Outbox& out);
  // Forgets expired bookkeeping; call about once a minute.
  void tick(Instant now);

  const RouterStats& stats() const { return stats_; }

 private:
  struct Addressing {
    xmpp::Jid from;  // the real sender, as the server stamped it
    xmpp::Jid to;    // the address on the component
  };

  void handle_message(const xmpp::Element& stanza, const Addressing& a, Instant now, Outbox& out);
  void handle_bounce(const xmpp::Element& stanza, const Addressing& a, Outbox& out);
  void handle_command(const xmpp::Element& stanza, Outbox& out);
  void handle_iq(const xmpp::Element& stanza, const Addressing& a, Outbox& out);
  void refuse(const xmpp::Element& stanza, Refusal refusal, const std::string& text, Outbox& out);
  void relay(const xmpp::Element& stanza, const xmpp::Jid& sender, const xmpp::Jid& target,
             Outbox& out);

  bool served(const xmpp::Jid& jid) const;
  bool enrolled(const xmpp::Jid& jid) const;
  // B wrote to A through Concierge within idle_after: A may answer B even if B is not enrolled.
  bool wrote_recently(const std::string& writer, const std::string& reader, Instant now) const;

  Settings settings_;
  RateLimiter limiter_;
  // (writer, reader) bare JIDs → when writer last wrote to reader through Concierge.
  std::map<std::pair<std::string, std::string>, Instant> last_written_;
  RouterStats stats_;
};

// Size of a stanza as the bound sees it: names, attributes and text summed; and its depth.
std::size_t stanza_weight(const xmpp::Element& element, std::size_t max_depth, bool& too_deep);

}  // namespace concierge::core
