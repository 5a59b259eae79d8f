// SPDX-License-Identifier: MIT
#include <ical/event.hpp>

#include <ical/compile.hpp>

#include <cctype>

namespace concierge::ical {
namespace {

// Property and parameter names are ASCII; std::toupper is locale-aware and slow.
constexpr char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

struct Line {
  std::string_view name;  // upper case expected; compared case-insensitively
  std::vector<std::pair<std::string_view, std::string_view>> params;
  std::string_view value;
};

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  }
  return true;
}

bool split_line(std::string_view text, Line& line) {
  std::size_t i = 0;
  while (i < text.size() && text[i] != ';' && text[i] != ':') ++i;
  if (i == 0 || i >= text.size()) return false;
  line.name = text.substr(0, i);
  while (text[i] == ';') {
    const std::size_t name_start = ++i;
    while (i < text.size() && text[i] != '=') ++i;
    if (i >= text.size()) return false;
    const std::string_view pname = text.substr(name_start, i - name_start);
    ++i;
    std::string_view pvalue;
    if (i < text.size() && text[i] == '"') {
      const std::size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) return false;
      pvalue = text.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      const std::size_t start = i;
      while (i < text.size() && text[i] != ';' && text[i] != ':' && text[i] != '"') ++i;
      pvalue = text.substr(start, i - start);
    }
    if (i >= text.size() || (text[i] != ';' && text[i] != ':')) return false;
    if (pvalue.find(',') != std::string_view::npos) return false;  // multi-valued: not plain
    line.params.emplace_back(pname, pvalue);
  }
  line.value = text.substr(i + 1);
  return true;
}

std::string_view param(const Line& line, std::string_view name) {
  for (const auto& [n, v] : line.params) {
    if (equals_ci(n, name)) return v;
  }
  return {};
}

bool digits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
  out = 0;
  if (pos + count > s.size()) return false;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

// "20260401", "20260401T090000", "20260401T090000Z".
bool read_time(std::string_view v, bool want_date, std::string_view tzid, TimeValue& out) {
  int y = 0, mo = 0, d = 0;
  if (!digits(v, 0, 4, y) || !digits(v, 4, 2, mo) || !digits(v, 6, 2, d)) return false;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  out = TimeValue{};
  if (v.size() == 8) {
    out.is_date = true;
    out.local = days_from_civil(y, mo, d) * kSecondsPerDay;
    return true;
  }
  if (want_date) return false;
  int h = 0, mi = 0, s = 0;
  if (v.size() < 15 || v[8] != 'T' || !digits(v, 9, 2, h) || !digits(v, 11, 2, mi) ||
      !digits(v, 13, 2, s) || h > 23 || mi > 59 || s > 60)
    return false;
  if (v.size() == 16 && v[15] == 'Z') {
    out.is_utc = true;
  } else if (v.size() != 15) {
    return false;
  }
  out.local = seconds_from_civil(y, mo, d, h, mi, s);
  if (!out.is_utc) out.tzid = std::string(tzid);
  return true;
}

bool read_time_line(const Line& line, TimeValue& out) {
  const std::string_view type = param(line, "VALUE");
  if (!type.empty() && !equals_ci(type, "DATE") && !equals_ci(type, "DATE-TIME")) return false;
  return read_time(line.value, equals_ci(type, "DATE"), param(line, "TZID"), out);
}

// "PT1H30M", "P1D", "-P2W", "P1DT12H".
bool read_duration(std::string_view v, DurationValue& out) {
  out = DurationValue{};
  std::size_t i = 0;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) out.negative = v[i++] == '-';
  if (i >= v.size() || v[i++] != 'P') return false;
  bool in_time = false, any = false;
  while (i < v.size()) {
    if (v[i] == 'T') {
      in_time = true;
      ++i;
      continue;
    }
    std::int64_t n = 0;
    std::size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9' && i - start < 9) n = n * 10 + (v[i++] - '0');
    if (i == start || i >= v.size()) return false;
    const char unit = v[i++];
    any = true;
    if (!in_time && unit == 'W') {
      out.nominal_days += 7 * n;
    } else if (!in_time && unit == 'D') {
      out.nominal_days += n;
    } else if (in_time && unit == 'H') {
      out.exact_seconds += 3600 * n;
    } else if (in_time && unit == 'M') {
      out.exact_seconds += 60 * n;
    } else if (in_time && unit == 'S') {
      out.exact_seconds += n;
    } else {
      return false;
    }
  }
  return any;
}

