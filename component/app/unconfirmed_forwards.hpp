// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include <component/core/time.hpp>
#include <xmpp/element.hpp>

namespace concierge::app {

// Messages forwarded at once (never stored) that the server has not yet confirmed (DESIGN §6).
// Owns a copy of each until the answer to a ping sent after it arrives (the server processes a
// stream in order: the answer means it took everything before the ping), and hands them out
// again, in order, for a new stream, so a stream cut loses none of them; a resent message
// keeps its original id. Only a crash of Concierge loses what is in here.
//
// Bounded: past `max_count` messages or `max_bytes` of XML the oldest are forgotten (the
// caller logs a warning); that can only happen when the server takes nothing for a long time.
class UnconfirmedForwards {
 public:
  static constexpr std::size_t kDefaultMaxCount = 10000;
  static constexpr std::size_t kDefaultMaxBytes = 16u << 20;

  explicit UnconfirmedForwards(std::size_t max_count = kDefaultMaxCount,
                               std::size_t max_bytes = kDefaultMaxBytes)
      : max_count_(max_count), max_bytes_(max_bytes) {}

  struct Kept {
    xmpp::Element stanza;
    core::Instant received;  // when Concierge received it (a held copy's stamp, DESIGN §6)
  };

  // `stanza` (received at `received`) was just given to the stream. Returns how many of the
  // oldest were forgotten to stay within the bounds.
  std::size_t keep(const xmpp::Element& stanza, core::Instant received = {});
  // A ping with `id` was just given to the stream: its answer confirms what was kept before.
  void ping_sent(const std::string& id);
  // The answer (result or error) to ping `id` arrived; unknown ids are ignored.
  void answered(const std::string& id);
  // The stream is gone: pings in flight will never be answered; everything kept stays.
  void disconnected() { pings_.clear(); }

  // Something kept is not covered by a ping yet, and no ping is in flight: send one.
  bool wants_ping() const { return !kept_.empty() && pings_.empty() && pinged_ < next_seq_ - 1; }
  // After a reconnect: everything unconfirmed, oldest first, handed over and no longer kept —
  // the caller keeps again what it sends again (with its original id), and may hold instead
  // what must not overtake its sender's held messages (Router::hold_behind).
  std::deque<Kept> take_all();

  std::size_t size() const { return kept_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    std::uint64_t seq;
    Kept kept;
    std::size_t bytes;  // its XML's size
  };
  std::size_t max_count_;
  std::size_t max_bytes_;
  std::deque<Entry> kept_;
  std::size_t bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t pinged_ = 0;                  // the last seq some ping sent covers
  std::map<std::string, std::uint64_t> pings_;  // ping id → last seq it confirms
};

}  // namespace concierge::app
