// SPDX-License-Identifier: MIT
#include <ical/prescan.hpp>

#include <cctype>
#include <climits>
#include <optional>
#include <set>
#include <vector>

namespace concierge::ical {
namespace {

// Property and parameter names are ASCII; std::toupper is locale-aware and slow.
constexpr char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_upper(s[i]) != prefix[i]) return false;
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

// Components that only ever stand at the top of a calendar: a BEGIN of one inside an open entry
// means that entry lacks its END.
const std::set<std::string, std::less<>> kEntryComponents = {
    "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VAVAILABILITY"};

// A stray END of one of these (outside any entry) is a leftover, not a misspelt END:VCALENDAR.
const std::set<std::string, std::less<>> kKnownComponents = {
    "VCALENDAR",     "VEVENT", "VTODO",    "VJOURNAL", "VFREEBUSY", "VTIMEZONE",
    "VAVAILABILITY", "VALARM", "STANDARD", "DAYLIGHT", "AVAILABLE"};

constexpr std::size_t kMaxPrescanWarnings = 20;

// The properties the compiler reads; libical is spared the rest (descriptions, attendees, HTML
// bodies — most of a real calendar's bytes).
bool is_used_property(std::string_view line) {
  static const std::set<std::string, std::less<>> kUsed = {"UID",
                                                           "SUMMARY",
                                                           "DTSTART",
                                                           "DTEND",
                                                           "DURATION",
                                                           "RRULE",
                                                           "RDATE",
                                                           "EXDATE",
                                                           "RECURRENCE-ID",
                                                           "STATUS",
                                                           "TRANSP",
                                                           "CATEGORIES",
                                                           "X-MICROSOFT-CDO-BUSYSTATUS",
                                                           "X-MICROSOFT-CDO-INTENDEDSTATUS",
                                                           "FREEBUSY",
                                                           "BUSYTYPE",
                                                           "PRIORITY",
                                                           "TZID",
                                                           "TZOFFSETFROM",
                                                           "TZOFFSETTO",
                                                           "TZNAME",
                                                           "X-WR-TIMEZONE",
                                                           "VERSION"};
  const std::size_t end = line.find_first_of(";:");
  if (end == std::string_view::npos || end == 0 || end > 40) return false;
  char name[41];
  for (std::size_t i = 0; i < end; ++i) {
    name[i] = ascii_upper(line[i]);
  }
  return kUsed.find(std::string_view(name, end)) != kUsed.end();
}

}  // namespace

