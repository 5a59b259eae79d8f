// SPDX-License-Identifier: MIT
#pragma once
// EventLoop: the loop's own descriptors (DESIGN §8) — a signalfd for SIGTERM, SIGINT and SIGHUP
// and an eventfd other threads write to wake the loop — and the one poll() a turn waits in.
// Owns: those two descriptors. Must not touch: what the other descriptors it polls belong to,
// nor decide anything about a signal (the caller does: stop or reload).

#include <poll.h>

#include <chrono>
#include <vector>

namespace concierge::app {

class EventLoop {
 public:
  // SIGTERM, SIGINT and SIGHUP are blocked in the calling thread (call before any thread
  // starts, so every thread inherits the mask) and delivered through the signalfd; SIGPIPE is
  // ignored.
  static void block_signals();

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Both descriptors were created (else errno says why).
  bool ready() const { return signal_fd_ >= 0 && wake_fd_ >= 0; }
  // Thread-safe: the current or next wait() returns at once.
  void wake();

  struct Woken {
    bool failed = false;       // poll() failed (errno), not merely interrupted
    std::vector<int> signals;  // SIGTERM, SIGINT or SIGHUP, in the order they came
  };
  // Waits at most `timeout` for the signalfd, the eventfd or one of `fds` (whose revents it
  // sets); reads the signals that came and resets the eventfd.
  Woken wait(std::vector<pollfd>& fds, std::chrono::milliseconds timeout);

 private:
  int signal_fd_ = -1;
  int wake_fd_ = -1;
};

}  // namespace concierge::app
