// SPDX-License-Identifier: MIT
#include <component/app/backoff.hpp>

#include <algorithm>

namespace concierge::app {

Backoff::Duration Backoff::next(double uniform01) {
  const int shift = std::min(attempts_, 16);
  ++attempts_;
  const double base = std::min<double>(static_cast<double>(cap_.count()),
                                       static_cast<double>(first_.count()) * (1 << shift));
  const double jittered = base * (0.75 + 0.5 * std::clamp(uniform01, 0.0, 1.0));
  return Duration(static_cast<Duration::rep>(
      std::clamp(jittered, static_cast<double>(first_.count()) * 0.75,
                 static_cast<double>(cap_.count()))));
}

}  // namespace concierge::app
