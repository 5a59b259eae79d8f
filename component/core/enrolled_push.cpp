// SPDX-License-Identifier: MIT
#include <component/core/enrolled_push.hpp>

#include <algorithm>

#include <xmpp/divert.hpp>

namespace concierge::core {

void EnrolledPush::reconfigure(std::string component_domain, std::set<std::string> served_domains) {
  component_ = std::move(component_domain);
  served_ = std::move(served_domains);
}

std::map<std::string, std::set<std::string>> EnrolledPush::by_domain(
    const std::vector<std::string>& enrolled) const {
  std::map<std::string, std::set<std::string>> sets;
  for (const auto& domain : served_) sets[domain];  // an empty set is pushed too
  for (const auto& jid : enrolled) {
    const auto at = jid.find('@');
    if (at == std::string::npos) continue;
    auto it = sets.find(jid.substr(at + 1));
    if (it != sets.end()) it->second.insert(jid);  // users of other domains: no extension
  }
  return sets;
}

std::uint64_t EnrolledPush::next_generation(Instant now) {
  const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, now.time_since_epoch().count()));
  generation_ = std::max(generation_ + 1, ms);
  return generation_;
}

void EnrolledPush::send(const std::string& domain, const std::set<std::string>& users,
                        Outbox& out) {
  const std::vector<std::string> list(users.begin(), users.end());
  const xmpp::divert::Envelope envelope{component_, domain, "en"};
  for (const auto& chunk : xmpp::divert::split_enrolled(envelope, generation_, list)) {
    out.send(xmpp::divert::encode(chunk));
  }
  pushed_[domain] = users;
}

void EnrolledPush::push(const std::vector<std::string>& enrolled, Instant now, Outbox& out) {
  next_generation(now);
  for (const auto& [domain, users] : by_domain(enrolled)) send(domain, users, out);
}

void EnrolledPush::push_changed(const std::vector<std::string>& enrolled, Instant now,
                                Outbox& out) {
  bool generated = false;
  for (const auto& [domain, users] : by_domain(enrolled)) {
    auto it = pushed_.find(domain);
    if (it != pushed_.end() && it->second == users) continue;
    if (!generated) next_generation(now);
    generated = true;
    send(domain, users, out);
  }
}

}  // namespace concierge::core