// The day (since 1970-01-01) of a DTSTART/DTEND line's value, if it reads as YYYYMMDD….
bool value_day(std::string_view line, std::int64_t& day) {
  const std::size_t colon = line.rfind(':');
  if (colon == std::string_view::npos || line.size() < colon + 9) return false;
  int v[8];
  for (int i = 0; i < 8; ++i) {
    const char c = line[colon + 1 + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    v[i] = c - '0';
  }
  const int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
  const int m = v[4] * 10 + v[5];
  const int d = v[6] * 10 + v[7];
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  day = days_from_civil(y, m, d);
  return true;
}

// What the pre-scan learns about one VEVENT to decide whether libical needs to see it.
struct EventFacts {
  bool active = false;
  bool plain = true;               // no nested component: the text reader may take it
  std::vector<std::string> lines;  // its kept content lines, unfolded
  std::size_t mark = 0;            // where its text starts in the kept output
  std::size_t depth = 0;           // stack depth of its own properties
  bool repeats = false;            // RRULE, RDATE or RECURRENCE-ID
  bool has_duration = false;
  bool has_start = false, has_end = false;
  std::int64_t start_day = 0, end_day = 0;

  bool outside(std::int64_t from_day, std::int64_t to_day) const {
    if (repeats || !has_start) return false;
    if (start_day > to_day + 2) return true;
    if (has_end) return end_day < from_day - 2;
    return !has_duration && start_day < from_day - 2;
  }
};

// The open top-level entry: a child of a VCALENDAR, or a bare entry outside any.
struct Entry {
  std::size_t depth = 0;  // its stack depth; 0 = none open
  std::size_t line = 0;   // line of its BEGIN
  std::size_t mark = 0;   // where its text starts in the kept output
  std::string name;
  std::string uid;
  std::string broken;  // why it is skipped; empty while it is fine

  // "VTODO (UID todo-7, line 12)", or "VTODO (line 12)" without a UID.
  std::string describe() const {
    const std::string at = "line " + std::to_string(line);
    return name.substr(0, 40) + " (" + (uid.empty() ? at : "UID " + uid + ", " + at) + ")";
  }
};

Result<Prescan> prescan(std::string_view text, const CompileLimits& limits, UtcSeconds window_from,
                        UtcSeconds window_to) {
  const std::int64_t from_day = window_from == INT64_MIN ? INT64_MIN / 2 : floor_days(window_from);
  const std::int64_t to_day = window_to == INT64_MAX ? INT64_MAX / 2 : floor_days(window_to);
  EventFacts event;
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
  std::string calendars, bare, current;  // kept lines: all calendars, bare entries, this entry
  calendars.reserve(text.size() / 2);
  std::size_t alarm_depth = 0;  // inside VALARM: nothing Concierge uses
  bool keep_previous = false;   // for folded continuation lines
  bool saw_bare = false;
  std::size_t line_no = 0;
  Entry entry;
  auto keep = [&current](std::string_view line) {
    current.append(line);
    current += "\r\n";
  };
  auto warn = [&out](std::string w) {
    if (out.warnings.size() < kMaxPrescanWarnings) {
      out.warnings.push_back(std::move(w));
    } else {
      ++out.more_warnings;
    }
  };
  // Ends the component on top of the stack (writing a well-formed END line for libical); a broken
  // entry is dropped from the kept output as it closes.
  auto close_top = [&]() {
    const std::string name = std::move(stack.back());
    if (alarm_depth == 0) keep("END:" + name);
    if (name == "VALARM") --alarm_depth;
    const bool closes_entry = entry.depth == stack.size();
    if (closes_entry && !entry.broken.empty()) {
      current.resize(entry.mark);
      event.active = false;
      warn("skipped a broken " + entry.describe() + ": " + entry.broken);
    } else if (event.active && name == "VEVENT" && stack.size() == event.depth) {
      if (event.outside(from_day, to_day)) {
        current.resize(event.mark);
      } else if (event.plain && limits.text_reader) {
        EventData data;
        if (read_event_text(event.lines, data)) {
          out.events.push_back(std::move(data));
          current.resize(event.mark);
        }
      }
      event.active = false;
    }
    if (closes_entry) entry = Entry{};
    stack.pop_back();
    if (stack.empty()) (name == "VCALENDAR" ? calendars : bare).append(current);
  };
  // The component on top of the stack is malformed (`detail`): close it. An alarm costs only
  // itself (Concierge never reads alarms), anything else its whole entry; a calendar is kept.
  auto close_broken_top = [&](const std::string& detail) {
    const std::string& name = stack.back();
    if (entry.depth != 0 && stack.size() > entry.depth && name == "VALARM") {
      warn("ignored a broken VALARM in " + entry.describe() + ": " + detail);
    } else if (entry.depth != 0 && stack.size() >= entry.depth) {
      if (entry.broken.empty()) {
        entry.broken =
            (stack.size() == entry.depth ? "" : "its " + name.substr(0, 40) + " ") + detail;
      }
    } else {
      warn("the " + name.substr(0, 40) + " is malformed: " + detail + "; the rest was read");
    }
    close_top();
  };
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = std::min(end + 1, text.size());
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (keep_previous) {
        keep(line);
        if (event.active && stack.size() == event.depth && !event.lines.empty()) {
          event.lines.back().append(line.substr(1));
        }
      }
      continue;
    }
    keep_previous = false;
    if (starts_with_ci(line, "BEGIN:")) {
      std::string name = upper_trimmed(line.substr(6));
      // An entry never contains another: the open one lacks its END.
      while (entry.depth != 0 && stack.size() >= entry.depth && kEntryComponents.count(name) != 0) {
        close_broken_top("END:" + stack.back().substr(0, 40) + " is missing");
      }
      if (stack.empty()) {
        if (name != "VCALENDAR" && kBareComponents.count(name) == 0) {
          return Error{"this is not an iCalendar file (it has BEGIN:" + name.substr(0, 20) +
                       " where BEGIN:VCALENDAR was expected)"};
        }
        current.clear();
        saw_bare = saw_bare || name != "VCALENDAR";
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
      if (name == "VALARM") ++alarm_depth;
      if (event.active && name != "VALARM") event.plain = false;
      if (name == "VEVENT" && !event.active && stack.size() <= 1) {
        event = EventFacts{};
        event.active = true;
        event.mark = stack.empty() ? 0 : current.size();
        event.depth = stack.size() + 1;
      }
      if ((stack.empty() && name != "VCALENDAR") ||
          (stack.size() == 1 && stack[0] == "VCALENDAR")) {
        entry = Entry{stack.size() + 1, line_no, stack.empty() ? 0 : current.size(), name, {}, {}};
      }
      if (alarm_depth == 0) keep(line);
      stack.push_back(std::move(name));
    } else if (starts_with_ci(line, "END:")) {
      const std::string name = upper_trimmed(line.substr(4));
      std::size_t match = stack.size();  // stack[match - 1] == name; 0 when none
      while (match > 0 && stack[match - 1] != name) --match;
      if (match > 0) {
        // Components inside the one that ends here lack their END.
        while (stack.size() > match)
          close_broken_top("END:" + stack.back().substr(0, 40) + " is missing");
        close_top();
      } else if (stack.empty() || (entry.depth == 0 && kKnownComponents.count(name) != 0)) {
        warn("ignored END:" + name.substr(0, 20) + " at line " + std::to_string(line_no) +
             " (nothing of that kind was open)");
      } else {  // a misspelt END of the innermost open component
        close_broken_top("it ends with END:" + name.substr(0, 20) + " (line " +
                         std::to_string(line_no) + ")");
      }
    } else if (!stack.empty() && alarm_depth == 0 && is_used_property(line)) {
      keep(line);
      keep_previous = true;
      if (stack.size() == entry.depth && entry.uid.empty() && starts_with_ci(line, "UID")) {
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) entry.uid = std::string(line.substr(colon + 1, 64));
      }
      if (event.active && stack.size() == event.depth) {
        event.lines.emplace_back(line);
        if (starts_with_ci(line, "RRULE") || starts_with_ci(line, "RDATE") ||
            starts_with_ci(line, "RECURRENCE-ID")) {
          event.repeats = true;
        } else if (starts_with_ci(line, "DTSTART")) {
          event.has_start = value_day(line, event.start_day);
        } else if (starts_with_ci(line, "DTEND")) {
          event.has_end = value_day(line, event.end_day);
          event.has_duration = event.has_duration || !event.has_end;  // unreadable: keep it
        } else if (starts_with_ci(line, "DURATION")) {
          event.has_duration = true;
        }
      }
      if (stack.size() == 1 && starts_with_ci(line, "X-WR-TIMEZONE") && out.x_wr_timezone.empty()) {
        const std::size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
          std::string_view v = line.substr(colon + 1);
          while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
          out.x_wr_timezone = std::string(v.substr(0, 128));
        }
      }
    }
  }
  if (!stack.empty()) {
    return Error{"the calendar is incomplete: it ends inside " + stack.back() +
                 " (the file may be truncated)"};
  }
  if (!saw_calendar && !saw_bare) {
    return Error{"this is not an iCalendar file (no BEGIN:VCALENDAR found)"};
  }
  out.had_bare_components = saw_bare;
  out.rewritten = std::move(calendars);
  if (saw_bare) out.rewritten += "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + bare + "END:VCALENDAR\r\n";
  return out;
}

std::string calendar_zone_hint(std::string_view calendar) {
  CompileLimits limits;
  limits.max_bytes = calendar.size();
  auto scan = prescan(calendar, limits);
  return scan ? scan->x_wr_timezone : std::string();
}

}  // namespace concierge::ical
