// SPDX-License-Identifier: MIT
#pragma once
// SenderRules: what each enrolled user decided about the people who write to them — how much
// of their schedule senders may learn (privacy, DESIGN §7) and whom they refuse (blocklist,
// DESIGN §4). Owns those two tables and writes their changes to the store; it knows nothing of
// stanzas, holds, schedules or enrolment (Directory drops a user's rules when they leave).

#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>

namespace concierge::core {

class SenderRules {
 public:
  // `settings` (for privacy.default) and `store` must outlive the rules.
  SenderRules(const Settings& settings, Store& store) : settings_(settings), store_(store) {}

  // A stored setting of these rules ("privacy", "block:<jid>"): taken in, true; else false.
  bool load(const UserSetting& setting);

  // `user`'s own choice, else privacy.default.
  Settings::Privacy chosen_privacy(const std::string& user) const;
  // What `sender` may learn of `target`'s schedule: the target's choice for senders of their
  // own domain, at most "wait" for others.
  Settings::Privacy privacy_for(const std::string& target, const std::string& sender) const;
  // `value` is "exact", "wait" or "none" (as `level`): kept and stored.
  void set_privacy(const std::string& user, Settings::Privacy level, const std::string& value);

  bool blocks(const std::string& target, const std::string& sender) const {
    return !blocked_.empty() && blocked_.count({target, sender}) != 0;
  }
  // Blocks or unblocks `sender` for `target`; `store`: written to the store too.
  void set_blocked(const std::string& target, const std::string& sender, bool blocked,
                   bool store = true);
  // Whom `target` blocks, in JID order.
  std::vector<std::string> blocked_by(const std::string& target) const;

  // `user` left: their rules are forgotten (the store drops them with the enrolment).
  void forget(const std::string& user);

 private:
  const Settings& settings_;
  Store& store_;
  std::unordered_map<std::string, Settings::Privacy> privacy_;  // users' own choice
  std::set<std::pair<std::string, std::string>> blocked_;       // (target, sender)
};

}  // namespace concierge::core
