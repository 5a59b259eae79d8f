// SPDX-License-Identifier: MIT
// Typed, checked access to the tables of a parsed TOML document. Internal to config/ and
// included only by parse.cpp, so that toml++ (slow to compile) stays in one translation unit.
#pragma once

#include <config/config.hpp>
#include <config/text.hpp>

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace concierge::config::detail {

using text::quote;

// A string from the file with the line it stood on (array elements each have their own).
struct Item {
  std::string value;
  int line = 0;
};

inline int line_of(const toml::source_region& region) {
  return static_cast<int>(region.begin.line);
}

inline std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Collects every problem found in one file.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }
  void add(int line, std::string key, std::string message) {
    errors_.push_back(Error{Origin{file_, line}, std::move(key), std::move(message)});
  }
  bool empty() const { return errors_.empty(); }
  // In file order; problems of the file as a whole (line 0) last.
  std::vector<Error> sorted() && {
    std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
      return std::pair(a.origin.line == 0, a.origin.line) <
             std::pair(b.origin.line == 0, b.origin.line);
    });
    return std::move(errors_);
  }

 private:
  std::string file_;
  std::vector<Error> errors_;
};

// Reads the keys of one table by name. Each getter leaves `out` untouched and returns false
// when the key is absent or its value unusable (the problem is then recorded); finish()
// reports every key no getter asked for. A null table reads as an empty one, so an absent
// section yields its defaults.
class TableReader {
 public:
  TableReader(Problems& problems, const toml::table* table, std::string path)
      : problems_(problems), table_(table), path_(std::move(path)) {}

  // The value of `key` when it has type T; null (and a recorded problem) when it has another.
  template <class T>
  auto typed(std::string_view key, std::string_view expected)
      -> decltype(std::declval<const toml::node&>().template as<T>()) {
    const toml::node* node = find(key);
    if (!node) return nullptr;
    if (const auto* value = node->as<T>()) return value;
    error(key, "expected " + std::string(expected) + ", got " + type_name(*node));
    return nullptr;
  }

  bool present(std::string_view key) const { return table_ && table_->contains(key); }
  std::string path(std::string_view key) const { return text::key_path(path_, key); }
  int line() const { return table_ ? line_of(table_->source()) : 0; }

  // The line of `key` itself; the table's line when the key is absent.
  int key_line(std::string_view key) const {
    if (table_) {
      if (auto it = table_->find(key); it != table_->end()) return line_of(it->first.source());
    }
    return line();
  }
  void error(std::string_view key, std::string message) {
    problems_.add(key_line(key), path(key), std::move(message));
  }
  void missing(std::string_view key, std::string message = "required key is missing") {
    problems_.add(line(), path(key), std::move(message));
  }

  const toml::table* table(std::string_view key) {
    const toml::node* node = find(key);
    if (!node) return nullptr;
    if (const toml::table* table = node->as_table()) return table;
    error(key, "expected a table, got " + type_name(*node));
    return nullptr;
  }

  bool read(std::string_view key, std::string& out) {
    if (const auto* value = typed<std::string>(key, "a string")) {
      out = value->get();
      return true;
    }
    return false;
  }

  bool read_nonempty(std::string_view key, std::string& out) {
    std::string value;
    if (!read(key, value)) return false;
    if (value.empty()) {
      error(key, "must not be empty");
      return false;
    }
    out = std::move(value);
    return true;
  }

  bool read(std::string_view key, bool& out) {
    if (const auto* value = typed<bool>(key, "a boolean")) {
      out = value->get();
      return true;
    }
    return false;
  }

  template <class Int>
  bool read(std::string_view key, Int& out, std::int64_t min,
            std::int64_t max = std::numeric_limits<Int>::max()) {
    const auto* value = typed<std::int64_t>(key, "an integer");
    if (!value) return false;
    const std::int64_t number = value->get();
    if (number < min || number > max) {
      std::string expected;
      if (max < std::numeric_limits<int>::max()) {  // a real range, like a port
        expected = "must be between " + std::to_string(min) + " and " + std::to_string(max);
      } else if (number < min) {
        expected = min == 1 ? "must be > 0" : "must be >= " + std::to_string(min);
      } else {
        expected = "must be at most " + std::to_string(max);
      }
      error(key, expected + ", got " + std::to_string(number));
      return false;
    }
    out = static_cast<Int>(number);
    return true;
  }

  bool read(std::string_view key, std::chrono::seconds& out, bool must_be_positive) {
    const auto* value = typed<std::string>(key, "a duration string like \"10m\"");
    if (!value) return false;
    const std::optional<std::chrono::seconds> duration = parse_duration(value->get());
    if (!duration) {
      error(key, "not a duration: " + quote(value->get()) +
                     " (an integer and s, m, h or d, like \"90s\", \"10m\", \"2h\", \"14d\")");
      return false;
    }
    if (must_be_positive && duration->count() == 0) {
      error(key, "must be > 0, got " + quote(value->get()));
      return false;
    }
    out = *duration;
    return true;
  }

  // An array of strings, each with its own line.
  bool read(std::string_view key, std::vector<Item>& out) {
    const auto* array = typed<toml::array>(key, "an array of strings");
    if (!array) return false;
    std::vector<Item> items;
    bool ok = true;
    for (const toml::node& element : *array) {
      if (const auto* value = element.as_string()) {
        items.push_back(Item{value->get(), line_of(element.source())});
      } else {
        problems_.add(line_of(element.source()), path(key),
                      "expected a string in the array, got " + type_name(element));
        ok = false;
      }
    }
    if (ok) out = std::move(items);
    return ok;
  }

  template <class Enum>
  bool read(std::string_view key, Enum& out,
            std::initializer_list<std::pair<std::string_view, Enum>> choices) {
    std::string name;
    if (!read(key, name)) return false;
    std::string expected = "must be ";
    std::size_t index = 0;
    for (const auto& [choice, value] : choices) {
      if (choice == name) {
        out = value;
        return true;
      }
      if (index > 0) expected += index + 1 == choices.size() ? " or " : ", ";
      expected += quote(choice);
      ++index;
    }
    error(key, expected + ", got " + quote(name));
    return false;
  }

  // Reports every key of the table that no getter asked for.
  void finish() {
    if (!table_) return;
    for (const auto& [key, node] : *table_) {
      if (known_.count(key.str())) continue;
      const bool section = path_.empty() && node.is_table();
      problems_.add(line_of(key.source()), path(key.str()),
                    section ? "unknown section" : "unknown key");
    }
  }

 private:
  const toml::node* find(std::string_view key) {
    known_.emplace(key);
    return table_ ? table_->get(key) : nullptr;
  }

  Problems& problems_;
  const toml::table* table_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace concierge::config::detail
