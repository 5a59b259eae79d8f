// SPDX-License-Identifier: MIT
// TOML text -> checked Config (DESIGN §12) through toml++: the whole file (parse_whole), or a
// large file's rest once its plain [users] tables are read (plain_users.hpp). The only
// translation unit that includes toml++: it is slow to compile, and keeping it here keeps its
// types out of every other file.
#include <config/config.hpp>
#include <config/endpoint.hpp>
#include <config/plain_users.hpp>  // parse_whole, parse_without_users

#include <config/table_reader.hpp>
#include <config/text.hpp>
#include <config/values.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <unordered_set>
#include <utility>

namespace concierge::config {
namespace {

using detail::calendar_problem;
using detail::domain_of;
using detail::file_error;
using detail::has_space_or_control;
using detail::is_bare_jid;
using detail::is_domain;
using detail::is_listen_address;
using detail::is_localpart;
using detail::Item;
using detail::line_of;
using detail::Problems;
using detail::read_secret_file;
using detail::TableReader;
using detail::type_name;
using text::quote;

// Checks an array of bare JIDs, keeping the good ones.
std::vector<std::string> bare_jids(Problems& problems, const std::string& path,
                                   const std::vector<Item>& items) {
  std::vector<std::string> jids;
  for (const Item& item : items) {
    if (is_bare_jid(item.value)) {
      jids.push_back(item.value);
    } else {
      problems.add(item.line, path, "not a bare JID (local@domain): " + quote(item.value));
    }
  }
  return jids;
}

// The entries of [users] or [pools] in file order (toml++ keeps tables sorted by key).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : t) entries.emplace_back(&key, &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return line_of(a.first->source()) < line_of(b.first->source());
  });
  return entries;
}

// component.hosts: a cluster's nodes, instead of host/port.
void read_hosts(Problems& problems, TableReader& t, Component& out) {
  if (t.present("host") || t.present("port")) {
    t.error("hosts", "set either component.host and component.port or component.hosts, not both");
  }
  std::vector<Item> items;
  if (!t.read("hosts", items)) return;
  if (items.empty()) t.error("hosts", "must list at least one \"host:port\"");
  for (const Item& item : items) {
    if (auto e = parse_endpoint(item.value)) {
      out.hosts.push_back(std::move(*e));
    } else {
      problems.add(
          item.line, t.path("hosts"),
          "not a \"host:port\" (port 1-65535, \"[v6]:port\" for IPv6): " + quote(item.value));
    }
  }
}

void read_component(Problems& problems, TableReader& root, Component& out) {
  TableReader t(problems, root.table("component"), "component");
  if (!t.present("jid")) {
    t.missing("jid");
  } else if (t.read_nonempty("jid", out.jid) && !is_domain(out.jid)) {
    t.error("jid", "not a domain (no '@' or '/'): " + quote(out.jid));
  }
  const bool has_secret = t.present("secret");
  const bool has_file = t.present("secret_file");
  t.read_nonempty("secret", out.secret);  // never quoted back in a message
  const bool file_ok = t.read_nonempty("secret_file", out.secret_file);
  if (has_secret && has_file) {
    t.error("secret_file", "set only one of component.secret and component.secret_file");
  } else if (!has_secret && !has_file) {
    t.missing("secret", "required: set component.secret or component.secret_file");
  } else if (has_file && file_ok) {
    std::string why;
    if (std::optional<std::string> secret = read_secret_file(out.secret_file, why); !secret) {
      t.error("secret_file", "cannot read " + quote(out.secret_file) + ": " + why);
    } else if (secret->empty()) {
      t.error("secret_file", quote(out.secret_file) + " is empty");
    } else {
      out.secret = std::move(*secret);
    }
  }
  if (t.read_nonempty("host", out.host) && has_space_or_control(out.host)) {
    t.error("host", "must not contain spaces: " + quote(out.host));
  }
  t.read("port", out.port, 1, 65535);
  if (t.present("hosts")) read_hosts(problems, t, out);
  t.finish();
}

void read_served(Problems& problems, TableReader& root, Served& out) {
  TableReader t(problems, root.table("served"), "served");
  std::vector<Item> domains;
  if (!t.present("domains")) {
    t.missing("domains");
  } else if (t.read("domains", domains)) {
    if (domains.empty()) t.error("domains", "must list at least one domain");
    for (const Item& domain : domains) {
      if (is_domain(domain.value)) {
        out.domains.push_back(domain.value);
      } else {
        problems.add(domain.line, t.path("domains"), "not a domain: " + quote(domain.value));
      }
    }
  }
  t.read("mode", out.mode,
         {{"proxy", ServedMode::proxy},
          {"transparent", ServedMode::transparent},
          {"both", ServedMode::both}});
  if (t.read("remote", out.remote) && out.remote && out.mode == ServedMode::proxy) {
    t.error("remote", "applies only with mode = \"transparent\" or \"both\"");
  }
  t.finish();
}

