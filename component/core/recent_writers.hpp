// SPDX-License-Identifier: MIT
#pragma once
// RecentWriters: who wrote to whom through Concierge within idle_after, and from which resource.
// The first lets a non-enrolled user be answered while the conversation lasts (DESIGN §2 first
// row); the second lets a server's bounce reach the resource that sent the message (servers
// drop errors addressed to a bare JID). Owns only that table — one entry per pair that spoke
// within idle_after, bounded by conversations, not by messages — and, once keep_in() names a
// store, its rows there (Remembered::Kind::recent_write) so that a takeover keeps them (DESIGN
// §10); it must not touch sessions, presence, holds or stanzas.

#include <optional>
#include <string>
#include <unordered_map>

#include <component/core/store_port.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

class RecentWriters {
 public:
  explicit RecentWriters(Duration idle_after) : idle_after_(idle_after) {}
  void set_idle_after(Duration idle_after) { idle_after_ = idle_after; }
  // From now on, every change is written to `store` (which must outlive this). A pair's row is
  // rewritten when its full JID changes, but its time only every idle_after / 8 of writing (not
  // on every message): after a takeover a pair may go idle up to idle_after / 8 early.
  void keep_in(Store& store) { store_ = &store; }
  // A pair as keep_in() wrote it (a row of Kind::recent_write); one past idle_after is
  // forgotten, with its row, by the next forget_idle().
  void restore(const Remembered& row);

  // `writer` (bare; `writer_full` its full JID, or empty without a resource) wrote to `reader`.
  void wrote(const std::string& writer, const std::string& reader, const std::string& writer_full,
             Instant now);
  // `writer` wrote to `reader` within idle_after of `now`.
  bool wrote_recently(const std::string& writer, const std::string& reader, Instant now) const;
  // The full JID `writer` last wrote to `reader` from; empty when unknown.
  std::string writer_full(const std::string& writer, const std::string& reader) const;
  // Forgets pairs silent for longer than idle_after.
  void forget_idle(Instant now);

 private:
  struct Pair {
    Instant last_written;
    std::string writer_full;  // the writer's full JID, when it had a resource
    std::optional<Instant> kept;  // the time written to the store (none yet)
  };
  // "writer\nreader" (bare JIDs): no bare JID contains a line break.
  static std::string key(const std::string& writer, const std::string& reader) {
    std::string key;
    key.reserve(writer.size() + reader.size() + 1);
    return key.append(writer).append(1, '\n').append(reader);
  }

  Duration idle_after_;
  Store* store_ = nullptr;
  std::unordered_map<std::string, Pair> pairs_;
};

}  // namespace concierge::core
