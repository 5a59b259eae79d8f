// SPDX-License-Identifier: MIT
// StoreFaults (store_faults.hpp): what senders get while the store cannot commit (disk full, I/O
// errors, a lock held too long). DESIGN §6 promises that a held message is committed before
// its sender is told, so a message that cannot be committed is not held: its sender gets a
// stanza error (resource-constraint, type wait) and their client shows it as failed. Messages
// that go through at once are not stored and still go.
#include <component/core/scheduler.hpp>
#include <component/core/store_faults.hpp>

namespace concierge::core {

std::string unstorable_text(const std::string& target) {
  return "Not delivered: " + name_of(target) +
         " can't take messages now, and Concierge cannot store them for later (its storage is "
         "failing). Send it again later.";
}

StoreFaults::StoreFaults(const HoldBook& holds, const NoticeWriter& notices, RouterStats& stats,
                         std::function<void(std::int64_t)> erase_hold)
    : holds_(holds), notices_(notices), stats_(stats), erase_hold_(std::move(erase_hold)) {}

bool StoreFaults::refused(const xmpp::Element& original, const std::string& target, Outbox& out) {
  if (!failing_) return false;
  refuse_stanza(original, Refusal::store_unavailable, unstorable_text(target), stats_, out);
  return true;
}

void StoreFaults::held(std::int64_t id, const xmpp::Element& original, const std::string& target) {
  if (!watched_) return;
  uncommitted_.insert_or_assign(
      id, make_error_reply(original, Refusal::store_unavailable, unstorable_text(target)));
}

void StoreFaults::succeeded(Outbox& out) {
  uncommitted_.clear();
  if (std::exchange(failing_, false)) {
    out.log(LogLevel::info, "the store commits again: messages are held again");
  }
}

std::set<std::pair<std::string, std::string>> StoreFaults::failed(Outbox& out) {
  failing_ = true;
  std::set<std::pair<std::string, std::string>> withdrawn;
  std::size_t refused = 0;
  for (auto& [id, refusal] : std::exchange(uncommitted_, {})) {
    const auto it = holds_.all().find(id);
    // Gone already (cancelled, retracted), or released this turn: on its way, not refused.
    if (it == holds_.all().end() || it->second.state != HoldState::held || holds_.in_flight(id)) {
      continue;
    }
    const std::pair<std::string, std::string> pair{it->second.sender, it->second.target};
    const xmpp::Element told = notices_.notice(pair.second, pair.first, "");
    erase_hold_(id);  // the store gets its delete too: should it commit later, nothing remains
    --stats_.held;
    if (!holds_.pair_held(pair.first, pair.second)) {
      withdrawn.emplace(told.attr("from"), told.attr("to"));
    }
    ++stats_.refused;
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
