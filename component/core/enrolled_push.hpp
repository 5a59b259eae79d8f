// SPDX-License-Identifier: MIT
#pragma once
// EnrolledPush: which users the server extensions divert for (PROTOCOL.md "The enrolled
// set"). Owns the last set pushed to each served domain and the generation counter; must not
// touch enrolments themselves (the Directory's) — it only reads them and words the push.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <component/core/outbox.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

class EnrolledPush {
 public:
  void reconfigure(std::string component_domain, std::set<std::string> served_domains);
  // The whole set (`enrolled`: bare JIDs, any order) to every served domain, in chunks of at
  // most xmpp::divert::kMaxUsersPerChunk, one new generation for all (it grows with `now`, so
  // a restarted Concierge's pushes are newer than its predecessor's).
  void push(const std::vector<std::string>& enrolled, Instant now, Outbox& out);
  // The same, only to the domains whose users changed since the last push.
  void push_changed(const std::vector<std::string>& enrolled, Instant now, Outbox& out);
  // An iq id of a push chunk (its answer is no one else's business).
  static bool is_push_id(std::string_view id) { return id.starts_with("en-"); }

 private:
  std::map<std::string, std::set<std::string>> by_domain(
      const std::vector<std::string>& enrolled) const;
  void send(const std::string& domain, const std::set<std::string>& users, Outbox& out);
  std::uint64_t next_generation(Instant now);

  std::string component_;
  std::set<std::string> served_;
  std::map<std::string, std::set<std::string>> pushed_;  // served domain → users
  std::uint64_t generation_ = 0;
};

}  // namespace concierge::core
