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

namespace concierge::app {

std::chrono::seconds refetch_delay(const RefetchInput& in, double uniform01) {
  using std::chrono::seconds;
  const double u = std::clamp(uniform01, 0.0, 1.0);
  const seconds day = std::chrono::hours(24);
  // The admin's refresh as given (tests use seconds); backing off starts at a minute, though.
  const seconds refresh = std::max(seconds(1), in.refresh);
  double delay = 0;
  switch (in.outcome) {
    case RefetchInput::Outcome::fresh:
    case RefetchInput::Outcome::not_modified:
      delay = static_cast<double>((in.hint ? *in.hint : refresh).count()) * (0.9 + 0.2 * u);
      break;
    case RefetchInput::Outcome::failed_for_now:
      if (in.retry_after) {
        delay = static_cast<double>(std::max(seconds(30), *in.retry_after).count());
      } else {
        const int shift = std::clamp(in.failures - 1, 0, 20);
        const double base =
            std::min(std::max(60.0, static_cast<double>(refresh.count())), 60.0 * (1 << shift));
        delay = base * (0.75 + 0.5 * u);
      }
      break;
    case RefetchInput::Outcome::failed:
      delay = static_cast<double>(refresh.count());
      break;
  }
  return seconds(static_cast<seconds::rep>(std::clamp(delay, 1.0, static_cast<double>(day.count()))));
}

}  // namespace concierge::app
