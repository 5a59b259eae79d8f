// SPDX-License-Identifier: MIT
#pragma once
// The text a sender gets when held messages come back undelivered (an unenrolled target, an
// admin's drop): which messages, quoted and shortened.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace concierge::core {

// At most `max` code points of `text` (UTF-8) on one line, with "…" when cut.
std::string shortened(std::string_view text, std::size_t max);

// "Concierge: your message to <who> could not be delivered: <why> You wrote: “text”." — the
// first five texts quoted (60 code points each), "and n more" after them.
std::string bounce_text(const std::string& who, const std::string& why,
                        const std::vector<std::string>& bodies);

}  // namespace concierge::core
