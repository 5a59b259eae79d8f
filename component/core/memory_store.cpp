// SPDX-License-Identifier: MIT
#include <algorithm>

#include <component/core/store_port.hpp>

namespace concierge::core {

bool MemoryStore::each_enrolment(const std::function<void(Enrolment&&)>& row) {
  for (Enrolment e : enrolments_) row(std::move(e));
  return true;
}

bool MemoryStore::each_subscription(const std::function<void(SubscriptionState&&)>& row) {
  for (SubscriptionState s : subscriptions_) row(std::move(s));
  return true;
}

bool MemoryStore::each_setting(const std::function<void(UserSetting&&)>& row) {
  for (UserSetting s : settings_) row(std::move(s));
  return true;
}

std::optional<Enrolment> MemoryStore::enrolment(const std::string& jid) {
  for (const auto& e : enrolments_) {
    if (e.jid == jid) return e;
  }
  return std::nullopt;
}

void MemoryStore::put_enrolment(const Enrolment& enrolment) {
  for (auto& e : enrolments_) {
    if (e.jid == enrolment.jid) {
      e = enrolment;
      return;
    }
  }
  enrolments_.push_back(enrolment);
}

void MemoryStore::put_setting(const UserSetting& setting) {
  remove_setting(setting.jid, setting.key);
  settings_.push_back(setting);
}

void MemoryStore::remove_setting(const std::string& jid, const std::string& key) {
  std::erase_if(settings_, [&](const UserSetting& s) { return s.jid == jid && s.key == key; });
}

void MemoryStore::remove_enrolment(const std::string& jid) {
  std::erase_if(enrolments_, [&](const Enrolment& e) { return e.jid == jid; });
  std::erase_if(settings_, [&](const UserSetting& s) { return s.jid == jid; });
  remove_subscription(jid);
  std::erase_if(proxy_subscriptions_, [&](const ProxySubscription& s) { return s.target == jid; });
}

void MemoryStore::put_subscription(const SubscriptionState& state) {
  for (auto& s : subscriptions_) {
    if (s.jid == state.jid) {
      s = state;
      return;
    }
  }
  subscriptions_.push_back(state);
}

void MemoryStore::remove_subscription(const std::string& jid) {
  std::erase_if(subscriptions_, [&](const SubscriptionState& s) { return s.jid == jid; });
}

std::vector<ProxySubscription> MemoryStore::proxy_subscriptions() { return proxy_subscriptions_; }

void MemoryStore::add_proxy_subscription(const ProxySubscription& s) {
  for (const auto& p : proxy_subscriptions_) {
    if (p.target == s.target && p.subscriber == s.subscriber) return;
  }
  proxy_subscriptions_.push_back(s);
}

void MemoryStore::remove_proxy_subscription(const ProxySubscription& s) {
  std::erase_if(proxy_subscriptions_, [&](const ProxySubscription& p) {
    return p.target == s.target && p.subscriber == s.subscriber;
  });
}

std::vector<Hold> MemoryStore::holds() {
  std::vector<Hold> out;
  out.reserve(holds_.size());
  for (const auto& [id, h] : holds_) out.push_back(h);
  return out;
}

void MemoryStore::put_hold(const Hold& hold) { holds_[hold.id] = hold; }

void MemoryStore::remove_hold(std::int64_t id) { holds_.erase(id); }

std::vector<Remembered> MemoryStore::remembered() {
  std::vector<Remembered> out;
  out.reserve(remembered_.size());
  for (const auto& [key, row] : remembered_) out.push_back(row);
  return out;
}

void MemoryStore::remember(const Remembered& row) { remembered_[{row.kind, row.a, row.b}] = row; }

void MemoryStore::forget(Remembered::Kind kind, const std::string& a, const std::string& b) {
  remembered_.erase({kind, a, b});
}

}  // namespace concierge::core
