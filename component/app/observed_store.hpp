// SPDX-License-Identifier: MIT
#pragma once

#include <component/app/metrics.hpp>
#include <component/core/store_port.hpp>

namespace concierge::app {

// The core's store as the core sees it, with every hold it writes or removes also shown to
// HoldMetrics: the metrics count what the core did without a counter inside the core. Owns
// nothing; `inner` and `metrics` must outlive it.
class ObservedStore final : public core::Store {
 public:
  ObservedStore(core::Store& inner, HoldMetrics& metrics) : inner_(inner), metrics_(metrics) {}

  bool each_enrolment(const std::function<void(core::Enrolment&&)>& row) override {
    return inner_.each_enrolment(row);
  }
  bool each_subscription(const std::function<void(core::SubscriptionState&&)>& row) override {
    return inner_.each_subscription(row);
  }
  bool each_setting(const std::function<void(core::UserSetting&&)>& row) override {
    return inner_.each_setting(row);
  }
  std::optional<core::Enrolment> enrolment(const std::string& jid) override {
    return inner_.enrolment(jid);
  }
  void put_enrolment(const core::Enrolment& e) override { inner_.put_enrolment(e); }
  void remove_enrolment(const std::string& jid) override { inner_.remove_enrolment(jid); }
  void put_subscription(const core::SubscriptionState& s) override { inner_.put_subscription(s); }
  void remove_subscription(const std::string& jid) override { inner_.remove_subscription(jid); }
  std::vector<core::ProxySubscription> proxy_subscriptions() override {
    return inner_.proxy_subscriptions();
  }
  void add_proxy_subscription(const core::ProxySubscription& s) override {
    inner_.add_proxy_subscription(s);
  }
  void remove_proxy_subscription(const core::ProxySubscription& s) override {
    inner_.remove_proxy_subscription(s);
  }
  void put_setting(const core::UserSetting& s) override { inner_.put_setting(s); }
  void remove_setting(const std::string& jid, const std::string& key) override {
    inner_.remove_setting(jid, key);
  }
  std::vector<core::Hold> holds() override {
    auto holds = inner_.holds();
    metrics_.holds_loaded(holds);
    return holds;
  }
  void put_hold(const core::Hold& hold) override {
    inner_.put_hold(hold);
    metrics_.hold_written(hold);
  }
  void remove_hold(std::int64_t id) override {
    inner_.remove_hold(id);
    metrics_.hold_removed(id);
  }
  std::vector<core::Remembered> remembered() override { return inner_.remembered(); }
  void remember(const core::Remembered& row) override { inner_.remember(row); }
  void forget(core::Remembered::Kind kind, const std::string& a, const std::string& b) override {
    inner_.forget(kind, a, b);
  }
  bool backup_to(const std::string& path, std::string* error) override {
    return inner_.backup_to(path, error);
  }
  bool commit() override { return inner_.commit(); }
  std::string commit_error() const override { return inner_.commit_error(); }
  void set_lease_epoch(std::int64_t epoch) override { inner_.set_lease_epoch(epoch); }
  bool fenced() const override { return inner_.fenced(); }

 private:
  core::Store& inner_;
  HoldMetrics& metrics_;
};

}  // namespace concierge::app
