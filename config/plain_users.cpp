// SPDX-License-Identifier: MIT
// Plain [users."…"] tables read without toml++ (see plain_users.hpp). The accepted form is a
// strict subset of TOML; whatever is not in it gives up rather than guesses.
#include <config/plain_users.hpp>

#include <algorithm>
#include <cstring>
#include <unordered_set>
#include <utility>

#include <config/text.hpp>
#include <config/values.hpp>

namespace concierge::config::detail {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// Characters kept as they are inside a one-line string or a comment: tab and printable ASCII.
// Anything else (escapes, control characters, UTF-8 that toml++ would validate) gives up.
bool is_plain(char c) {
  return c == '\t' || (c >= 0x20 && c < 0x7f);
}

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// A cursor over one line (without its line break).
class Line {
 public:
  explicit Line(std::string_view text) : text_(text) {}

  void skip_blanks() {
    while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
  }
  bool take(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool take(std::string_view prefix) {
    if (text_.substr(pos_).substr(0, prefix.size()) != prefix) return false;
    pos_ += prefix.size();
    return true;
  }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  // Blanks, then the end or a comment of plain characters.
  bool ends() {
    skip_blanks();
    if (pos_ == text_.size()) return true;
    if (text_[pos_] != '#') return false;
    return std::all_of(text_.begin() + static_cast<std::ptrdiff_t>(pos_) + 1, text_.end(),
                       is_plain);
  }

  std::optional<std::string_view> bare_key() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_bare_key_char(text_[pos_])) ++pos_;
    if (pos_ == start) return std::nullopt;
    return text_.substr(start, pos_ - start);
  }

