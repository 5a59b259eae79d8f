// SPDX-License-Identifier: MIT
#pragma once
// RateLimiter: owns one token bucket per sender; knows nothing of stanzas or users.

#include <string>
#include <unordered_map>

#include <component/core/time.hpp>

namespace concierge::core {

// A token bucket per key (a sender's bare JID): `per_minute` tokens, refilled continuously.
// Memory is bounded by `prune`, which forgets keys whose bucket is full again.
class RateLimiter {
 public:
  explicit RateLimiter(int per_minute) : per_minute_(per_minute) {}
  void set_rate(int per_minute) { per_minute_ = per_minute; }

  // Takes one token for `key` at `now`; false when the bucket is empty.
  bool allow(const std::string& key, Instant now);
  void prune(Instant now);
  std::size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Instant updated;
  };
  double refill(Bucket& bucket, Instant now) const;

  int per_minute_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace concierge::core
