// SPDX-License-Identifier: MIT
#include <component/core/sender_rules.hpp>

#include <algorithm>

#include <xmpp/jid.hpp>

namespace concierge::core {

bool SenderRules::load(const UserSetting& setting) {
  if (setting.key == "privacy") {
    privacy_[setting.jid] = setting.value == "exact"  ? Settings::Privacy::exact
                            : setting.value == "none" ? Settings::Privacy::none
                                                      : Settings::Privacy::wait;
    return true;
  }
  if (setting.key.starts_with("block:")) {
    blocked_.insert({setting.jid, setting.key.substr(6)});
    return true;
  }
  return false;
}

Settings::Privacy SenderRules::chosen_privacy(const std::string& user) const {
  auto chosen = privacy_.find(user);
  return chosen != privacy_.end() ? chosen->second : settings_.privacy_default;
}

Settings::Privacy SenderRules::privacy_for(const std::string& target,
                                           const std::string& sender) const {
  // DESIGN §7: the target's choice (else privacy.default) for senders of the target's own
  // domain; at most "wait" for senders of other served domains.
  const Settings::Privacy own = chosen_privacy(target);
  auto sj = xmpp::Jid::parse(sender);
  auto tj = xmpp::Jid::parse(target);
  if (sj && tj && sj->domain() == tj->domain()) return own;
  return own == Settings::Privacy::none ? Settings::Privacy::none : Settings::Privacy::wait;
}

void SenderRules::set_privacy(const std::string& user, Settings::Privacy level,
                              const std::string& value) {
  privacy_[user] = level;
  store_.put_setting({user, "privacy", value});
}

void SenderRules::set_blocked(const std::string& target, const std::string& sender, bool blocked,
                              bool store) {
  if (blocked) {
    blocked_.insert({target, sender});
    if (store) store_.put_setting({target, "block:" + sender, "1"});
  } else {
    blocked_.erase({target, sender});
    if (store) store_.remove_setting(target, "block:" + sender);
  }
}

std::vector<std::string> SenderRules::blocked_by(const std::string& target) const {
  std::vector<std::string> senders;
  for (auto it = blocked_.lower_bound({target, std::string()});
       it != blocked_.end() && it->first == target; ++it) {
    senders.push_back(it->second);
  }
  return senders;
}

void SenderRules::forget(const std::string& user) {
  privacy_.erase(user);
  std::erase_if(blocked_, [&](const auto& entry) { return entry.first == user; });
}

}  // namespace concierge::core
