// SPDX-License-Identifier: MIT
#pragma once
// Scheduler: DESIGN §2's decision for a message to an enrolled target, and the holds that
// follow from it (§5, §6). Owns the HoldBook, the NoticeWriter (what senders were told), the
// urgent log (urgent.max_per_hour), the StoreFaults (which holds this turn's commit still owes,
// and what senders get while the store fails) and the next_wake() cache. Gathers a target's state
// for decide() (decision.hpp) from the rooms it only reads (scheduler_rooms.hpp), and relays, holds
// or refuses. Releasing is the Releaser's (releaser.hpp). Must not touch pools, commands, presence
// subscriptions or how stanzas were addressed: it gets an Inbound (plain values) and the instant.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <component/core/decision.hpp>
#include <component/core/hold_book.hpp>
#include <component/core/hourly_counts.hpp>
#include <component/core/inbound.hpp>
#include <component/core/notice_writer.hpp>
#include <component/core/outbox.hpp>
#include <component/core/refusal.hpp>
#include <component/core/scheduler_rooms.hpp>
#include <component/core/store_faults.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>

namespace concierge::core {

class Scheduler {
 public:
  // The rooms must outlive the scheduler; the store's holds are loaded here.
  explicit Scheduler(const SchedulerRooms& rooms);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Decides `m` (the refusals are done): relays it, forwards it as urgent, drops it, or holds
  // it. True when it went now as part of a conversation (an urgent message engages nothing).
  bool schedule_message(const Inbound& m, Instant now, Outbox& out);
  // Holds `relayed` (a copy of `original` as it will go out) from `sender` for `target`, and
  // tells the sender (after the commit). While the store fails, refuses `original` instead.
  void hold(const xmpp::Element& original, xmpp::Element relayed, const std::string& sender,
            const std::string& target, HoldReason reason, Instant now, Outbox& out,
            std::optional<Instant> received = std::nullopt);
  // An unconfirmed forward after a reconnect: held behind its sender's earlier held messages
  // to that target (true), else false — order per sender (DESIGN §2).
  bool hold_behind(const xmpp::Element& forwarded, Instant received, Instant now, Outbox& out);

  HoldBook& holds() { return holds_; }
  const HoldBook& holds() const { return holds_; }
  NoticeWriter& notices() { return notices_; }
  const NoticeWriter& notices() const { return notices_; }
  // Held (not on their way out, committed) messages for `target` / from `sender`, oldest first.
  std::vector<Hold> holds_for(const std::string& target) const;
  std::vector<Hold> held_from(const std::string& sender) const;
  // Drops a hold (cancelled, expired, bounced, unreadable): not "delivered" later.
  void erase_hold(std::int64_t id);
  // Drops hold `id` while it is still waiting (not on its way out, not sent): true if so.
  bool drop_hold(std::int64_t id);
  // `target` leaves: their holds go back to the senders, quoted, with `why`.
  void bounce_holds(const std::string& target, const std::string& why, Outbox& out);
  // Time passed: holds past max_hold_age expire (their senders told), confirmed ones past the
  // confirm window are forgotten, and so is bookkeeping that only matters for a while.
  void expire(Instant now, Outbox& out);

  // The store's commits and what senders get while it fails (store_faults.hpp, DESIGN §6).
  StoreFaults& commits() { return commits_; }

  // next_wake(): `now` is the base for schedule changes; changed() marks the cache stale.
  void at(Instant now) { wake_base_ = now; }
  void changed() { wake_dirty_ = true; }
  // When a hold expires or a confirm window ends, a pause ends, or the schedule of a target
  // with holds or proxy subscribers changes; or a session goes idle. nullopt: nothing pending.
  std::optional<Instant> next_wake() const;

 // What the decision would read of `target` for a message from `sender` now (urgent and
  // never_held are the message's, left false). `sender` "": someone in no conversation with
  // `target` (every counted session counts).
  TargetState target_state(const std::string& sender, const std::string& target, Instant now) const;

 private:
  bool urgent_allowed(const xmpp::Element& stanza, const std::string& sender,
                      const std::string& target, Instant now) const;
  void forward_urgent(const Inbound& m, Instant now, Outbox& out);
  // A correction or retraction from `sender` of a copy held for `target`, applied to it.
  bool apply_to_held(const xmpp::Element& stanza, const std::string& sender,
                     const std::string& target, Outbox& out);

  SchedulerRooms rooms_;
  HoldBook holds_;        // every hold and its counts
  NoticeWriter notices_;  // which notice each sender got; "delivered" and reply notices owed
  UrgentLog urgent_sent_;
  StoreFaults commits_{holds_, notices_, rooms_.stats, [this](std::int64_t id) { erase_hold(id); }};
  // next_wake() cache, read on every loop turn: recomputed only after holds, schedules,
  // pauses or proxy subscriptions changed (they mark it dirty), or a tick.
  mutable bool wake_dirty_ = true;
  mutable std::optional<Instant> schedule_wake_;
  Instant wake_base_{};
};

// Refuses `stanza` with `refusal` and `text` (counted).
void refuse_stanza(const xmpp::Element& stanza, Refusal refusal, const std::string& text,
                   RouterStats& stats, Outbox& out);
// The proxy way's copy of `stanza` from `sender` to `target`, forwarded and counted.
void relay_stanza(const ProxyAddressing& proxy, RouterStats& stats, const xmpp::Element& stanza,
                  const xmpp::Jid& sender, const xmpp::Jid& target, Outbox& out);

}  // namespace concierge::core
