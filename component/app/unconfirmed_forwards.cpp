// SPDX-License-Identifier: MIT
#include <component/app/unconfirmed_forwards.hpp>

namespace concierge::app {

std::size_t UnconfirmedForwards::keep(const xmpp::Element& stanza, core::Instant received) {
  const std::size_t size = stanza.to_xml().size();
  bytes_ += size;
  kept_.push_back({next_seq_++, {stanza, received}, size});
  std::size_t dropped = 0;
  while (kept_.size() > 1 && (kept_.size() > max_count_ || bytes_ > max_bytes_)) {
    bytes_ -= kept_.front().bytes;
    kept_.pop_front();
    ++dropped;
  }
  return dropped;
}

void UnconfirmedForwards::ping_sent(const std::string& id) {
  const std::uint64_t last = next_seq_ - 1;
  pings_[id] = last;
  pinged_ = last;
}

void UnconfirmedForwards::answered(const std::string& id) {
  auto it = pings_.find(id);
  if (it == pings_.end()) return;
  const std::uint64_t confirmed = it->second;
  pings_.erase(it);
  while (!kept_.empty() && kept_.front().seq <= confirmed) {
    bytes_ -= kept_.front().bytes;
    kept_.pop_front();
  }
  // Pings sent before this one are answered too (the stream is in order).
  std::erase_if(pings_, [&](const auto& p) { return p.second <= confirmed; });
}

std::deque<UnconfirmedForwards::Kept> UnconfirmedForwards::take_all() {
  std::deque<Kept> out;
  for (auto& e : kept_) out.push_back(std::move(e.kept));
  kept_.clear();
  bytes_ = 0;
  pings_.clear();
  pinged_ = next_seq_ - 1;  // nothing kept is left for a ping to cover
  return out;
}

}  // namespace concierge::app
