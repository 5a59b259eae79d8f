// SPDX-License-Identifier: MIT
#include <component/core/proxy_subscribers.hpp>

#include <utility>

namespace concierge::core {

ProxySubscribers::ProxySubscribers(Store& store) : store_(store) {
  for (auto& p : store_.proxy_subscriptions()) subscribers_[p.target].insert(p.subscriber);
}

bool ProxySubscribers::add_subscriber(const std::string& target, const std::string& subscriber) {
  if (!subscribers_[target].insert(subscriber).second) return false;
  store_.add_proxy_subscription({target, subscriber});
  return true;
}

void ProxySubscribers::remove_subscriber(const std::string& target, const std::string& subscriber) {
  auto it = subscribers_.find(target);
  if (it == subscribers_.end() || !it->second.erase(subscriber)) return;
  store_.remove_proxy_subscription({target, subscriber});
  if (it->second.empty()) subscribers_.erase(it);
}

bool ProxySubscribers::subscribed(const std::string& target, const std::string& subscriber) const {
  auto it = subscribers_.find(target);
  return it != subscribers_.end() && it->second.count(subscriber) != 0;
}

const std::set<std::string>& ProxySubscribers::subscribers(const std::string& target) const {
  static const std::set<std::string> kNone;
  auto it = subscribers_.find(target);
  return it != subscribers_.end() ? it->second : kNone;
}

std::vector<std::string> ProxySubscribers::drop_subscribers(
    const std::string& target, const std::function<bool(const std::string&)>& keep) {
  std::vector<std::string> dropped;
  auto subs = subscribers_.find(target);
  if (subs == subscribers_.end()) return dropped;
  for (auto it = subs->second.begin(); it != subs->second.end();) {
    if (keep(*it)) {
      ++it;
      continue;
    }
    store_.remove_proxy_subscription({target, *it});
    dropped.push_back(*it);
    it = subs->second.erase(it);
  }
  if (subs->second.empty()) subscribers_.erase(subs);
  return dropped;
}

bool ProxySubscribers::publish(const std::string& target, ProxyStatus status) {
  auto [it, inserted] = published_.try_emplace(target, status);
  if (!inserted && it->second == status) return false;
  it->second = status;
  return true;
}

ProxyStatus ProxySubscribers::published(const std::string& target) const {
  auto it = published_.find(target);
  return it != published_.end() ? it->second : ProxyStatus::available;
}

std::set<std::string> ProxySubscribers::forget(const std::string& target) {
  std::set<std::string> subscribers;
  if (auto it = subscribers_.find(target); it != subscribers_.end()) {
    subscribers = std::move(it->second);
    subscribers_.erase(it);
  }
  published_.erase(target);
  return subscribers;
}

}  // namespace concierge::core
