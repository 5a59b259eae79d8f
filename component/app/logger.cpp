// SPDX-License-Identifier: MIT
#include <component/app/logger.hpp>

#include <chrono>
#include <string>

namespace concierge::app {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warn";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "?";
}

void Logger::log(LogLevel level, std::string_view text) const {
  if (!enabled(level)) return;
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto day = std::chrono::floor<std::chrono::days>(now);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss tod{now - day};
  char stamp[40];
  std::snprintf(stamp, sizeof stamp, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long>(tod.hours().count()),
                static_cast<long>(tod.minutes().count()), static_cast<long>(tod.seconds().count()),
                static_cast<long>(tod.subseconds().count()));
  std::string line;
  line.reserve(text.size() + 48);
  line.append(stamp).append(" ").append(level_name(level)).append(" ").append(text).append("\n");
  std::fwrite(line.data(), 1, line.size(), sink_);
  std::fflush(sink_);
}

}  // namespace concierge::app
