// SPDX-License-Identifier: MIT
// What store_bench measures of its own process (CPU time, resident memory) and the temp
// directory its SQLite files live in. Owns nothing else; knows nothing of the stores.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <malloc.h>
#include <stdlib.h>
#include <time.h>

namespace concierge::bench {

// CPU time of this (single-threaded) process: on a machine shared with other work, wall time
// also counts the time the scheduler gave to others.
inline double cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// This process's resident memory in MiB: "VmRSS" now, "VmHWM" at its peak since the last
// reset_peak(). That first gives the heap's free memory back to the system (malloc_trim: else
// the next work reuses what the last one freed, and its growth shows only in part), then
// resets the peak to the current size (Linux: writing 5 to clear_refs).
inline double status_mib(const std::string& key) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(key + ":")) return std::atof(line.c_str() + key.size() + 1) / 1024;
  }
  return 0;
}
inline void reset_peak() {
  ::malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

// A fresh directory, removed with everything in it (also when the benchmark exits early
// through a failure: only then is it left behind, and its path is printed).
class TempDir {
 public:
  explicit TempDir(const std::string& parent) {
    std::string name = parent + "/concierge-store-bench-XXXXXX";
    if (::mkdtemp(name.data()) != nullptr) path_ = name;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace concierge::bench
