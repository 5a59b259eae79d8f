// SPDX-License-Identifier: MIT
#pragma once

#include <cstdio>
#include <string_view>

#include <component/core/outbox.hpp>

namespace concierge::app {

using core::LogLevel;

// Lines to stderr: "2026-11-26T12:00:00.123Z info connected to …". journald takes stderr as
// is. Callers never pass message bodies or secrets (DESIGN §11).
class Logger {
 public:
  explicit Logger(LogLevel level = LogLevel::info, std::FILE* sink = stderr)
      : level_(level), sink_(sink) {}
  void set_level(LogLevel level) { level_ = level; }
  bool enabled(LogLevel level) const { return static_cast<int>(level) <= static_cast<int>(level_); }
  void log(LogLevel level, std::string_view text) const;

  void error(std::string_view text) const { log(LogLevel::error, text); }
  void warn(std::string_view text) const { log(LogLevel::warn, text); }
  void info(std::string_view text) const { log(LogLevel::info, text); }
  void debug(std::string_view text) const { log(LogLevel::debug, text); }

 private:
  LogLevel level_;
  std::FILE* sink_;
};

const char* level_name(LogLevel level);

}  // namespace concierge::app
