// SPDX-License-Identifier: MIT
#include <ical/weekly_hours.hpp>

#include <array>
#include <cctype>
#include <string>

namespace concierge::ical {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<WeeklyHours> parse() {
    WeeklyHours hours;
    skip_space();
    if (at_end()) return hours;
    while (true) {
      std::array<bool, 7> days{};
      if (!parse_days(days)) return error("expected a day name (Mon … Sun)");
      skip_space();
      while (true) {
        int start = 0, end = 0;
        if (!parse_time(start, false)) return error("expected a time like 09:00");
        skip_space();
        if (!eat('-')) return error("expected '-' between two times");
        skip_space();
        if (!parse_time(end, true)) return error("expected a time like 17:00 (or 24:00)");
        if (end == start) return error("a time range must not start and end at the same time");
        if (end < start) end += 1440;
        for (int d = 0; d < 7; ++d) {
          if (days[static_cast<std::size_t>(d)]) hours.ranges.push_back({d, start, end});
        }
        skip_space();
        if (peek() == ',' && !letter_after_comma()) {
          ++pos_;
          skip_space();
          continue;
        }
        break;
      }
      skip_space();
      if (at_end()) break;
      if (!eat(';')) return error("expected ';' before the next days");
      skip_space();
      if (at_end()) break;  // a trailing ';' is harmless
    }
    return hours;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool letter_after_comma() const {
    std::size_t p = pos_ + 1;
    while (p < text_.size() && std::isspace(static_cast<unsigned char>(text_[p]))) ++p;
    return p < text_.size() && std::isalpha(static_cast<unsigned char>(text_[p]));
  }

  // A day name; returns 0..6 or -1.
  int parse_day() {
    static constexpr std::array<std::string_view, 7> kFull = {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    std::string word;
    while (!at_end() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text_[pos_]))));
      ++pos_;
    }
    for (int d = 0; d < 7; ++d) {
      const std::string_view full = kFull[static_cast<std::size_t>(d)];
      if (word == full || word == full.substr(0, 3)) return d;
    }
    return -1;
  }

  bool parse_days(std::array<bool, 7>& days) {
    while (true) {
      const int first = parse_day();
      if (first < 0) return false;
      int last = first;
      skip_space();
      if (peek() == '-') {
        ++pos_;
        skip_space();
        last = parse_day();
        if (last < 0) return false;
      }
      for (int d = first;; d = (d + 1) % 7) {  // "Fri-Mon" wraps over the weekend
        days[static_cast<std::size_t>(d)] = true;
        if (d == last) break;
      }
      skip_space();
      if (peek() == ',' && letter_after_comma()) {
        ++pos_;
        skip_space();
        continue;
      }
      return true;
    }
  }

  bool digits(int count, int& value) {
    value = 0;
    for (int i = 0; i < count; ++i) {
      if (at_end() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return true;
  }

  bool parse_time(int& minutes, bool allow_24) {
    int h = 0, m = 0;
    const std::size_t start = pos_;
    if (!digits(1, h)) return false;
    int h2 = 0;
    if (!at_end() && std::isdigit(static_cast<unsigned char>(peek()))) {
      digits(1, h2);
      h = h * 10 + h2;
    }
    if (!eat(':') || !digits(2, m) || m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24))) {
      pos_ = start;
      return false;
    }
    minutes = h * 60 + m;
    return true;
  }

  Result<WeeklyHours> error(const char* what) const {
    std::string where(text_.substr(std::min(pos_, text_.size())));
    if (where.size() > 30) where = where.substr(0, 30) + "…";
    return Error{std::string("hours: ") + what +
                 (where.empty() ? std::string(" at the end") : " at '" + where + "'")};
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<WeeklyHours> parse_hours(std::string_view text) {
  return Parser(text).parse();
}

}  // namespace concierge::ical
