// SPDX-License-Identifier: MIT
#pragma once
// CommitGuard: owns the current turn's uncommitted holds and whether the store fails; touches
// neither the store nor the holds themselves (the Router acts on what it reports).

#include <cstdint>
#include <map>
#include <utility>

#include <xmpp/element.hpp>

namespace concierge::core {

// Whether the store commits, and the holds of the current loop turn that it has not committed
// yet, each with the error its sender gets should the commit fail (DESIGN §6: a hold is
// committed before its sender hears of it). Owned by the Router, which records every new hold
// here; app/ reports the outcome of every turn's commit (Router::commit_succeeded/failed).
// Bounded: it holds only the turn's new holds, and none are taken while the store fails.
// Until watch() is called it tracks nothing: a store whose every write counts as committed at
// once (the MemoryStore of the core's tests and of the benchmark).
class CommitGuard {
 public:
  void watch() { watched_ = true; }
  // The last commit failed: messages that would be held are refused at once.
  bool failing() const { return failing_; }
  bool uncommitted(std::int64_t id) const { return uncommitted_.count(id) != 0; }
  void held(std::int64_t id, xmpp::Element refusal) {
    if (watched_) uncommitted_.insert_or_assign(id, std::move(refusal));
  }
  // The turn's holds are durable. True when the commit before had failed: the store is back.
  bool committed() {
    uncommitted_.clear();
    return std::exchange(failing_, false);
  }
  // The turn's commit failed: hands over the holds it lacks, with their refusals.
  std::map<std::int64_t, xmpp::Element> failed() {
    failing_ = true;
    return std::exchange(uncommitted_, {});
  }

 private:
  bool watched_ = false;
  bool failing_ = false;
  std::map<std::int64_t, xmpp::Element> uncommitted_;
};

}  // namespace concierge::core
