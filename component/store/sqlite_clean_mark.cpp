// SPDX-License-Identifier: MIT
#include <component/store/sqlite_clean_mark.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace concierge::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "concierge clean close v1 ";

std::string mark_path(const std::string& path) {
  return path + "-clean";
}

// The file's size and a 64-bit hash of its bytes (read in 1 MiB pieces; about as fast as the
// disk gives them). Not a cryptographic hash: it detects damage, not an adversary, and a
// change of the standard library's hash only costs one check.
std::optional<std::string> fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<char> piece(1 << 20);
  std::uint64_t hash = 0;
  std::uint64_t size = 0;
  while (in) {
    in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    hash = hash * 0x100000001b3ULL ^ std::hash<std::string_view>{}({piece.data(), got});
    size += got;
  }
  if (in.bad()) return std::nullopt;
  return std::to_string(size) + " " + std::to_string(hash);
}

bool wal_is_empty(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path + "-wal", ec);
  return ec || size == 0;  // no WAL file, or an empty one
}

}  // namespace

bool SqliteCleanMark::take(const std::string& path) {
  std::string recorded;
  {
    std::ifstream in(mark_path(path));
    if (!in) return false;
    std::getline(in, recorded);
  }
  std::error_code ec;
  if (!fs::remove(mark_path(path), ec) || ec) return false;
  if (!recorded.starts_with(kPrefix) || !wal_is_empty(path)) return false;
  const std::optional<std::string> now = fingerprint(path);
  return now && *now == recorded.substr(kPrefix.size());
}

SqliteCleanMark::~SqliteCleanMark() {
  if (path_.empty() || !wal_is_empty(path_)) return;
  const std::optional<std::string> now = fingerprint(path_);
  if (!now) return;
  // Written whole under another name first: a torn mark must not be read as one.
  const std::string temporary = mark_path(path_) + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << kPrefix << *now << '\n';
    if (!out.flush()) return;
  }
  std::error_code ec;
  fs::rename(temporary, mark_path(path_), ec);
  if (ec) fs::remove(temporary, ec);
}

}  // namespace concierge::store
