// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: a cheap pass over the raw text before libical sees it — size, nesting,
// component count, completeness — so that hostile input is refused with a clear reason.
#include <optional>
#include <string>
#include <string_view>

#include <ical/compile.hpp>

namespace concierge::ical {

struct Prescan {
  std::size_t components = 0;
  std::string x_wr_timezone;
  // Set when the text must be fixed before libical reads it: a UTF-8 byte-order mark removed,
  // or entries found outside any VCALENDAR (libical's own test data concatenates calendars and
  // bare VEVENTs) gathered into one extra VCALENDAR. Empty: use the text as it is.
  std::string rewritten;
  bool had_bare_components = false;
};

// The reason the text is unusable, or the facts found.
Result<Prescan> prescan(std::string_view text, const CompileLimits& limits);

}  // namespace concierge::ical
