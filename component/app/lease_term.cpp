// SPDX-License-Identifier: MIT
#include <component/app/lease_term.hpp>

namespace concierge::app {

void LeaseTerm::granted(std::int64_t epoch, Clock::time_point sent, Clock::time_point answered) {
  const Clock::time_point until = sent + timings_.term - timings_.margin;
  if (epoch == epoch_ && answered >= valid_until_) {
    epoch_ = 0;  // the holder already counted this term as over
    return;
  }
  if (epoch != epoch_) {
    epoch_ = epoch;
    valid_until_ = until;
    return;
  }
  // Answers come in order, but never let a late answer shorten the term.
  if (until > valid_until_) valid_until_ = until;
}

}  // namespace concierge::app
