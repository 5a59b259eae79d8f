// SPDX-License-Identifier: MIT
#pragma once
// HoldBook: the messages Concierge holds (DESIGN §2, §6), in memory and written through to the
// store. Owns every hold by id, the index by target, the counts of `held` messages per sender
// and per (sender, target) — a hold episode lasts while the second is not zero —, which
// releases are in flight (sent, not confirmed by a ping), which were listed in a summary, and
// how often each bounced. Must not touch: presence, sessions, schedules, users' settings,
// notices or stanzas — the scheduler decides, words and sends; this only keeps the books.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <component/core/store_port.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

class HoldBook {
 public:
  // `store` must outlive the book. `episode_ended(sender, target)` is called when the last
  // held message of a pair is released, confirmed or gone; `changed()` whenever a hold
  // appears, changes state or goes (its expiry timer with it).
  HoldBook(Store& store, std::function<void(const std::string&, const std::string&)> episode_ended,
           std::function<void()> changed);

  // Startup: the store's holds. Calls `each` for every one that is still held.
  void load(const std::function<void(const Hold&)>& each);

  // A new hold: its id assigned (arrival order), written to the store. Returns the id.
  std::int64_t add(Hold h);
  // Writes a changed hold (reason, stanza) back to the store.
  void write(const Hold& h) { store_.put_hold(h); }
  // Removes a hold from the book and the store.
  void erase(std::int64_t id);

  Hold& at(std::int64_t id) { return holds_.at(id); }
  const Hold& at(std::int64_t id) const { return holds_.at(id); }
  Hold* find(std::int64_t id);
  const std::map<std::int64_t, Hold>& all() const { return holds_; }
  // The id of the newest hold (0: none).
  std::int64_t newest_id() const { return holds_.empty() ? 0 : holds_.rbegin()->first; }
  std::size_t size() const { return holds_.size(); }
  // The ids of `target`'s holds (held and sent), rising; nullptr when none.
  const std::set<std::int64_t>* of_target(const std::string& target) const;
  std::vector<std::string> targets() const;
  // Held (not sent) messages of `sender`, to anyone; whether any of `sender` to `target` is.
  std::size_t held_by(const std::string& sender) const;
  bool pair_held(const std::string& sender, const std::string& target) const;
  // Messages for `target` still waiting (held, not on their way out).
  bool has_waiting(const std::string& target) const;

  // Releases on their way out, not confirmed yet: still `held` in the store.
  bool in_flight(std::int64_t id) const { return in_flight_.count(id) != 0; }
  void mark_in_flight(std::int64_t id) { in_flight_.insert(id); }
  bool unmark_in_flight(std::int64_t id) { return in_flight_.erase(id) != 0; }
  void stream_lost() { in_flight_.clear(); }
  // The server took it (ping answer): `sent` from `now`, until the confirm window ends.
  void confirm(Hold& h, Instant now);
  // A release the server bounced is `held` again (counted as such).
  void hold_again(Hold& h);
  // How often `id` bounced, this one included.
  int bounced(std::int64_t id) { return ++bounces_[id]; }

  // Holds listed in a "while you were away" summary whose release is not confirmed yet.
  bool summarised(std::int64_t id) const { return summarised_.count(id) != 0; }
  void summarise(const std::vector<std::int64_t>& ids) { summarised_.insert(ids.begin(), ids.end()); }
  void unsummarise(std::int64_t id) { summarised_.erase(id); }

 private:
  void count_held(const Hold& h, int delta);

  Store& store_;
  std::function<void(const std::string&, const std::string&)> episode_ended_;
  std::function<void()> changed_;
  std::map<std::int64_t, Hold> holds_;  // held and sent, by id
  std::unordered_map<std::string, std::set<std::int64_t>> by_target_;
  std::unordered_map<std::string, std::size_t> per_sender_;       // held (not sent)
  std::map<std::pair<std::string, std::string>, int> per_pair_;    // held, (sender, target)
  std::set<std::int64_t> in_flight_;
  std::set<std::int64_t> summarised_;
  std::unordered_map<std::int64_t, int> bounces_;  // per hold, since startup
  std::int64_t next_id_ = 1;
};

}  // namespace concierge::core
