// SPDX-License-Identifier: MIT
#pragma once
// Test support: one Service running its loop on its own thread, as the integration tests drive
// it. RunningService owns the Service, its Logger and the log it writes (a memory stream, read
// after the service stopped), and an in-memory store unless the test passes its own. It owns
// neither a store nor a lease keeper the test passes: those must outlive it. Header-only, so
// concierge_support links nothing above xmpp/; the tests that include it link concierge_app.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <component/app/service.hpp>

namespace concierge::testing {

// Reconnects within 50–200 ms and a one-second stop grace: fast enough for tests.
inline app::LoopTimings fast_loop_timings() {
  using namespace std::chrono_literals;
  app::LoopTimings t;
  t.backoff = app::Backoff(50ms, 200ms);
  t.stop_grace = 1000ms;
  return t;
}

class RunningService {
 public:
  // `path` is the config file a reload reads; `lease`, when given, is used before the loop starts.
  RunningService(config::Config config, app::LoopTimings timings, std::string path = "unused.toml",
                 core::Store* store = nullptr, app::LeaseKeeper* lease = nullptr) {
    sink_ = open_memstream(&log_buffer_, &log_size_);
    logger_ = std::make_unique<app::Logger>(app::LogLevel::debug, sink_);
    service_ = std::make_unique<app::Service>(std::move(config), std::move(path),
                                              store ? *store : store_, *logger_, timings);
    if (lease != nullptr) service_->use_lease(*lease);
    result_ = std::async(std::launch::async, [this] { return service_->run(); });
  }
  ~RunningService() {
    if (result_.valid()) {
      service_->request_stop();
      result_.wait();
    }
    std::fclose(sink_);
    std::free(log_buffer_);
  }
  RunningService(const RunningService&) = delete;
  RunningService& operator=(const RunningService&) = delete;

  // False once wait_exit() or stop() has given the exit code.
  bool running() const { return result_.valid(); }
  // The exit code, once run() returned within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (result_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return result_.get();
  }
  // Asks the loop to stop; its exit code, or -1 when it did not stop within 5 s.
  int stop() {
    service_->request_stop();
    return wait_exit(std::chrono::seconds(5)).value_or(-1);
  }
  std::string log() {  // only after the service stopped
    std::fflush(sink_);
    return std::string(log_buffer_, log_size_);
  }

 private:
  char* log_buffer_ = nullptr;
  std::size_t log_size_ = 0;
  std::FILE* sink_ = nullptr;
  core::MemoryStore store_;
  std::unique_ptr<app::Logger> logger_;
  std::unique_ptr<app::Service> service_;
  std::future<int> result_;
};

}  // namespace concierge::testing
