// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>

namespace concierge::app {

// Reads a calendar file (an admin's `calendar` path, or `concierge schedule FILE.ics`) into
// `text`, reading at most max_bytes + 1 bytes: a huge file is refused without being read whole.
// False with `error` naming the path when it cannot be opened or is larger than max_bytes.
bool read_calendar_file(const std::string& path, std::size_t max_bytes, std::string& text,
                        std::string& error);

}  // namespace concierge::app
