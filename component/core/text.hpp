// SPDX-License-Identifier: MIT
#pragma once
// Small text helpers (case, trimming) for bare JIDs and command words; no state.

#include <algorithm>
#include <string>
#include <string_view>

namespace concierge::core {

// ASCII lower case: the form bare JIDs and command words are compared in. (Servers normalise
// the JIDs they stamp; config entries and typed commands may not be.)
inline std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

// Without leading and trailing white space.
inline std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return std::string(text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1));
}

}  // namespace concierge::core
