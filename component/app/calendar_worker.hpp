// SPDX-License-Identifier: MIT
#pragma once
// The calendar worker: a reused child process that compiles calendars (ical::compile) under
// limits, so that a hostile calendar cannot hang, crash or exhaust Concierge. libical 3.0.16 has
// no iteration limit and a hang inside it cannot be interrupted in-process.
//
// The child is forked when the worker is created (and again right after one dies), so it shares
// the zones resolved so far — resolve the zones you know on the main thread first — and must be
// created while the process is single-threaded: a fork from a multi-threaded process copies only
// the calling thread. The child runs one job at a time with:
//   - RLIMIT_AS: its size at start + `memory_bytes` (not in sanitizer builds: ASan cannot start
//     under an address-space limit);
//   - RLIMIT_CPU: `cpu_seconds` more than it had used when the job started (SIGXCPU ends it);
//   - the wall clock: the parent kills it at deadline().
// A child that dies or overruns is reaped and replaced; the job gets a user-readable error. A child
// that died while idle is replaced at the next start(); one that dies just as a job is sent makes
// that job fail with "the worker stopped" — the caller may retry once.
//
// Event-loop use (one job at a time):
//   worker.start(request);                 // sends the job
//   poll() fd() for POLLIN, with a timeout up to deadline();
//   if (auto done = worker.collect()) …    // the outcome, once readable or past the deadline
// Blocking use (the CLI): worker.compile(request).
#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <ical/compile.hpp>

namespace concierge::app {

struct CalendarWorkerLimits {
  std::size_t memory_bytes = 256u << 20;         // address space a job may add (256 MiB)
  int cpu_seconds = 2;                           // CPU time per job
  std::chrono::milliseconds wall_timeout{1000};  // wall-clock time per job
};

class CalendarWorker {
 public:
  using Outcome = ical::Result<ical::Schedule>;
  using Clock = std::chrono::steady_clock;

  explicit CalendarWorker(CalendarWorkerLimits limits = {});
  ~CalendarWorker();  // kills and reaps the child
  CalendarWorker(const CalendarWorker&) = delete;
  CalendarWorker& operator=(const CalendarWorker&) = delete;

  // Sends a job. False when a job is already running or no child could be started (then
  // collect() reports nothing; call compile() or retry later).
  bool start(const ical::CompileRequest& request);
  bool busy() const { return busy_; }
  // Readable when the running job's answer (or the child's death) is there; -1 without a child.
  int fd() const { return fd_; }
  // When the running job is given up.
  Clock::time_point deadline() const { return deadline_; }
  // Reads what is there without blocking. Returns the outcome when the job finished, failed or
  // ran past deadline() (measured against `now`); nullopt while it is still running.
  std::optional<Outcome> collect(Clock::time_point now = Clock::now());

  // start() + wait: the outcome within wall_timeout (plus the time to send the request).
  Outcome compile(const ical::CompileRequest& request);

  // How many times a child was replaced after dying or overrunning.
  int restarts() const { return restarts_; }
  pid_t child_pid() const { return pid_; }

 private:
  bool spawn();
  void stop_child();
  Outcome fail_and_restart(const std::string& reason);

  CalendarWorkerLimits limits_;
  pid_t pid_ = -1;
  int fd_ = -1;
  bool busy_ = false;
  Clock::time_point deadline_{};
  std::string inbox_;
  int restarts_ = 0;
};

// Serialization of requests and answers between the processes (exposed for tests).
std::string encode_request(const ical::CompileRequest& request);
std::optional<ical::CompileRequest> decode_request(std::string_view bytes);

}  // namespace concierge::app
