// SPDX-License-Identifier: MIT
#pragma once
// NoticeBook: owns the hold notices' bookkeeping — which notice each sender was told about a
// target (the hold episode), the released holds awaiting the episode's one "delivered" notice,
// and until when a reply notice was given — and their rows in the store (Remembered kinds
// hold_notice, delivering, reply_notice). Must not touch holds, texts, privacy or stanzas: the
// Router decides, builds and sends the notices; this only remembers what was told.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <component/core/store_port.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

// Changes are written to the store at once (a row remembered, or forgotten when gone), in the
// turn's group commit like the holds, so that a takeover or a restart tells no sender twice and
// says "delivered" once (DESIGN §10). A told notice itself is not written — the held messages
// carry it (told_before()) — only its episode's end is.
class NoticeBook {
 public:
  explicit NoticeBook(Store& store) : store_(store) {}

  // A row of kind hold_notice, delivering or reply_notice as this wrote it; others are ignored.
  void restore(const Remembered& row);
  // A hold loaded from the store: its notice went out already (it was committed before it).
  // Not written: the hold itself says so.
  void told_before(const std::string& sender, const std::string& target, HoldReason reason);

  // Hold notices, once per hold episode of (sender, target).
  bool told(const std::string& sender, const std::string& target) const;
  // `sender` is to be told their messages to `target` wait for `reason`: true when a notice
  // should go out (a new episode, or the reason changed).
  bool tell(const std::string& sender, const std::string& target, HoldReason reason);
  // The episode ended (released, bounced, cancelled): the next hold is told again.
  void episode_ended(const std::string& sender, const std::string& target);

  // "Delivered": the released holds `ids` of (sender, target) are on their way. Remembered
  // only when the sender was told of the hold (the caller checks privacy).
  void expect_delivery(const std::string& sender, const std::string& target,
                       const std::vector<std::int64_t>& ids);
  // Hold `id` of (sender, target) went undelivered: not counted as "delivered" later.
  void undelivered(const std::string& sender, const std::string& target, std::int64_t id);
  // Every awaited hold of (sender, target) is confirmed: how many to tell "delivered" about
  // (nullopt: nothing awaited, tell nothing). Forgets them.
  std::optional<std::size_t> delivered(const std::string& sender, const std::string& target);
  // The awaited holds of (sender, target) will not be "delivered" (the server refused one).
  void give_up_delivery(const std::string& sender, const std::string& target);

  // Reply notices: `to` learns when `replier` is back. True when `back` was not told yet.
  bool tell_reply(const std::string& to, const std::string& replier, Instant back);
  // Forgets reply notices whose "back" time has come by `now` (told again after it).
  void forget_expired(Instant now);

 private:
  using Pair = std::pair<std::string, std::string>;
  void keep_told(const Pair& pair);
  void keep_delivering(const Pair& pair);

  Store& store_;
  std::map<Pair, HoldReason> told_;  // (sender, target) → the reason told
  // (sender, target) → released holds on their way, of senders who were told their messages
  // were held: once all are confirmed they are told "delivered" (the episode's last notice).
  std::map<Pair, std::set<std::int64_t>> delivering_;
  std::map<Pair, Instant> reply_told_;  // (to, replier) → the "back" time told
};

}  // namespace concierge::core
