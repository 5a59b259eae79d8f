// SPDX-License-Identifier: MIT
#pragma once
// Counts over the last hour, each owning only its own window: ReleaseCounts (releases per
// minute, for the admin's "released in the last hour") and UrgentLog (when each sender last
// sent urgent messages to each target, for urgent.max_per_hour, DESIGN §2). Neither touches
// holds, stanzas or settings; neither reads the clock.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

#include <component/core/time.hpp>

namespace concierge::core {

class ReleaseCounts {
 public:
  void count(Instant now) {
    const std::int64_t minute = to_utc_seconds(now) / 60;
    if (minutes_.empty() || minutes_.back().first != minute) minutes_.emplace_back(minute, 0);
    ++minutes_.back().second;
    while (minutes_.front().first <= minute - 60) minutes_.pop_front();
  }
  std::uint64_t last_hour(Instant now) const {
    const std::int64_t minute = to_utc_seconds(now) / 60;
    std::uint64_t n = 0;
    for (const auto& [m, releases] : minutes_) {
      if (m > minute - 60) n += releases;
    }
    return n;
  }

 private:
  std::deque<std::pair<std::int64_t, std::uint64_t>> minutes_;  // (minute, releases)
};

class UrgentLog {
 public:
  // Urgent messages `sender` sent `target` in the hour before `now`.
  std::int64_t sent_last_hour(const std::string& sender, const std::string& target,
                              Instant now) const {
    auto sent = sent_.find({sender, target});
    if (sent == sent_.end()) return 0;
    return std::count_if(sent->second.begin(), sent->second.end(),
                         [&](Instant t) { return now - t < std::chrono::hours(1); });
  }
  void record(const std::string& sender, const std::string& target, Instant now) {
    auto& sent = sent_[{sender, target}];
    while (!sent.empty() && now - sent.front() >= std::chrono::hours(1)) sent.pop_front();
    sent.push_back(now);
  }
  // Forgets pairs with nothing in the last hour.
  void forget_old(Instant now) {
    std::erase_if(sent_, [&](const auto& entry) {
      return entry.second.empty() || now - entry.second.back() >= std::chrono::hours(1);
    });
  }

 private:
  std::map<std::pair<std::string, std::string>, std::deque<Instant>> sent_;  // (sender, target)
};

}  // namespace concierge::core
