// SPDX-License-Identifier: MIT
#include <component/app/calendar_file.hpp>

#include <fstream>

namespace concierge::app {

bool read_calendar_file(const std::string& path, std::size_t max_bytes, std::string& text,
                        std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  text.assign(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    error = path + ": the calendar is too large (more than " + std::to_string(max_bytes / 1000) +
            " kB)";
    return false;
  }
  return true;
}

}  // namespace concierge::app
