// SPDX-License-Identifier: MIT
// The config from a stream or a file: reading the bytes and reporting what stops it. What the
// text means is parse.cpp's (the only place that sees TOML), or plain_users.cpp's for the plain
// [users] tables of a large file.
#include <config/config.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <config/plain_users.hpp>
#include <config/values.hpp>

namespace concierge::config {

using detail::file_error;

ParseResult parse(std::string_view text, std::string_view file) {
  try {
    if (std::optional<Config> config = detail::parse_plain(text, file)) return std::move(*config);
  } catch (...) {  // out of memory, say: reading the whole file reports it
  }
  return detail::parse_whole(text, file);
}

ParseResult parse(std::istream& in, std::string_view file) {
  try {
    std::string content;
    std::vector<char> buffer(1 << 16);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      content.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
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
