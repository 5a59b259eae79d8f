// SPDX-License-Identifier: MIT
#pragma once
// Releaser: sending held messages out (DESIGN §2 "Release", §6) — all together after an
// off-hours/away/offline hold with a summary first, one conversation per free slot from the
// queue; confirmation by ping and the "delivered" notice; re-holding what the server bounces
// within the confirm window. Owns whether releases may go out (the stream is up) and the
// release counts. Works on the Scheduler's holds and notices; reads schedules, presence and
// sessions (reserving a queue slot is its only write there). Must not touch pools' state, commands
// or presence subscriptions: a pool's adapter asks for waiting_senders() and release_sender().

#include <cstdint>
#include <string>
#include <vector>

#include <component/core/hourly_counts.hpp>
#include <component/core/outbox.hpp>
#include <component/core/scheduler.hpp>
#include <component/core/scheduler_rooms.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>

namespace concierge::core {

class Releaser {
 public:
  // The rooms and `scheduler` must outlive the releaser.
  Releaser(const SchedulerRooms& rooms, Scheduler& scheduler);
  Releaser(const Releaser&) = delete;
  Releaser& operator=(const Releaser&) = delete;

  // The stream is up (releases may go out) or gone (releases not yet confirmed stay held:
  // they still are in the store).
  void connected() { online_ = true; }
  void disconnected();
  bool online() const { return online_; }
  const ReleaseCounts& counts() const { return counts_; }

  // Re-decides `target`'s held messages (a user, not a pool): releases what may go now, and
  // tells the senders of the rest why they wait when that changed.
  void release_ready(const std::string& target, Instant now, Outbox& out);
  // The admin's flush: every waiting hold of `target` goes now.
  void flush(const std::string& target, Instant now, Outbox& out);
  // Senders with messages waiting for `target`, in the order of their first one.
  std::vector<std::string> waiting_senders(const std::string& target) const;
  // Every waiting message of `sender` for `target` goes to `to` (for a pool, the member).
  void release_sender(const std::string& sender, const std::string& target,
                      const std::string& to, Instant now, Outbox& out);

  // The server confirmed (ping answer) that it took these released messages.
  void release_confirmed(const std::vector<std::int64_t>& ids, Instant now, Outbox& out);
  // The server bounced `stanza` (a message from `sender` to `target`): held again if it was a
  // release within the confirm window, given up after a few bounces. False: not a release.
  bool rehold_bounce(const xmpp::Element& stanza, const std::string& target,
                     const std::string& sender, Instant now, Outbox& out);

 private:
  // Sends a held message to `to`. False: unreadable, erase it afterwards.
  bool release(Hold& h, const std::string& to, Instant now, Outbox& out);
  void set_reason(const std::vector<std::int64_t>& ids, const std::string& sender,
                  const std::string& target, HoldReason reason, Instant now, Outbox& out);

  SchedulerRooms rooms_;
  Scheduler& scheduler_;
  HoldBook& holds_;  // the scheduler's
  ReleaseCounts counts_;  // for the admin's "released in the last hour"
  bool online_ = false;   // between connected() and disconnected()
};

}  // namespace concierge::core
