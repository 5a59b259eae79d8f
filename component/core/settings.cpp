// SPDX-License-Identifier: MIT
#include <component/core/settings.hpp>

#include <algorithm>
#include <cctype>

namespace concierge::core {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

Settings Settings::from_config(const config::Config& config, std::string version) {
  Settings s;
  s.component_domain = lower(config.component.jid);
  for (const auto& d : config.served.domains) s.served_domains.insert(lower(d));
  for (const auto& u : config.users) s.enrolled.insert(lower(u.jid));
  for (const auto& a : config.admin.jids) s.admins.insert(lower(a));
  s.idle_after = config.session.idle_after;
  s.max_concurrent = config.session.max_concurrent;
  s.allow_private_urls = config.schedule.allow_private_urls;
  s.messages_per_sender_per_minute = config.limits.messages_per_sender_per_minute;
  s.max_body_bytes = static_cast<std::size_t>(config.limits.max_body_bytes);
  s.max_stanza_bytes = std::max<std::size_t>(262144, 2 * s.max_body_bytes + 65536);
  s.version = std::move(version);
  return s;
}

}  // namespace concierge::core