// [store]: `path` (SQLite, the default) or `url` (PostgreSQL) with an optional password_file.
void read_store(TableReader& t, Store& out) {
  const bool has_path = t.present("path");
  const bool has_url = t.present("url");
  t.read_nonempty("path", out.path);
  if (has_path && has_url) {
    t.error("url", "set only one of store.path (SQLite) and store.url (PostgreSQL)");
    return;
  }
  if (has_url && t.read_nonempty("url", out.url) &&
      !(out.url.starts_with("postgresql://") || out.url.starts_with("postgres://"))) {
    t.error("url", "must start with postgresql:// (libpq's URI syntax), got " +
                       quote(out.url.substr(0, out.url.find("://"))) + "…");
  }
  if (!t.present("password_file")) return;
  if (!has_url) {
    t.error("password_file", "only used with store.url (PostgreSQL)");
    return;
  }
  if (!t.read_nonempty("password_file", out.password_file)) return;
  std::string why;
  if (std::optional<std::string> password = read_secret_file(out.password_file, why); !password) {
    t.error("password_file", "cannot read " + quote(out.password_file) + ": " + why);
  } else if (password->empty()) {
    t.error("password_file", quote(out.password_file) + " is empty");
  } else {
    out.password = std::move(*password);
  }
}

void read_settings(Problems& problems, TableReader& root, Config& out) {
  const auto section = [&](std::string_view name, auto&& read) {
    TableReader t(problems, root.table(name), std::string(name));
    read(t);
    t.finish();
  };
  section("store", [&](TableReader& t) { read_store(t, out.store); });
  section("session", [&](TableReader& t) {
    t.read("idle_after", out.session.idle_after, true);
    t.read("max_concurrent", out.session.max_concurrent, 1);
  });
  section("notice", [&](TableReader& t) {
    t.read("before_end", out.notice.before_end, false);
    t.read_nonempty("language", out.notice.language);
  });
  section("release", [&](TableReader& t) {
    t.read("rate", out.release.rate, 1);
    t.read("confirm_window", out.release.confirm_window, false);
  });
  section("presence", [&](TableReader& t) { t.read("probe_rate", out.presence.probe_rate, 1); });
  section("limits", [&](TableReader& t) {
    t.read("max_hold_age", out.limits.max_hold_age, true);
    t.read("holds_per_target", out.limits.holds_per_target, 1);
    t.read("holds_per_sender", out.limits.holds_per_sender, 1);
    t.read("messages_per_sender_per_minute", out.limits.messages_per_sender_per_minute, 1);
    t.read("max_body_bytes", out.limits.max_body_bytes, 1);
  });
  section("schedule", [&](TableReader& t) {
    t.read("unknown", out.schedule.unknown,
           {{"working", UnknownSchedule::working}, {"off_hours", UnknownSchedule::off_hours}});
    t.read("window", out.schedule.window, true);
    t.read("refresh", out.schedule.refresh, true);
    t.read("max_bytes", out.schedule.max_bytes, 1);
    t.read("allow_private_urls", out.schedule.allow_private_urls);
  });
  section("privacy", [&](TableReader& t) {
    t.read("default", out.privacy.default_level,
           {{"exact", PrivacyLevel::exact},
            {"wait", PrivacyLevel::wait},
            {"none", PrivacyLevel::none}});
  });
  section("urgent", [&](TableReader& t) {
    t.read_nonempty("prefix", out.urgent.prefix);
    t.read("max_per_hour", out.urgent.max_per_hour, 1);
  });
}

User read_user(Problems& problems, const toml::table& table, std::string path,
               const Config& config) {
  User user;
  TableReader t(problems, &table, std::move(path));
  if (!t.present("timezone")) {
    t.missing("timezone");
  } else {
    t.read_nonempty("timezone", user.timezone);
  }
  if (t.read("calendar", user.calendar)) {
    if (auto problem = calendar_problem(user.calendar, config.schedule.allow_private_urls)) {
      t.error("calendar", *problem);
    }
  }
  t.read("calendar_kind", user.calendar_kind,
         {{"work", CalendarKind::work}, {"personal", CalendarKind::personal}});
  t.read("hours", user.hours);
  std::vector<Item> through;
  if (t.read("always_through", through)) {
    user.always_through = bare_jids(problems, t.path("always_through"), through);
  }
  t.read("urgent_from", user.urgent_from,
         {{"always_through", UrgentFrom::always_through}, {"anyone", UrgentFrom::anyone}});
  t.finish();
  for (const auto& [key, node] : table) {
    user.origins[std::string(key.str())] = Origin{problems.file(), line_of(key.source())};
  }
  return user;
}

bool domain_served(const Config& config, const std::string& bare_jid) {
  return detail::domain_served(config.served.domains, bare_jid);
}

