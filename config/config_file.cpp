// SPDX-License-Identifier: MIT
// The config from a stream or a file: reading the bytes and reporting what stops it. What the
// text means is parse.cpp's (the only place that sees TOML).
#include <config/config.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <config/values.hpp>

namespace concierge::config {

using detail::file_error;

ParseResult parse(std::istream& in, std::string_view file) {
  try {
    std::string content;
    char buffer[4096];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      content.append(buffer, static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) return file_error(file, "cannot read the file");
    return parse(content, file);
  } catch (...) {
    return file_error(file, "cannot read the file");
  }
}

ParseResult parse_file(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) return file_error(path, "is a directory");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return file_error(
        path, std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  return parse(in, path);
}

}  // namespace concierge::config
