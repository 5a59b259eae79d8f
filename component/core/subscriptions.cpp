// SPDX-License-Identifier: MIT
#include <component/core/subscriptions.hpp>

#include <utility>

namespace concierge::core {

Subscriptions::Subscriptions(Store& store) : store_(store), proxies_(store) {
  // Row by row from the store (a million users: no vector of them beside the map).
  store_.each_subscription([this](SubscriptionState&& s) {
    std::string jid = s.jid;
    users_.emplace(std::move(jid), std::move(s));
  });
}

SubscriptionState& Subscriptions::entry(const std::string& bare) {
  auto [it, inserted] = users_.try_emplace(bare);
  if (inserted) it->second.jid = bare;
  return it->second;
}

SubscriptionState Subscriptions::of(const std::string& bare) const {
  auto it = users_.find(bare);
  return it != users_.end() ? it->second : SubscriptionState{.jid = bare};
}

bool Subscriptions::believe_presence(const std::string& bare, bool from_resource, bool available) {
  // Without a right to it, what arrives says nothing about the user: Prosody acknowledges our
  // subscription request with an `unavailable` from the bare JID whether or not they are online.
  const auto it = users_.find(bare);
  const bool granted = it != users_.end() && it->second.to;
  const bool privileged = presence_privilege_ && from_resource;
  const bool denial_echo = !available && declined_.count(bare) != 0;
  if ((!granted && !privileged) || denial_echo) return false;
  if (available) declined_.erase(bare);
  return true;
}

bool Subscriptions::approve(const std::string& bare) {
  SubscriptionState& s = entry(bare);
  const bool ask_back = !s.asked && !s.to;
  if (!s.from || ask_back) {
    s.from = true;
    s.asked = s.asked || ask_back;
    store_.put_subscription(s);
  }
  return ask_back;
}

void Subscriptions::granted(const std::string& bare) {
  declined_.erase(bare);
  SubscriptionState& s = entry(bare);
  if (!s.to || !s.asked) {
    s.to = true;
    s.asked = true;
    store_.put_subscription(s);
  }
}

void Subscriptions::unsubscribed(const std::string& bare) {
  SubscriptionState& s = entry(bare);
  if (s.from) {
    s.from = false;
    store_.put_subscription(s);
  }
}

bool Subscriptions::denied(const std::string& bare, bool enrolled) {
  SubscriptionState& s = entry(bare);
  if (s.to || !s.asked) {
    s.to = false;
    s.asked = true;
    store_.put_subscription(s);
  }
  // XEP-0356 still gives us their presence; only the `unavailable`s the server sends after the
  // denial are not to be believed.
  if (presence_privilege_ && enrolled) declined_.insert(bare);
  return !presence_privilege_;
}

bool Subscriptions::ask(const std::string& bare) {
  SubscriptionState& s = entry(bare);
  if (s.to) return false;
  s.asked = true;
  store_.put_subscription(s);
  return true;
}

std::vector<std::string> Subscriptions::approved() const {
  std::vector<std::string> users;
  for (const auto& [bare, s] : users_) {
    if (s.from) users.push_back(bare);
  }
  return users;
}

bool Subscriptions::set_presence_privilege(bool granted) {
  if (granted == presence_privilege_) return false;
  presence_privilege_ = granted;
  return true;
}

std::set<std::string> Subscriptions::forget(const std::string& bare) {
  users_.erase(bare);
  return proxies_.forget(bare);
}

Subscriptions::Greeting Subscriptions::greeting(const std::string& bare) {
  const auto it = users_.find(bare);
  Greeting g;
  if (it != users_.end()) {
    g.presence = it->second.from;
    g.probe = it->second.to;
    if (g.probe || it->second.asked) return g;
  }
  g.ask = ask(bare);
  return g;
}

void Subscriptions::start_pacing(std::vector<std::string> users) {
  paced_users_ = std::move(users);
  paced_next_ = 0;
}

std::vector<std::string> Subscriptions::next_paced(std::size_t count) {
  std::vector<std::string> next;
  for (; count > 0 && paced_next_ < paced_users_.size(); --count) {
    next.push_back(std::move(paced_users_[paced_next_++]));
  }
  if (!pacing()) stop_pacing();
  return next;
}

void Subscriptions::stop_pacing() {
  paced_users_ = {};  // frees the list
  paced_next_ = 0;
}

}  // namespace concierge::core
