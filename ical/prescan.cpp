// SPDX-License-Identifier: MIT
#include <ical/prescan.hpp>

#include <cctype>
#include <set>
#include <vector>

namespace concierge::ical {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::string upper_trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// Entries some producers write without the VCALENDAR around them.
const std::set<std::string, std::less<>> kBareComponents = {
    "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VAVAILABILITY", "VALARM"};

}  // namespace

Result<Prescan> prescan(std::string_view text, const CompileLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Error{"the calendar is too large (" + std::to_string(text.size() / 1000) +
                 " kB; at most " + std::to_string(limits.max_bytes / 1000) + " kB are accepted)"};
  }
  if (text.find('\0') != std::string_view::npos) {
    return Error{"this is not an iCalendar file (it contains binary data)"};
  }
  Prescan out;
  std::vector<std::string> stack;
  bool saw_calendar = false;
  std::size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  const std::size_t body_start = pos;
  std::string calendars, bare;  // top-level pieces, when some are bare
  std::size_t top_begin = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    const std::size_t line_start = pos;
    pos = std::min(end + 1, text.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (starts_with_ci(line, "BEGIN:")) {
      std::string name = upper_trimmed(line.substr(6));
      if (stack.empty()) {
        if (name != "VCALENDAR" && kBareComponents.count(name) == 0) {
          return Error{"this is not an iCalendar file (it has BEGIN:" + name.substr(0, 20) +
                       " where BEGIN:VCALENDAR was expected)"};
        }
        top_begin = line_start;
      }
      if (name == "VCALENDAR") saw_calendar = true;
      if (stack.size() >= limits.max_depth) {
        return Error{"the calendar nests components too deeply (more than " +
                     std::to_string(limits.max_depth) + " levels)"};
      }
      if (++out.components > limits.max_components) {
        return Error{"the calendar has too many entries (more than " +
                     std::to_string(limits.max_components) + ")"};
      }
      stack.push_back(std::move(name));
    } else if (starts_with_ci(line, "END:")) {
      const std::string name = upper_trimmed(line.substr(4));
      if (stack.empty() || stack.back() != name) {
        return Error{"the calendar is malformed: END:" + name.substr(0, 20) +
                     (stack.empty() ? std::string(" without a matching BEGIN")
                                    : " where END:" + stack.back() + " was expected")};
      }
      stack.pop_back();
      if (stack.empty()) {
        std::string& to = name == "VCALENDAR" ? calendars : bare;
        to.append(text.substr(top_begin, pos - top_begin));
        if (to.back() != '\n') to += "\r\n";
      }
    } else if (stack.size() == 1 && starts_with_ci(line, "X-WR-TIMEZONE") &&
               out.x_wr_timezone.empty()) {
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view v = line.substr(colon + 1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        out.x_wr_timezone = std::string(v.substr(0, 128));
      }
    }
  }
  if (!stack.empty()) {
    return Error{"the calendar is incomplete: it ends inside " + stack.back() +
                 " (the file may be truncated)"};
  }
  if (!saw_calendar && bare.empty()) {
    return Error{"this is not an iCalendar file (no BEGIN:VCALENDAR found)"};
  }
  if (!bare.empty()) {
    out.had_bare_components = true;
    out.rewritten = calendars + "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + bare + "END:VCALENDAR\r\n";
  } else if (body_start > 0) {
    out.rewritten = std::string(text.substr(body_start));
  }
  return out;
}

std::string calendar_zone_hint(std::string_view calendar) {
  CompileLimits limits;
  limits.max_bytes = calendar.size();
  auto scan = prescan(calendar, limits);
  return scan ? scan->x_wr_timezone : std::string();
}

}  // namespace concierge::ical
