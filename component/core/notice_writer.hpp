// SPDX-License-Identifier: MIT
#pragma once
// NoticeWriter: what senders are told about their held messages (DESIGN §2, §7) — the hold
// notice once per hold episode (again when the reason changes), "delivered" once all released
// holds of an episode are confirmed, the reply notice of the patent's last step, and the times
// in them, in the reader's zone and within what the target's privacy lets them learn. Owns the
// NoticeBook (what was told). Reads the holds (a queue position) but never changes them;
// touches no presence, schedule or pool state and sends no relayed message.

#include <cstdint>
#include <string>
#include <vector>

#include <component/core/hold_book.hpp>
#include <component/core/notice_book.hpp>
#include <component/core/outbox.hpp>
#include <component/core/scheduler_rooms.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>

namespace concierge::core {

class NoticeWriter {
 public:
  // The rooms and `holds` must outlive the writer.
  NoticeWriter(const SchedulerRooms& rooms, const HoldBook& holds);
  NoticeWriter(const NoticeWriter&) = delete;
  NoticeWriter& operator=(const NoticeWriter&) = delete;

  NoticeBook& book() { return book_; }

  // A notice about `target` to `to`, addressed as the way in addresses it (proxy mode: from
  // the target's proxy address).
  xmpp::Element notice(const std::string& target, const std::string& to,
                       const std::string& text) const;
  // `t` for `reader`, in their zone (else `about`'s, named), relative to `now`.
  std::string when(Instant t, const std::string& reader, const std::string& about,
                   Instant now) const;
  // `sender`'s messages to `target` wait for `reason`: told once per episode (after commit).
  void hold_notice(const std::string& sender, const std::string& target, HoldReason reason,
                   Instant now, Outbox& out);
  // `replier` answered `to` outside (or near the end of) working time: `to` learns when back.
  void reply_notice(const std::string& replier, const std::string& to, Instant now, Outbox& out);
  // The held messages `ids` of (sender, target) went out: remember them for "delivered" when
  // the sender was told they were held and privacy allows.
  void expect_delivery(const std::string& sender, const std::string& target,
                       const std::vector<std::int64_t>& ids);
  // Every awaited hold of (sender, target) is confirmed: "delivered", once per episode.
  void delivered(const std::string& sender, const std::string& target, Outbox& out);

 private:
  std::size_t queue_position(const std::string& sender, const std::string& target) const;

  SchedulerRooms rooms_;
  const HoldBook& holds_;
  NoticeBook book_;
};

}  // namespace concierge::core
