// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <component/app/lease_term.hpp>
#include <component/store/lease_backend.hpp>

namespace concierge::app {

// Keeps the store's lease on a thread of its own (DESIGN §10): about every second it renews the
// lease while it holds one and tries to acquire it otherwise, so that neither a slow database
// nor the loop's own work delays the other. The loop reads state() and decides: an epoch held
// now → active; none → standby (service_lease.cpp).
//
// The backend is used only from the keeper's thread once start() ran. Not copyable.
class LeaseKeeper {
 public:
  using Clock = LeaseTerm::Clock;

  // What the keeper knows, as of its last request.
  struct State {
    std::int64_t epoch = 0;             // the epoch held (0: none); see valid_until
    Clock::time_point valid_until{};    // the epoch may be used until then (monotonic)
    std::string holder;                 // the other instance holding the lease, when known
    std::string problem;                // why the database did not answer; empty when it did
    std::optional<std::int64_t> held(Clock::time_point now) const {
      if (epoch == 0 || now >= valid_until) return std::nullopt;
      return epoch;
    }
  };

  // `holder` names this instance in the lease row (make_holder_name()).
  LeaseKeeper(std::unique_ptr<store::LeaseBackend> backend, std::string holder,
              LeaseTimings timings = {});
  ~LeaseKeeper();  // stops the thread; the lease, if held, runs out by itself
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Starts the thread. `changed` is called from it whenever state() changes (a grant, a loss,
  // the database going away or coming back); it must be cheap and thread-safe (the loop's
  // eventfd).
  void start(std::function<void()> changed);
  State state() const;
  const std::string& holder() const { return holder_; }
  const LeaseTimings& timings() const { return timings_; }

  // Stops the thread and ends the lease now if it is held, so that a standby takes over at
  // once: call after the store's last commit (a clean stop).
  void release();

  // This instance's name in the lease row: host name, process id and a random part (a restarted
  // process is another holder and waits for the old term to run out).
  static std::string make_holder_name();

 private:
  void run();

  std::unique_ptr<store::LeaseBackend> backend_;
  const std::string holder_;
  const LeaseTimings timings_;
  LeaseTerm term_;  // the keeper's thread only
  std::function<void()> changed_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  State state_;
  std::thread thread_;
};

}  // namespace concierge::app