// Unescapes TEXT values (RFC 5545 §3.3.11).
std::string text_value(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      const char c = v[++i];
      out.push_back(c == 'n' || c == 'N' ? ' ' : c);
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

template <class F>
bool for_each_item(std::string_view v, F&& f) {
  while (true) {
    const std::size_t comma = v.find(',');
    if (!f(v.substr(0, comma))) return false;
    if (comma == std::string_view::npos) return true;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string lowercase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

bool is_out_of_office_word(std::string_view category) {
  std::string_view s = category;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  const std::string w = lowercase(s);
  return w == "vacation" || w == "holiday" || w == "holidays" || w == "out-of-office" ||
         w == "out of office" || w == "ooo";
}

bool read_event_text(const std::vector<std::string>& lines, EventData& out) {
  out = EventData{};
  for (const std::string& text : lines) {
    Line line;
    if (!split_line(text, line)) return false;
    const std::string_view n = line.name;
    if (equals_ci(n, "UID")) {
      out.uid = text_value(line.value);
    } else if (equals_ci(n, "SUMMARY")) {
      out.summary = text_value(line.value);
    } else if (equals_ci(n, "DTSTART")) {
      if (out.has_start || !read_time_line(line, out.start)) return false;
      out.has_start = true;
    } else if (equals_ci(n, "DTEND")) {
      if (out.has_end || !read_time_line(line, out.end)) return false;
      out.has_end = true;
    } else if (equals_ci(n, "DURATION")) {
      if (out.has_duration || !read_duration(line.value, out.duration)) return false;
      out.has_duration = true;
    } else if (equals_ci(n, "RRULE")) {
      out.rrules.emplace_back(line.value);
    } else if (equals_ci(n, "RECURRENCE-ID")) {
      if (out.has_recurrence_id || !read_time_line(line, out.recurrence_id)) return false;
      out.has_recurrence_id = true;
      out.this_and_future = equals_ci(param(line, "RANGE"), "THISANDFUTURE");
    } else if (equals_ci(n, "EXDATE")) {
      const std::string_view type = param(line, "VALUE");
      if (!type.empty() && !equals_ci(type, "DATE") && !equals_ci(type, "DATE-TIME")) return false;
      const bool ok = for_each_item(line.value, [&](std::string_view item) {
        TimeValue t;
        if (!read_time(item, equals_ci(type, "DATE"), param(line, "TZID"), t)) return false;
        out.exdates.push_back(std::move(t));
        return true;
      });
      if (!ok) return false;
    } else if (equals_ci(n, "RDATE")) {
      const std::string_view type = param(line, "VALUE");
      const bool period = equals_ci(type, "PERIOD");
      if (!type.empty() && !period && !equals_ci(type, "DATE") && !equals_ci(type, "DATE-TIME"))
        return false;
      const bool ok = for_each_item(line.value, [&](std::string_view item) {
        EventData::Extra e;
        const std::size_t slash = item.find('/');
        if (period != (slash != std::string_view::npos)) return false;
        if (!read_time(item.substr(0, slash), equals_ci(type, "DATE"), param(line, "TZID"),
                       e.start))
          return false;
        if (period) {
          const std::string_view second = item.substr(slash + 1);
          if (!second.empty() && (second[0] == 'P' || second[0] == '+' || second[0] == '-')) {
            e.has_duration = read_duration(second, e.duration);
            if (!e.has_duration) return false;
          } else {
            e.has_end = read_time(second, false, param(line, "TZID"), e.end);
            if (!e.has_end) return false;
          }
        }
        out.rdates.push_back(std::move(e));
        return true;
      });
      if (!ok) return false;
    } else if (equals_ci(n, "STATUS")) {
      out.cancelled = equals_ci(line.value, "CANCELLED");
    } else if (equals_ci(n, "TRANSP")) {
      out.transparent = out.transparent || equals_ci(line.value, "TRANSPARENT");
    } else if (equals_ci(n, "CATEGORIES")) {
      for_each_item(line.value, [&](std::string_view item) {
        out.out_of_office = out.out_of_office || is_out_of_office_word(text_value(item));
        return true;
      });
    } else if (equals_ci(n, "X-MICROSOFT-CDO-BUSYSTATUS") ||
               equals_ci(n, "X-MICROSOFT-CDO-INTENDEDSTATUS")) {
      if (equals_ci(line.value, "OOF")) out.out_of_office = true;
      if (equals_ci(n, "X-MICROSOFT-CDO-BUSYSTATUS") && equals_ci(line.value, "FREE"))
        out.transparent = true;
    }
    // Other properties never reach here (the pre-scan keeps only what the compiler uses).
  }
  return out.has_start;
}

std::optional<std::int64_t> calendar_refresh_hint(std::string_view calendar) {
  std::size_t pos = 0;
  while (pos < calendar.size()) {
    std::size_t end = calendar.find('\n', pos);
    if (end == std::string_view::npos) end = calendar.size();
    std::string_view line = calendar.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    auto starts = [&](std::string_view prefix) {
      return line.size() >= prefix.size() && equals_ci(line.substr(0, prefix.size()), prefix);
    };
    if (starts("BEGIN:") && !equals_ci(line, "BEGIN:VCALENDAR")) break;  // the calendar's own only
    if (!starts("REFRESH-INTERVAL") && !starts("X-PUBLISHED-TTL")) continue;
    const auto colon = line.find(':');
    DurationValue d;
    if (colon == std::string_view::npos || !read_duration(line.substr(colon + 1), d) || d.negative) {
      continue;
    }
    const std::int64_t seconds = d.nominal_days * 86'400 + d.exact_seconds;
    if (seconds > 0) return seconds;
  }
  return std::nullopt;
}

}  // namespace concierge::ical
