// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>

namespace concierge::app {

// Why `path` cannot be read as a calendar file, naming the path and what it is ("… is a
// directory", "… is not a regular file (a FIFO)", "no such calendar file: …"); empty when it is
// a regular file. Looks without opening, so a FIFO never blocks it.
std::string calendar_file_obstacle(const std::string& path);

// Reads a calendar file (an admin's `calendar` path, or `concierge schedule FILE.ics`) into
// `text`, reading at most max_bytes + 1 bytes: a huge file is refused without being read whole.
// False with `error` naming the path when it is not a regular file, cannot be opened or is
// larger than max_bytes. Never blocks on a FIFO or a device that has no writer.
bool read_calendar_file(const std::string& path, std::size_t max_bytes, std::string& text,
                        std::string& error);

}  // namespace concierge::app
