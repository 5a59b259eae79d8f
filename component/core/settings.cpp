// SPDX-License-Identifier: MIT
#include <component/core/settings.hpp>
#include <component/core/text.hpp>

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace concierge::core {

Settings Settings::from_config(const config::Config& config, std::string version) {
  Settings s;
  s.component_domain = lower(config.component.jid);
  for (const auto& d : config.served.domains) s.served_domains.insert(lower(d));
  s.proxy_way = config.served.mode != config::ServedMode::transparent;
  s.transparent_way = config.served.mode != config::ServedMode::proxy;
  s.remote_senders = config.served.remote;
  for (const auto& a : config.admin.jids) s.admins.insert(lower(a));
  s.idle_after = config.session.idle_after;
  s.max_concurrent = config.session.max_concurrent;
  s.allow_private_urls = config.schedule.allow_private_urls;
  s.messages_per_sender_per_minute = config.limits.messages_per_sender_per_minute;
  s.max_body_bytes = static_cast<std::size_t>(config.limits.max_body_bytes);
  s.max_stanza_bytes = std::max<std::size_t>(262144, 2 * s.max_body_bytes + 65536);
  s.version = std::move(version);
  s.unknown_is_working = config.schedule.unknown == config::UnknownSchedule::working;
  s.notice_before_end = config.notice.before_end;
  s.confirm_window = config.release.confirm_window;
  s.max_hold_age = config.limits.max_hold_age;
  s.holds_per_target = static_cast<std::size_t>(config.limits.holds_per_target);
  s.holds_per_sender = static_cast<std::size_t>(config.limits.holds_per_sender);
  s.urgent_prefix = config.urgent.prefix;
  s.urgent_max_per_hour = config.urgent.max_per_hour;
  s.privacy_default = config.privacy.default_level == config::PrivacyLevel::exact ? Privacy::exact
                      : config.privacy.default_level == config::PrivacyLevel::wait ? Privacy::wait
                                                                                   : Privacy::none;
  for (const auto& pool : config.pools) {
    auto& members = s.pools[lower(pool.name)];
    for (const auto& m : pool.members) members.push_back(lower(m));
  }
  // [users] in JID order first, so that each insertion lands at the end of both trees: a
  // million in file order would each walk them, comparing long shared prefixes (a merge sort
  // of indices: std::sort falls back to a heap sort on "user1", "user2", … "user10"…).
  std::vector<std::string> jids;
  jids.reserve(config.users.size());
  for (const auto& u : config.users) jids.push_back(lower(u.jid));
  std::vector<std::size_t> order(jids.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return jids[a] < jids[b]; });
  for (const std::size_t i : order) {
    const config::User& u = config.users[i];
    User user;
    user.timezone = u.timezone;
    user.calendar = u.calendar;
    user.hours = u.hours;
    user.personal = u.calendar_kind == config::CalendarKind::personal;
    for (const auto& [key, origin] : u.origins) {
      user.admin_keys.emplace_hint(user.admin_keys.end(), key);
    }
    for (const auto& a : u.always_through) user.always_through.insert(lower(a));
    user.urgent_from_anyone = u.urgent_from == config::UrgentFrom::anyone;
    s.enrolled.emplace_hint(s.enrolled.end(), jids[i]);
    s.users.insert_or_assign(s.users.end(), std::move(jids[i]), std::move(user));  // the last wins
  }
  return s;
}

}  // namespace concierge::core
