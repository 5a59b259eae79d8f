// SPDX-License-Identifier: MIT
// Router: the outcome of compiling a user's schedule (app/ compiles; DESIGN §5). What is in force
// and what is pending is the Directory's (directory.hpp); here the schedule is applied and the
// user told what differs from what their command promised.
#include <component/core/router.hpp>
#include <component/core/schedule_text.hpp>
#include <component/core/service_info.hpp>

namespace concierge::core {

void Router::schedule_compiled(const std::string& bare, const ScheduleSource& used,
                               std::shared_ptr<const ical::Schedule> schedule, Instant now,
                               Outbox& out) {
  // A result for a source no longer current (the user changed it meanwhile) is not applied:
  // the compile of the current one follows.
  if (directory_.schedule_source(bare) != std::optional<ScheduleSource>(used)) return;
  const bool awaited = directory_.compiled(bare, used);
  const std::shared_ptr<const ical::Schedule> compiled = schedule;
  set_schedule(bare, std::move(schedule), now, out);
  if (awaited) {
    // One answer per change (issue 15 point 14): the command that gave the calendar has answered
    // already; a calendar in force as promised adds nothing. What differs from that promise —
    // warnings of the compile, no working time at all — is told here, as one message.
    const std::string notes =
        compiled ? schedule_notes(*compiled, settings_.unknown_is_working) : std::string();
    if (!notes.empty()) {
      out.send(chat_message(settings_.component_domain, bare,
                            "Concierge: your schedule is in force. " +
                                status_line(commands_.rooms(), bare, now) + notes));
    }
  }
}

void Router::schedule_failed(const std::string& bare, const ScheduleSource& used,
                             const std::string& why, Instant now, Outbox& out) {
  (void)now;
  if (directory_.schedule_source(bare) != std::optional<ScheduleSource>(used)) return;  // out of date
  const PendingCalendars::Failure failure = directory_.pending().failed(bare, used, why);
  if (failure.was_pending) {
    // The calendar still of record is compiled again (with the settings as they are now): after
    // a restart it may not have been compiled at all yet.
    out.schedule_changed.push_back(bare);
  }
  if (!failure.tell) return;
  const bool was_pending = failure.was_pending;
  out.send(chat_message(
      settings_.component_domain, bare,
      std::string("Concierge: ") +
          (was_pending ? "your new calendar cannot be used: " : "your calendar cannot be used: ") +
          why + ". Your previous schedule stays in force."));
}

}  // namespace concierge::core
