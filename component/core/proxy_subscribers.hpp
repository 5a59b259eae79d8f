// SPDX-License-Identifier: MIT
#pragma once
// ProxySubscribers: who subscribed to each user's proxy JID and the status each proxy last sent
// them (DESIGN §2 last paragraph, §7). Owns the subscribers of every proxy and their store rows
// (it reads them at start and writes them where they change), and the last status published
// (not stored: a new stream starts with nothing sent). It must not touch the subscription
// between a user and the component (Subscriptions), who may subscribe (the Directory decides),
// presence itself, sessions, schedules or holds, and knows no stanzas.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <component/core/store_port.hpp>

namespace concierge::core {

// What subscribers of a proxy JID see (DESIGN §2, proxy presence): derived status only,
// never the user's raw presence or idle time.
enum class ProxyStatus : std::uint8_t { available, in_conversation, off };

class ProxySubscribers {
 public:
  // `store` must outlive this; its proxy subscription rows are read here.
  explicit ProxySubscribers(Store& store);

  // `subscriber` subscribed to `target`'s proxy: true when new (stored).
  bool add_subscriber(const std::string& target, const std::string& subscriber);
  // `subscriber` unsubscribed from `target`'s proxy (stored).
  void remove_subscriber(const std::string& target, const std::string& subscriber);
  bool subscribed(const std::string& target, const std::string& subscriber) const;
  // `target`'s subscribers, sorted; empty when none.
  const std::set<std::string>& subscribers(const std::string& target) const;
  std::size_t subscriber_count(const std::string& target) const {
    return subscribers(target).size();
  }
  // Every target with subscribers → its subscribers.
  const std::map<std::string, std::set<std::string>>& all_subscribers() const {
    return subscribers_;
  }
  // Removes (stored) the subscribers of `target` for whom `keep` says false, and returns
  // them, sorted (a target narrowing who may subscribe).
  std::vector<std::string> drop_subscribers(const std::string& target,
                                            const std::function<bool(const std::string&)>& keep);

  // `status` is what `target`'s subscribers see now: true when it differs from what was last
  // sent to them (recorded as sent).
  bool publish(const std::string& target, ProxyStatus status);
  // What `target`'s subscribers were last sent (available when nothing yet).
  ProxyStatus published(const std::string& target) const;
  // The stream restarts: nothing has been sent yet.
  void forget_published() { published_.clear(); }

  // `target` is unenrolled: their subscribers and published status are forgotten here (the
  // store forgets its rows with the enrolment). Returns the subscribers, sorted, who are to be
  // told the proxy is gone.
  std::set<std::string> forget(const std::string& target);

 private:
  Store& store_;
  std::map<std::string, std::set<std::string>> subscribers_;  // target → subscribers
  std::unordered_map<std::string, ProxyStatus> published_;    // last status sent
};

}  // namespace concierge::core
