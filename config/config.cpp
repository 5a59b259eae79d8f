// SPDX-License-Identifier: MIT
#include <config/config.hpp>

#include <config/text.hpp>

#include <limits>

namespace concierge::config {

const User* Config::find_user(std::string_view bare_jid) const {
  for (const User& user : users) {
    if (text::iequals(user.jid, bare_jid)) return &user;
  }
  return nullptr;
}

const Pool* Config::find_pool(std::string_view name) const {
  for (const Pool& pool : pools) {
    if (text::iequals(pool.name, name)) return &pool;
  }
  return nullptr;
}

std::string Error::to_string() const {
  std::string out = origin.file;
  if (origin.line > 0) out += (out.empty() ? "line " : ":") + std::to_string(origin.line);
  for (const std::string* part : {&key, &message}) {
    if (part->empty()) continue;
    if (!out.empty()) out += ": ";
    out += *part;
  }
  return out;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  std::int64_t count = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (count > (std::numeric_limits<std::int64_t>::max() - digit) / 10) return std::nullopt;
    count = count * 10 + digit;
  }
  if (count > std::numeric_limits<std::int64_t>::max() / unit) return std::nullopt;
  return std::chrono::seconds{count * unit};
}

std::string format_duration(std::chrono::seconds duration) {
  const std::int64_t seconds = duration.count();
  if (seconds == 0) return "0s";
  if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warn:
      return "warn";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "info";
}

const char* to_string(ServedMode mode) {
  switch (mode) {
    case ServedMode::proxy:
      return "proxy";
    case ServedMode::transparent:
      return "transparent";
    case ServedMode::both:
      return "both";
  }
  return "proxy";
}

const char* to_string(PrivacyLevel level) {
  switch (level) {
    case PrivacyLevel::exact:
      return "exact";
    case PrivacyLevel::wait:
      return "wait";
    case PrivacyLevel::none:
      return "none";
  }
  return "exact";
}

const char* to_string(CalendarKind kind) {
  return kind == CalendarKind::personal ? "personal" : "work";
}

const char* to_string(UnknownSchedule unknown) {
  return unknown == UnknownSchedule::off_hours ? "off_hours" : "working";
}

const char* to_string(UrgentFrom from) {
  return from == UrgentFrom::anyone ? "anyone" : "always_through";
}

}  // namespace concierge::config
