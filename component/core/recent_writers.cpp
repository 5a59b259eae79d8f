// SPDX-License-Identifier: MIT
#include <component/core/recent_writers.hpp>

namespace concierge::core {

void RecentWriters::wrote(const std::string& writer, const std::string& reader,
                          const std::string& writer_full, Instant now) {
  Pair& pair = pairs_[key(writer, reader)];
  pair.last_written = now;
  const bool resource_changed = !writer_full.empty() && writer_full != pair.writer_full;
  if (resource_changed) pair.writer_full = writer_full;
  if (store_ == nullptr) return;
  if (!resource_changed && pair.kept && now - *pair.kept < idle_after_ / 8) return;
  store_->remember({.kind = Remembered::Kind::recent_write,
                    .a = writer,
                    .b = reader,
                    .detail = pair.writer_full,
                    .number = 0,
                    .at = now});
  pair.kept = now;
}

void RecentWriters::restore(const Remembered& row) {
  auto [it, added] = pairs_.try_emplace(key(row.a, row.b));
  if (!added) return;
  it->second = {.last_written = row.at, .writer_full = row.detail, .kept = row.at};
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
    if (now - it->second.last_written <= idle_after_) {
      ++it;
      continue;
    }
    if (store_ != nullptr) {
      const auto newline = it->first.find('\n');
      store_->forget(Remembered::Kind::recent_write, it->first.substr(0, newline),
                     it->first.substr(newline + 1));
    }
    it = pairs_.erase(it);
  }
}

}  // namespace concierge::core
