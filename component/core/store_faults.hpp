// SPDX-License-Identifier: MIT
#pragma once
// StoreFaults: what senders get while the store cannot commit (DESIGN §6: a hold is committed
// before its sender hears of it). Owns whether the store fails and the current turn's holds it
// has not committed yet, each with the error its sender gets should the commit fail. Removes a
// hold only when that commit failed, through the scheduler's own erase; reads the holds and
// the notices' addressing, and must not touch presence, schedules, releases or the store
// itself (app/ commits and reports the outcome).

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <component/core/hold_book.hpp>
#include <component/core/notice_writer.hpp>
#include <component/core/outbox.hpp>
#include <component/core/router_types.hpp>
#include <xmpp/element.hpp>

namespace concierge::core {

// Owned by the Scheduler, which records every new hold here; app/ reports the outcome of every
// turn's commit (succeeded / failed). Bounded: it keeps only the turn's new holds, and none are
// taken while the store fails. Until watch() is called it tracks nothing: a store whose every
// write counts as committed at once (the MemoryStore of the core's tests and of the benchmark).
class StoreFaults {
 public:
  // `holds`, `notices` and `stats` must outlive it; `erase_hold` removes a hold as gone
  // undelivered (Scheduler::erase_hold).
  StoreFaults(const HoldBook& holds, const NoticeWriter& notices, RouterStats& stats,
              std::function<void(std::int64_t)> erase_hold);

  // The store reports its commits (app/ with a real store).
  void watch() { watched_ = true; }
  // The last commit failed: messages that would be held are refused at once.
  bool failing() const { return failing_; }
  // Hold `id` was taken this turn and its commit is still owed.
  bool uncommitted(std::int64_t id) const { return uncommitted_.count(id) != 0; }

  // While the store fails: refuses `original` (it would be held for `target`); true if so.
  bool refused(const xmpp::Element& original, const std::string& target, Outbox& out);
  // Hold `id` of `original` for `target` was taken: owed by this turn's commit.
  void held(std::int64_t id, const xmpp::Element& original, const std::string& target);

  // The turn's holds are durable; the store is back if it had failed (logged).
  void succeeded(Outbox& out);
  // The turn's commit failed: the holds it lacked (still held, not on their way out) are
  // removed and refused to their senders. Returns the (from, to) of the hold notices that must
  // not go now: pairs with nothing held any more.
  std::set<std::pair<std::string, std::string>> failed(Outbox& out);

 private:
  const HoldBook& holds_;
  const NoticeWriter& notices_;
  RouterStats& stats_;
  std::function<void(std::int64_t)> erase_hold_;
  bool watched_ = false;
  bool failing_ = false;
  std::map<std::int64_t, xmpp::Element> uncommitted_;  // this turn's holds, with their refusals
};

// What the sender of a message to `target` reads when it cannot be stored.
std::string unstorable_text(const std::string& target);

}  // namespace concierge::core
