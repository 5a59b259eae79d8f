// SPDX-License-Identifier: MIT
#include <component/core/rate_limiter.hpp>

#include <algorithm>

namespace concierge::core {

double RateLimiter::refill(Bucket& bucket, Instant now) const {
  const double elapsed_ms =
      static_cast<double>(std::max<Duration::rep>(0, (now - bucket.updated).count()));
  bucket.tokens = std::min<double>(per_minute_, bucket.tokens + elapsed_ms * per_minute_ / 60000.0);
  bucket.updated = std::max(bucket.updated, now);  // a clock stepping back mints nothing
  return bucket.tokens;
}

bool RateLimiter::allow(const std::string& key, Instant now) {
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(per_minute_), now});
  if (!inserted) refill(it->second, now);
  if (it->second.tokens < 1.0) return false;
  it->second.tokens -= 1.0;
  return true;
}

void RateLimiter::prune(Instant now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = refill(it->second, now) >= per_minute_ ? buckets_.erase(it) : std::next(it);
  }
}

}  // namespace concierge::core
