// SPDX-License-Identifier: MIT
#pragma once
// EnrolmentDesk: a user joining or leaving Concierge (DESIGN §4), and whom their proxy address
// is withdrawn from, across the rooms that hear of it — the Directory (the enrolment and a
// calendar to compile), the PresenceDesk (the component's subscription to the user, others'
// subscriptions to the user's proxy address, what is known of their presence), the
// Availability (their schedule and pause) and the Scheduler (a leaving user's holds go back to
// their senders). Owns nothing: it only coordinates those rooms, which the Router owns. Must
// not touch pools, conversations or commands, nor know how a message was addressed.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <component/core/availability.hpp>
#include <component/core/directory.hpp>
#include <component/core/outbox.hpp>
#include <component/core/presence_desk.hpp>
#include <component/core/scheduler.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

class EnrolmentDesk {
 public:
  // The rooms must outlive the desk (the Router's members).
  EnrolmentDesk(const Settings& settings, Store& store, Directory& directory,
                Availability& availability, PresenceDesk& presences, Scheduler& scheduler);

  // `bare` enrols (or updates their enrolment; `url`: nullopt keeps the calendar, empty removes
  // the URL, another URL becomes pending): their calendar is compiled, and the component asks
  // for their presence (XEP-0100) unless it has already.
  void enrol(const std::string& bare, const std::string& timezone,
             const std::optional<std::string>& url, Instant now, Outbox& out);
  // `bare` unenrols: their holds bounce to the senders, their proxy address is withdrawn from
  // its subscribers, the subscriptions both ways end, and the Directory forgets them.
  void unenrol(const std::string& bare, Outbox& out);
  // `bare`'s subscribers policy changed: their proxy address is withdrawn from whoever may no
  // longer see it. Returns how many.
  std::size_t subscribers_changed(const std::string& bare, Outbox& out);

  // Reconfiguring to `next`: the users under [users] now who are not under `next`'s and did
  // not enrol themselves.
  std::vector<std::string> leaving(const Settings& next) const;
  // `bare` was removed from [users] (leaving()): unenrolled as if they had left themselves —
  // holds bounced, schedule, pause and presence forgotten, the proxy withdrawn from its
  // subscribers, the component's subscription ended both ways (DESIGN §12).
  void removed_from_users(const std::string& bare, Outbox& out);

 private:
  // What unenrolling forgets and tells, for both ways of leaving.
  void forget(const std::string& bare, Outbox& out);

  const Settings& settings_;
  Store& store_;
  Directory& directory_;
  Availability& availability_;
  PresenceDesk& presences_;
  Scheduler& scheduler_;
};

}  // namespace concierge::core