  // "basic" without escapes, or 'literal'; on one line.
  std::optional<std::string_view> string() {
    if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) return std::nullopt;
    const char quote = text_[pos_];
    const std::size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (!is_plain(text_[pos_]) || (quote == '"' && text_[pos_] == '\\')) return std::nullopt;
      ++pos_;
    }
    if (pos_ == text_.size()) return std::nullopt;
    const std::string_view value = text_.substr(start, pos_ - start);
    ++pos_;
    if (quote == '"' && value.empty() && at('"')) return std::nullopt;  // """: multi-line
    return value;
  }

  // [ "a", 'b', ] on one line.
  std::optional<std::vector<std::string>> strings() {
    if (!take('[')) return std::nullopt;
    std::vector<std::string> items;
    skip_blanks();
    while (!at(']')) {
      std::optional<std::string_view> item = string();
      if (!item) return std::nullopt;
      items.emplace_back(*item);
      skip_blanks();
      if (!take(',')) break;
      skip_blanks();
    }
    if (!take(']')) return std::nullopt;
    return items;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

template <class Enum>
bool read_choice(std::string_view name, std::initializer_list<Enum> choices, Enum& out) {
  for (const Enum choice : choices) {
    if (name == to_string(choice)) {
      out = choice;
      return true;
    }
  }
  return false;
}

// One `key = value` line of a user table into `user`; false when it is not plain, the key is
// unknown or set twice, or the value is not what the key takes.
bool read_entry(Line& line, User& user, std::string_view file, int number) {
  line.skip_blanks();
  const std::optional<std::string_view> key = line.bare_key();
  if (!key) return false;
  line.skip_blanks();
  if (!line.take('=')) return false;
  line.skip_blanks();
  if (!user.origins.try_emplace(std::string(*key), Origin{std::string(file), number}).second) {
    return false;  // set twice
  }
  if (*key == "always_through") {
    std::optional<std::vector<std::string>> jids = line.strings();
    if (!jids || !std::all_of(jids->begin(), jids->end(),
                              [](const std::string& jid) { return is_bare_jid(jid); })) {
      return false;
    }
    user.always_through = std::move(*jids);
    return line.ends();
  }
  const std::optional<std::string_view> value = line.string();
  if (!value || !line.ends()) return false;
  if (*key == "timezone") {
    user.timezone = *value;
    return !value->empty();
  }
  if (*key == "calendar") {
    user.calendar = *value;
    return true;
  }
  if (*key == "hours") {
    user.hours = *value;
    return true;
  }
  if (*key == "calendar_kind") {
    return read_choice(*value, {CalendarKind::work, CalendarKind::personal}, user.calendar_kind);
  }
  if (*key == "urgent_from") {
    return read_choice(*value, {UrgentFrom::always_through, UrgentFrom::anyone}, user.urgent_from);
  }
  return false;
}

// `[users."bob@example.org"]` (blanks around, a comment after): the JID, or nullopt.
std::optional<std::string_view> plain_header(std::string_view text) {
  Line line(text);
  line.skip_blanks();
  if (!line.take(R"([users.")")) return std::nullopt;
  const std::size_t start = text.find(R"([users.")") + 8;
  const std::size_t end = text.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  Line after(text.substr(end));
  if (!after.take(R"("])") || !after.ends()) return std::nullopt;
  const std::string_view jid = text.substr(start, end - start);
  if (!std::all_of(jid.begin(), jid.end(), is_plain) || jid.find('\\') != jid.npos) {
    return std::nullopt;
  }
  return jid;
}

}  // namespace

std::optional<PlainUsers> split_plain_users(std::string_view text, std::string_view file) {
  PlainUsers out;
  out.rest.reserve(text.size() / 16);
  std::size_t tables = 0;  // at most: reserving saves moving 10⁶ users as the vector grows
  for (std::size_t at = text.find("[users."); at != text.npos; at = text.find("[users.", at + 7)) {
    ++tables;
  }
  out.users.reserve(tables);
  User* user = nullptr;  // the table the current line belongs to, when it is a plain one
  int number = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t newline = text.find('\n', begin);
    const std::size_t end = newline == text.npos ? text.size() : newline;
    std::string_view line = text.substr(begin, end - begin);
    // The rest gets a line's bytes as they are (a CR that is not part of CRLF is toml++'s error).
    const std::string_view raw = text.substr(begin, (newline == text.npos ? end : end + 1) - begin);
    begin = end + 1;
    ++number;
    if (newline != text.npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t first = line.find_first_not_of(" \t");
    const bool header = first != line.npos && line[first] == '[';
    if (header) {
      if (user && user->timezone.empty()) return std::nullopt;  // the last one lacks it
      user = nullptr;
      if (const std::optional<std::string_view> jid = plain_header(line)) {
        if (!is_bare_jid(*jid)) return std::nullopt;
        user = &out.users.emplace_back();
        user->jid = *jid;
        out.rest += '\n';
        continue;
      }
    }
    if (!user) {
      // A multi-line string could hold a line that looks like a header: leave it to toml++.
      if (line.find(R"(""")") != line.npos || line.find("'''") != line.npos) return std::nullopt;
      out.rest.append(raw);
      continue;
    }
    Line cursor(line);
    if (!cursor.ends() && !read_entry(cursor, *user, file, number)) {
      return std::nullopt;
    }
    out.rest += '\n';
  }
  if (user && user->timezone.empty()) return std::nullopt;
  return out;
}

bool plain_users_fit(const Config& config, const std::vector<User>& users) {
  // No JID twice: the hashes of the lower-cased JIDs, sorted (10⁶ of them fit the caches far
  // better than a set of strings); only when two hashes meet are the JIDs compared.
  std::vector<std::size_t> hashes;
  hashes.reserve(users.size());
  for (const User& user : users) {
    if (!domain_served(config.served.domains, user.jid)) return false;
    hashes.push_back(std::hash<std::string>{}(text::lower(user.jid)));
    if (user.origins.count("calendar") &&
        calendar_problem(user.calendar, config.schedule.allow_private_urls)) {
      return false;
    }
  }
  std::sort(hashes.begin(), hashes.end());
  if (std::adjacent_find(hashes.begin(), hashes.end()) == hashes.end()) return true;
  std::unordered_set<std::string> seen;
  for (const User& user : users) {
    if (!seen.insert(text::lower(user.jid)).second) return false;
  }
  return true;
}

std::optional<Config> parse_plain(std::string_view text, std::string_view file) {
  if (text.find(R"([users.")") == std::string_view::npos) return std::nullopt;
  std::optional<PlainUsers> split = split_plain_users(text, file);
  if (!split || split->users.empty()) return std::nullopt;
  std::optional<Config> config = parse_without_users(split->rest, file);
  if (!config || !plain_users_fit(*config, split->users)) return std::nullopt;
  config->users = std::move(split->users);
  return config;
}

}  // namespace concierge::config::detail
