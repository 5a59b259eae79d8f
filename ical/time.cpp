// SPDX-License-Identifier: MIT
#include <ical/time.hpp>

#include <cctype>
#include <cstdio>

namespace concierge::ical {
namespace {

bool read_int(const std::string& s, std::size_t& pos, int count, int& out) {
  out = 0;
  for (int i = 0; i < count; ++i, ++pos) {
    if (pos >= s.size() || !std::isdigit(static_cast<unsigned char>(s[pos]))) return false;
    out = out * 10 + (s[pos] - '0');
  }
  return true;
}

bool valid_date(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1) return false;
  const std::int64_t next = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
  return d <= next - days_from_civil(y, m, 1);
}

bool read_date(const std::string& s, std::size_t& pos, std::int64_t& days) {
  int y = 0, m = 0, d = 0;
  if (!read_int(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !read_int(s, pos, 2, m) ||
      pos >= s.size() || s[pos++] != '-' || !read_int(s, pos, 2, d) || !valid_date(y, m, d))
    return false;
  days = days_from_civil(y, m, d);
  return true;
}

}  // namespace

std::string format_utc_iso(UtcSeconds t) {
  const std::int64_t days = floor_days(t);
  const std::int64_t sec = t - days * kSecondsPerDay;
  const CivilDate c = civil_from_days(days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day,
                static_cast<int>(sec / 3600), static_cast<int>(sec / 60 % 60),
                static_cast<int>(sec % 60));
  return buf;
}

std::string format_local(LocalSeconds t) {
  const std::int64_t days = floor_days(t);
  const std::int64_t sec = t - days * kSecondsPerDay;
  const CivilDate c = civil_from_days(days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", c.year, c.month, c.day,
                static_cast<int>(sec / 3600), static_cast<int>(sec / 60 % 60));
  return buf;
}

bool parse_iso_date(const std::string& text, std::int64_t& days_out) {
  std::size_t pos = 0;
  return read_date(text, pos, days_out) && pos == text.size();
}

bool parse_iso_instant(const std::string& text, UtcSeconds& out) {
  std::size_t pos = 0;
  std::int64_t days = 0;
  if (!read_date(text, pos, days)) return false;
  if (pos == text.size()) {
    out = days * kSecondsPerDay;
    return true;
  }
  int h = 0, mi = 0, s = 0;
  if ((text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') || !read_int(text, ++pos, 2, h) ||
      pos >= text.size() || text[pos++] != ':' || !read_int(text, pos, 2, mi))
    return false;
  if (pos < text.size() && text[pos] == ':') {
    if (!read_int(text, ++pos, 2, s)) return false;
  }
  if (h > 23 || mi > 59 || s > 60) return false;
  std::int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!read_int(text, pos, 2, oh)) return false;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (!read_int(text, pos, 2, om) || oh > 23 || om > 59) return false;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return false;  // an instant needs an explicit zone: Z or an offset
  }
  if (pos != text.size()) return false;
  out = days * kSecondsPerDay + h * 3600 + mi * 60 + s - offset;
  return true;
}

}  // namespace concierge::ical
