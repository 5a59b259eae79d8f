// SPDX-License-Identifier: MIT
#include <component/app/calendar_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace concierge::app {
namespace {

// What a file that is not a regular one is, in words.
std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is not a regular file (a FIFO)";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "is not a regular file (a device)";
  if (S_ISSOCK(mode)) return "is not a regular file (a socket)";
  return "is not a regular file";
}

std::string obstacle_of(const std::string& path, const struct stat& st) {
  return S_ISREG(st.st_mode) ? std::string() : path + " " + kind_of(st.st_mode);
}

}  // namespace

std::string calendar_file_obstacle(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return "no such calendar file: " + path;
    return "cannot read " + path + ": " + std::strerror(errno);
  }
  return obstacle_of(path, st);
}

bool read_calendar_file(const std::string& path, std::size_t max_bytes, std::string& text,
                        std::string& error) {
  // O_NONBLOCK: opening a FIFO without a writer would otherwise wait for one. What was opened
  // is checked before it is read (the path may have changed since any earlier look).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int open_errno = errno;
    error = calendar_file_obstacle(path);
    if (error.empty()) error = "cannot open " + path + ": " + std::strerror(open_errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (error = obstacle_of(path, st); !error.empty()) {
    ::close(fd);
    return false;
  }
  text.assign(max_bytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read " + path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  if (text.size() > max_bytes) {
    error = path + ": the calendar is too large (more than " + std::to_string(max_bytes / 1000) +
            " kB)";
    return false;
  }
  return true;
}

}  // namespace concierge::app
