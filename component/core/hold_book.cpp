// SPDX-License-Identifier: MIT
#include <component/core/hold_book.hpp>

#include <algorithm>

namespace concierge::core {

HoldBook::HoldBook(Store& store,
                   std::function<void(const std::string&, const std::string&)> episode_ended,
                   std::function<void()> changed)
    : store_(store), episode_ended_(std::move(episode_ended)), changed_(std::move(changed)) {}

void HoldBook::load(const std::function<void(const Hold&)>& each) {
  for (auto& h : store_.holds()) {
    next_id_ = std::max(next_id_, h.id + 1);
    by_target_[h.target].insert(h.id);
    if (h.state == HoldState::held) {
      count_held(h, +1);
      each(h);
    }
    holds_.emplace(h.id, std::move(h));
  }
}

std::int64_t HoldBook::add(Hold h) {
  h.id = next_id_++;
  store_.put_hold(h);
  by_target_[h.target].insert(h.id);
  count_held(h, +1);
  const std::int64_t id = h.id;
  holds_.emplace(id, std::move(h));
  return id;
}

void HoldBook::erase(std::int64_t id) {
  auto it = holds_.find(id);
  if (it == holds_.end()) return;
  changed_();
  bounces_.erase(id);
  const Hold& h = it->second;
  if (auto t = by_target_.find(h.target); t != by_target_.end()) {
    t->second.erase(id);
    if (t->second.empty()) by_target_.erase(t);
  }
  if (h.state == HoldState::held) count_held(h, -1);
  in_flight_.erase(id);
  summarised_.erase(id);
  store_.remove_hold(id);
  holds_.erase(it);
}

Hold* HoldBook::find(std::int64_t id) {
  auto it = holds_.find(id);
  return it == holds_.end() ? nullptr : &it->second;
}

const std::set<std::int64_t>* HoldBook::of_target(const std::string& target) const {
  auto it = by_target_.find(target);
  return it == by_target_.end() ? nullptr : &it->second;
}

std::vector<std::string> HoldBook::targets() const {
  std::vector<std::string> out;
  out.reserve(by_target_.size());
  for (const auto& [target, ids] : by_target_) out.push_back(target);
  return out;
}

std::size_t HoldBook::held_by(const std::string& sender) const {
  auto it = per_sender_.find(sender);
  return it == per_sender_.end() ? 0 : it->second;
}

bool HoldBook::pair_held(const std::string& sender, const std::string& target) const {
  return per_pair_.count({sender, target}) != 0;
}

bool HoldBook::has_waiting(const std::string& target) const {
  const auto* ids = of_target(target);
  if (!ids) return false;
  for (std::int64_t id : *ids) {
    if (holds_.at(id).state == HoldState::held && !in_flight_.count(id)) return true;
  }
  return false;
}

void HoldBook::confirm(Hold& h, Instant now) {
  h.state = HoldState::sent;
  h.sent_at = now;
  store_.put_hold(h);
  count_held(h, -1);
}

void HoldBook::hold_again(Hold& h) {
  in_flight_.erase(h.id);
  if (h.state == HoldState::sent) count_held(h, +1);
  h.state = HoldState::held;
}

void HoldBook::count_held(const Hold& h, int delta) {
  changed_();
  auto& sender = per_sender_[h.sender];
  sender = static_cast<std::size_t>(static_cast<long long>(sender) + delta);
  if (sender == 0) per_sender_.erase(h.sender);
  const auto pair = std::pair{h.sender, h.target};
  auto& held = per_pair_[pair];
  held += delta;
  if (held <= 0) {
    per_pair_.erase(pair);
    // The hold episode ends when none of this sender's messages to this target is held.
    episode_ended_(h.sender, h.target);
  }
}

}  // namespace concierge::core
