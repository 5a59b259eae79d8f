// SPDX-License-Identifier: MIT
#pragma once
// PassBook: the passes the transparent way gave the server extensions (xmpp/server/PROTOCOL.md
// "Passes") — which target lets which sender, or anyone, through without a divert, and until
// when — and whether each still holds. A pass is DESIGN §2 read ahead: a sender pass while the
// two are in a conversation (the third row), the any pass while the target is free, available
// and on duty with nobody waiting (the last row); it ends early when what it was decided on
// changes, and then a revoke goes to the extension before anything that follows from the
// change. Owns the passes alone; reads the Router's rooms, never changes them; knows nothing
// of diverts or stanzas but the revoke it sends.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <component/core/outbox.hpp>
#include <component/core/router.hpp>
#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <xmpp/divert.hpp>

namespace concierge::core {

class PassBook {
 public:
  // The longest a pass lasts, whatever else (a lost revoke ends this soon).
  static constexpr Duration kLongest = std::chrono::seconds(60);
  // A pass ends this long before the target's schedule changes (the extension's clock counts
  // the ttl from when the verdict arrives).
  static constexpr Duration kBeforeChange = std::chrono::seconds(2);

  void reconfigure(const Settings& settings);

  // A divert from `sender` to `target` (bare JIDs) is answered `deliver` at `now`, after the
  // Router took it: the pass that verdict carries, recorded; nullopt when none applies.
  std::optional<xmpp::divert::Pass> grant(const std::string& sender, const std::string& target,
                                          Instant now, const Router& router);
  // Whether a pass let `sender` through to `target` now (for a passed report).
  bool holds(const std::string& sender, const std::string& target, Instant now) const;

  // What `user` did, or what was done to them, may have ended passes where they are the target
  // or the sender: those that no longer hold are revoked (a revoke iq per extension, into `out`).
  void recheck(const std::vector<std::string>& users, Instant now, const Router& router,
               Outbox& out);
  void recheck_all(Instant now, const Router& router, Outbox& out);
  // `stanza` went to the Router: its sender and the user it was for are rechecked (after a
  // command to the component, app/ rechecks everyone through enrolment_may_have_changed); the
  // revokes go into `out` at `at`, before what the Router answered to it.
  void touched(const xmpp::Element& stanza, Instant now, const Router& router, Outbox& out,
               std::size_t at);
  // Holds made since the last call: their targets are rechecked; after a schedule or a pause
  // was set, everyone.
  void recheck_changed(Instant now, const Router& router, Outbox& out);
  // The stream is gone: the extensions drop every pass at the next connect (the enrolled iq).
  void clear();
  std::size_t size() const { return by_target_.size(); }

 private:
  struct Passes {
    std::optional<Instant> any;            // the any pass's end
    std::map<std::string, Instant> from;   // sender → the sender pass's end
  };
  // Until when each kind of pass may hold from `now` on; nullopt: it does not hold now.
  std::optional<Instant> any_until(const std::string& target, Instant now,
                                   const Router& router) const;
  std::optional<Instant> sender_until(const std::string& sender, const std::string& target,
                                      Instant now, const Router& router) const;
  // Rechecks `target`'s passes (every sender's, or only `sender`'s), adding ended ones to
  // `revoked`.
  void recheck_target(const std::string& target, const std::string* sender, Instant now,
                      const Router& router, std::vector<xmpp::divert::Revoke::Revoked>& revoked);
  void forget_sender(const std::string& sender, const std::string& target);
  // Forgets every pass whose time is up.
  void sweep(Instant now);
  void send(std::vector<xmpp::divert::Revoke::Revoked> revoked, Outbox& out);

  std::string domain_;  // the component's
  std::int64_t newest_hold_ = 0;   // the newest hold recheck_changed() has seen
  std::uint64_t times_seen_ = 0;  // Availability::version() it has seen
  Instant next_sweep_{};
  std::string urgent_prefix_;
  Duration idle_after_{};
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::string, Passes> by_target_;
  std::unordered_map<std::string, std::vector<std::string>> by_sender_;  // sender → targets
};

}  // namespace concierge::core
