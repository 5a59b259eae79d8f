// SPDX-License-Identifier: MIT
// Config -> the effective configuration as TOML (`--check-config`). Secrets never appear: the
// component secret is masked and schedule URLs, which may carry tokens, lose all but their host.
#include <config/config.hpp>
#include <config/endpoint.hpp>

#include <config/text.hpp>

#include <algorithm>
#include <sstream>

namespace concierge::config {
namespace {

using text::quote;

constexpr std::string_view kMaskedSecret = "********";

// "https://user:token@cal.example.org:8443/a/b.ics?key=x" -> "https://cal.example.org:8443/…";
// a file path stays as it is.
std::string masked_calendar(std::string_view calendar) {
  const std::size_t scheme_end = calendar.find("://");
  if (scheme_end == std::string_view::npos) return std::string(calendar);
  const std::string_view scheme = calendar.substr(0, scheme_end);
  std::string_view authority = calendar.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);  // user:password@
  }
  return std::string(scheme) + "://" + std::string(authority) + "/…";
}

// "postgresql://user:pw@host/db?password=pw&sslmode=require" ->
// "postgresql://user:********@host/db?password=********&sslmode=require".
std::string masked_store_url(std::string_view url) {
  std::string out(url);
  const std::size_t scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    const std::size_t start = scheme_end + 3;
    const std::size_t end = std::min(out.find_first_of("/?", start), out.size());
    const std::size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, kMaskedSecret);
      }
    }
  }
  if (const std::size_t query = out.find('?'); query != std::string::npos) {
    std::size_t key = query + 1;
    while (key < out.size()) {
      std::size_t end = out.find('&', key);
      if (end == std::string::npos) end = out.size();
      if (out.compare(key, 9, "password=") == 0 && end > key + 9) {
        out.replace(key + 9, end - key - 9, kMaskedSecret);
        end = key + 9 + kMaskedSecret.size();
      }
      key = end + 1;
    }
  }
  return out;
}

std::string string_array(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += quote(values[i]);
  }
  return out + "]";
}

std::string duration(std::chrono::seconds value) {
  return quote(format_duration(value));
}

std::string boolean(bool value) {
  return value ? "true" : "false";
}

}  // namespace

std::string to_toml(const Config& c) {
  std::ostringstream out;
  out << "# Effective configuration" << (c.file.empty() ? "" : " read from " + quote(c.file))
      << " (secrets masked)\n";
  out << "\n[component]\n"
      << "jid = " << quote(c.component.jid) << "\n";
  if (c.component.secret_file.empty()) {
    out << "secret = " << quote(kMaskedSecret) << "\n";
  } else {
    out << "secret_file = " << quote(c.component.secret_file) << "  # content not shown\n";
  }
  if (c.component.hosts.empty()) {
    out << "host = " << quote(c.component.host) << "\n"
        << "port = " << c.component.port << "\n";
  } else {
    std::vector<std::string> hosts;
    for (const auto& e : c.component.hosts) hosts.push_back(to_string(e));
    out << "hosts = " << string_array(hosts) << "\n";
  }

  out << "\n[served]\ndomains = " << string_array(c.served.domains) << "\n"
      << "mode = " << quote(to_string(c.served.mode)) << "\n"
      << "remote = " << (c.served.remote ? "true" : "false") << "\n";
  if (c.store.url.empty()) {
    out << "\n[store]\npath = " << quote(c.store.path) << "\n";
  } else {
    out << "\n[store]\nurl = " << quote(masked_store_url(c.store.url)) << "\n";
    if (!c.store.password_file.empty()) {
      out << "password_file = " << quote(c.store.password_file) << "  # content not shown\n";
    }
  }
  out << "\n[session]\n"
      << "idle_after = " << duration(c.session.idle_after) << "\n"
      << "max_concurrent = " << c.session.max_concurrent << "\n";
  out << "\n[notice]\n"
      << "before_end = " << duration(c.notice.before_end) << "\n"
      << "language = " << quote(c.notice.language) << "\n";
  out << "\n[release]\n"
      << "rate = " << c.release.rate << "\n"
      << "confirm_window = " << duration(c.release.confirm_window) << "\n";
  out << "\n[presence]\nprobe_rate = " << c.presence.probe_rate << "\n";
  out << "\n[limits]\n"
      << "max_hold_age = " << duration(c.limits.max_hold_age) << "\n"
      << "holds_per_target = " << c.limits.holds_per_target << "\n"
      << "holds_per_sender = " << c.limits.holds_per_sender << "\n"
      << "messages_per_sender_per_minute = " << c.limits.messages_per_sender_per_minute << "\n"
      << "max_body_bytes = " << c.limits.max_body_bytes << "\n";
  out << "\n[schedule]\n"
      << "unknown = " << quote(to_string(c.schedule.unknown)) << "\n"
      << "window = " << duration(c.schedule.window) << "\n"
      << "refresh = " << duration(c.schedule.refresh) << "\n"
      << "max_bytes = " << c.schedule.max_bytes << "\n"
      << "allow_private_urls = " << boolean(c.schedule.allow_private_urls) << "\n";
  out << "\n[privacy]\ndefault = " << quote(to_string(c.privacy.default_level)) << "\n";
  out << "\n[urgent]\n"
      << "prefix = " << quote(c.urgent.prefix) << "\n"
      << "max_per_hour = " << c.urgent.max_per_hour << "\n";

  // A user key the admin did not set is shown commented out with its default: written out, it
  // would become admin-set and lock the user's own choice (DESIGN §12). The required timezone
  // is always written.
  for (const User& user : c.users) {
    out << "\n[" << text::key_path("users", user.jid) << "]\n";
    const auto key = [&](std::string_view name, const std::string& value) {
      const bool set = name == "timezone" || user.origins.count(std::string(name)) > 0;
      out << (set ? "" : "# ") << name << " = " << value
          << (set ? "\n" : "  # not set by the admin: the default\n");
    };
    key("timezone", quote(user.timezone));
    key("calendar", quote(masked_calendar(user.calendar)));
    key("calendar_kind", quote(to_string(user.calendar_kind)));
    key("hours", quote(user.hours));
    key("always_through", string_array(user.always_through));
    key("urgent_from", quote(to_string(user.urgent_from)));
  }
  for (const Pool& pool : c.pools) {
    out << "\n[" << text::key_path("pools", pool.name) << "]\n"
        << "members = " << string_array(pool.members) << "\n";
  }

  out << "\n[admin]\njids = " << string_array(c.admin.jids) << "\n";
  out << "\n[log]\nlevel = " << quote(to_string(c.log.level)) << "\n";
  out << "\n[metrics]\nlisten = " << quote(c.metrics.listen) << "\n";
  return out.str();
}

}  // namespace concierge::config
