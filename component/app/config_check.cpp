// SPDX-License-Identifier: MIT
#include <component/app/config_check.hpp>

#include <filesystem>
#include <string_view>
#include <unordered_map>

#include <component/app/calendar_file.hpp>
#include <component/store/pg_store.hpp>
#include <config/text.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::app {
namespace {

config::Error error_at(const config::Config& config, const config::User& user,
                       const std::string& key, std::string message) {
  config::Error e;
  auto it = user.origins.find(key);
  e.origin = it != user.origins.end() ? it->second : config::Origin{config.file, 0};
  e.key = "users.\"" + user.jid + "\"." + key;
  e.message = std::move(message);
  return e;
}

}  // namespace

std::vector<config::Error> check_with_calendars(const config::Config& config) {
  std::vector<config::Error> errors;
  // Each distinct zone and hours checked once: a million users share a few dozen of them.
  std::unordered_map<std::string_view, bool> zone_valid;
  std::unordered_map<std::string_view, std::string> hours_problem;  // empty: none
  for (const auto& user : config.users) {
    auto zone = zone_valid.find(user.timezone);
    if (zone == zone_valid.end()) {
      zone = zone_valid.emplace(user.timezone, ical::is_valid_zone(user.timezone)).first;
    }
    if (!zone->second) {
      errors.push_back(error_at(config, user, "timezone",
                                "unknown time zone \"" + user.timezone +
                                    "\" (use an IANA name such as \"Europe/Berlin\")"));
    }
    if (!user.hours.empty()) {
      auto problem = hours_problem.find(user.hours);
      if (problem == hours_problem.end()) {
        auto hours = ical::parse_hours(user.hours);
        problem = hours_problem.emplace(user.hours, hours ? std::string() : hours.error()).first;
      }
      if (!problem->second.empty()) {
        errors.push_back(error_at(config, user, "hours", problem->second));
      }
    }
    const std::string& cal = user.calendar;
    if (!cal.empty() && !cal.starts_with("https://") && !cal.starts_with("http://") &&
        !cal.starts_with("webcal://")) {
      if (std::string obstacle = calendar_file_obstacle(cal); !obstacle.empty()) {
        errors.push_back(error_at(config, user, "calendar", std::move(obstacle)));
      }
    }
  }
  if (!config.store.url.empty()) {
    if (std::string problem = store::PgStore::url_problem(config.store.url); !problem.empty()) {
      errors.push_back(config::Error{config::Origin{config.file, 0}, "store.url",
                                     "libpq cannot read it: " + std::move(problem)});
    }
  }
  return errors;
}

std::variant<config::Config, std::vector<config::Error>> load_config(const std::string& path) {
  auto parsed = config::parse_file(path);
  if (std::holds_alternative<std::vector<config::Error>>(parsed)) return parsed;
  auto errors = check_with_calendars(std::get<config::Config>(parsed));
  if (!errors.empty()) return errors;
  return parsed;
}

bool has_placeholder_secret(const config::Config& config) {
  return config.component.secret == kPlaceholderSecret;
}

std::vector<config::Error> config_warnings(const config::Config& config) {
  std::vector<config::Error> warnings;
  if (has_placeholder_secret(config)) {
    config::Error w;
    w.origin = {config.file, 0};
    w.key = config.component.secret_file.empty() ? "component.secret" : "component.secret_file";
    w.message = std::string("is the example's placeholder \"") + kPlaceholderSecret +
                "\": set a secret of your own here and in the server (Concierge does not start "
                "with it)";
    warnings.push_back(std::move(w));
  }
  for (const auto& pool : config.pools) {
    for (const auto& member : pool.members) {
      if (config.find_user(member)) continue;
      config::Error w;
      w.origin = pool.origin;
      w.key = config::text::key_path("pools", pool.name) + ".members";
      w.message = "\"" + member + "\" has no [users] entry: the pool reaches them only once they "
                  "enrol themselves";
      warnings.push_back(std::move(w));
    }
  }
  return warnings;
}

LogLevel log_level(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::error: return LogLevel::error;
    case config::LogLevel::warn: return LogLevel::warn;
    case config::LogLevel::info: return LogLevel::info;
    case config::LogLevel::debug: return LogLevel::debug;
  }
  return LogLevel::info;
}

}  // namespace concierge::app
