// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: the warnings one compile collects for the calendar's owner. Owns their order,
// drops repeats and caps how many reach the Schedule; it decides nothing about what is wrong.
#include <cstddef>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace concierge::ical {

class WarningList {
 public:
  static constexpr std::size_t kMaxShown = 20;

  void add(std::string text) {
    if (seen_.insert(text).second) texts_.push_back(std::move(text));
  }

  // The first kMaxShown warnings, then "… and N more problems" if there were more.
  std::vector<std::string> take() {
    if (texts_.size() > kMaxShown) {
      const std::size_t more = texts_.size() - kMaxShown;
      texts_.resize(kMaxShown);
      texts_.push_back("… and " + std::to_string(more) + " more problems");
    }
    seen_.clear();
    return std::move(texts_);
  }

 private:
  std::vector<std::string> texts_;
  std::set<std::string> seen_;
};

}  // namespace concierge::ical
