// SPDX-License-Identifier: MIT
// Scheduler: what senders get while the store cannot commit (disk full, I/O errors, a lock held
// too long). DESIGN §6 promises that a held message is committed before its sender is told, so
// a message that cannot be committed is not held: its sender gets a stanza error
// (resource-constraint, type wait) and their client shows it as failed. Messages that go
// through at once are not stored and still go.
#include <component/core/scheduler.hpp>

namespace concierge::core {

std::string unstorable_text(const std::string& target) {
  return "Not delivered: " + name_of(target) +
         " can't take messages now, and Concierge cannot store them for later (its storage is "
         "failing). Send it again later.";
}

bool Scheduler::refuse_unstorable(const xmpp::Element& original, const std::string& target,
                               Outbox& out) {
  if (!commits_.failing()) return false;
  refuse_stanza(original, Refusal::store_unavailable, unstorable_text(target), rooms_.stats, out);
  return true;
}

void Scheduler::commit_succeeded(Outbox& out) {
  if (commits_.committed()) {
    out.log(LogLevel::info, "the store commits again: messages are held again");
  }
}

std::set<std::pair<std::string, std::string>> Scheduler::commit_failed(Outbox& out) {
  std::set<std::pair<std::string, std::string>> withdrawn;
  std::size_t refused = 0;
  for (auto& [id, refusal] : commits_.failed()) {
    const Hold* h = holds_.find(id);
    // Gone already (cancelled, retracted), or released this turn: on its way, not refused.
    if (!h || h->state != HoldState::held || holds_.in_flight(id)) continue;
    const std::pair<std::string, std::string> pair{h->sender, h->target};
    const xmpp::Element told = notices_.notice(pair.second, pair.first, "");
    erase_hold(id);  // the store gets its delete too: should it commit later, nothing remains
    --rooms_.stats.held;
    if (!holds_.pair_held(pair.first, pair.second)) withdrawn.emplace(told.attr("from"), told.attr("to"));
    ++rooms_.stats.refused;
    out.send(std::move(refusal));
    ++refused;
  }
  if (refused > 0) {
    out.log(LogLevel::warn, "the store did not commit " + std::to_string(refused) +
                                (refused == 1 ? " message to hold; refused to its sender"
                                              : " messages to hold; refused to their senders") +
                                " (resource-constraint)");
  }
  return withdrawn;
}

}  // namespace concierge::core