void read_users(Problems& problems, TableReader& root, Config& config) {
  const toml::table* users = root.table("users");
  if (!users) return;
  // Lower-cased JIDs seen so far: a duplicate check per user in constant time (a search of
  // config.users made parsing quadratic: 22 s for 100 000 users).
  std::unordered_set<std::string> seen;
  seen.reserve(users->size());
  config.users.reserve(users->size());
  for (const auto& [key, node] : in_file_order(*users)) {
    const std::string path = text::key_path("users", key->str());
    const int line = line_of(key->source());
    const toml::table* table = node->as_table();
    if (!table) {
      problems.add(line, path, "expected a table, got " + type_name(*node));
      continue;
    }
    const std::string jid(key->str());
    if (!is_bare_jid(jid)) {
      problems.add(line, path, "not a bare JID (local@domain)");
    } else if (!domain_served(config, jid)) {
      problems.add(line, path, "domain " + quote(domain_of(jid)) + " is not in served.domains");
    } else if (!seen.insert(text::lower(jid)).second) {
      problems.add(line, path, "listed twice (JIDs compare case-insensitively)");
    }
    User user = read_user(problems, *table, path, config);
    user.jid = jid;
    config.users.push_back(std::move(user));
  }
}

void read_pools(Problems& problems, TableReader& root, Config& config) {
  const toml::table* pools = root.table("pools");
  if (!pools) return;
  for (const auto& [key, node] : in_file_order(*pools)) {
    const std::string path = text::key_path("pools", key->str());
    const int line = line_of(key->source());
    const toml::table* table = node->as_table();
    if (!table) {
      problems.add(line, path, "expected a table, got " + type_name(*node));
      continue;
    }
    Pool pool{std::string(key->str()), {}, Origin{problems.file(), line}};
    if (config.find_pool(pool.name)) {
      problems.add(line, path, "listed twice (pool names compare case-insensitively)");
    } else if (!is_localpart(pool.name)) {
      problems.add(line, path, "not usable as a JID localpart (no spaces, @ / \\ \" & ' : < >)");
    }
    TableReader t(problems, table, path);
    std::vector<Item> members;
    if (!t.present("members")) {
      t.missing("members");
    } else if (t.read("members", members)) {
      if (members.empty()) t.error("members", "must list at least one member");
      std::unordered_set<std::string> listed;  // lower-cased
      for (const Item& member : members) {
        if (!is_bare_jid(member.value)) {
          problems.add(member.line, t.path("members"),
                       "not a bare JID (local@domain): " + quote(member.value));
        } else if (!domain_served(config, member.value)) {
          // Members may be enrolled by [users] or by themselves (DESIGN §3, §4): only the
          // domain can be checked here; app/ tells at runtime who is not enrolled (yet).
          problems.add(member.line, t.path("members"),
                       "domain " + quote(domain_of(member.value)) + " is not in served.domains");
        } else if (!listed.insert(text::lower(member.value)).second) {
          problems.add(member.line, t.path("members"), quote(member.value) + " is listed twice");
        } else {
          pool.members.push_back(member.value);
        }
      }
    }
    t.finish();
    config.pools.push_back(std::move(pool));
  }
}

Config read_config(Problems& problems, const toml::table& document) {
  Config config;
  config.file = problems.file();
  TableReader root(problems, &document, "");
  read_component(problems, root, config.component);
  read_served(problems, root, config.served);
  read_settings(problems, root, config);
  read_users(problems, root, config);
  read_pools(problems, root, config);
  {
    TableReader t(problems, root.table("admin"), "admin");
    std::vector<Item> jids;
    if (t.read("jids", jids)) config.admin.jids = bare_jids(problems, t.path("jids"), jids);
    t.finish();
  }
  {
    TableReader t(problems, root.table("log"), "log");
    t.read("level", config.log.level,
           {{"error", LogLevel::error},
            {"warn", LogLevel::warn},
            {"info", LogLevel::info},
            {"debug", LogLevel::debug}});
    t.finish();
  }
  {
    TableReader t(problems, root.table("metrics"), "metrics");
    if (t.read("listen", config.metrics.listen) && !config.metrics.listen.empty() &&
        !is_listen_address(config.metrics.listen)) {
      t.error("listen", "not an address and port such as \"127.0.0.1:9464\" or \"[::1]:9464\": " +
                            quote(config.metrics.listen));
    }
    t.finish();
  }
  root.finish();
  return config;
}

}  // namespace

ParseResult detail::parse_whole(std::string_view text, std::string_view file) {
  try {
    Problems problems{std::string(file)};
    toml::table document;
    try {
      document = toml::parse(text, std::string_view(file));
    } catch (const toml::parse_error& e) {
      problems.add(line_of(e.source()), "", std::string(e.description()));
      return std::move(problems).sorted();
    }
    Config config = read_config(problems, document);
    if (!problems.empty()) return std::move(problems).sorted();
    return config;
  } catch (const std::exception& e) {
    return file_error(file, std::string("cannot read the config: ") + e.what());
  } catch (...) {
    return file_error(file, "cannot read the config");
  }
}

std::optional<Config> detail::parse_without_users(std::string_view text, std::string_view file) {
  toml::table document;
  try {
    document = toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
  if (document.contains("users")) return std::nullopt;
  Problems problems{std::string(file)};
  Config config = read_config(problems, document);
  if (!problems.empty()) return std::nullopt;
  return config;
}

}  // namespace concierge::config
