// SPDX-License-Identifier: MIT
#include <component/core/recent_writers.hpp>

#include <iterator>

namespace concierge::core {

void RecentWriters::wrote(const std::string& writer, const std::string& reader,
                          const std::string& writer_full, Instant now) {
  Pair& pair = pairs_[key(writer, reader)];
  pair.last_written = now;
  if (!writer_full.empty()) pair.writer_full = writer_full;
}

bool RecentWriters::wrote_recently(const std::string& writer, const std::string& reader,
                                   Instant now) const {
  auto it = pairs_.find(key(writer, reader));
  return it != pairs_.end() && now - it->second.last_written <= idle_after_;
}

std::string RecentWriters::writer_full(const std::string& writer,
                                       const std::string& reader) const {
  auto it = pairs_.find(key(writer, reader));
  return it == pairs_.end() ? std::string() : it->second.writer_full;
}

void RecentWriters::forget_idle(Instant now) {
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    it = now - it->second.last_written > idle_after_ ? pairs_.erase(it) : std::next(it);
  }
}

}  // namespace concierge::core
