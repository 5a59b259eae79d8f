// SPDX-License-Identifier: MIT
#pragma once
// Calendars: users' schedules on their way from their sources to the core (DESIGN §5) —
// schedule URLs fetched (ScheduleFetcher, libcurl) and re-fetched when due, calendars compiled
// in the calendar worker one at a time, equal schedules shared (ScheduleCache), the outcome
// handed to the router (schedule_compiled / schedule_failed), and one log line per batch.
// Owns: each user's URL state (bodies, validators, retry times), the compile queue, the
// worker, the fetcher and the cache. Must not touch: the stream, the store, signals or the
// loop's other timers; it reaches the core only through the Router's schedule_* calls, whose
// outbox it hands to `flush`.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <component/app/calendar_worker.hpp>
#include <component/app/logger.hpp>
#include <component/app/schedule_cache.hpp>
#include <component/app/schedule_fetcher.hpp>
#include <component/core/outbox.hpp>
#include <component/core/router.hpp>
#include <config/config.hpp>

namespace concierge::app {

class Calendars {
 public:
  using Clock = std::chrono::steady_clock;
  // `config` (re-assigned on reload), `router`, `log` and `outbox` must outlive this;
  // `flush` sends what the router put into `outbox`.
  Calendars(const config::Config& config, core::Router& router, Logger& log,
            core::Outbox& outbox, std::function<void(core::Outbox&)> flush);
  Calendars(const Calendars&) = delete;
  Calendars& operator=(const Calendars&) = delete;

  // Forks the calendar worker: call while the process has no other thread.
  void start_worker();
  // [schedule] was reloaded: the fetcher's limits apply to the next fetch.
  void reconfigure();
  // Every enrolled user's schedule, compiled again from what is at hand (the window rolls
  // daily); `refetch` also asks every URL again now (startup, reload).
  void queue_all(bool refetch);
  // Something of `jid`'s schedule changed (a setting, a calendar, a reload): compile it again
  // from what is at hand, and fetch a new or uncached URL — or, with `refetch`, any URL — now.
  void update(const std::string& jid, bool refetch);

  // The loop, each turn: compile_next() before polling; the fetcher's descriptors and
  // worker_fd() are polled; then collect_fetches() and turn().
  void compile_next();
  ScheduleFetcher& fetcher() { return fetcher_; }
  int worker_fd() const;  // -1 while nothing compiles
  void collect_fetches(Clock::time_point now);
  // Collects a compile, queues schedules (`all_now`: every one, fetching every URL again;
  // `daily`: every one once a day; `none`: not yet, startup has not come to it), and fetches
  // what is due.
  enum class Queue { none, all_now, daily };
  void turn(Clock::time_point now, Queue queue);
  // When turn() or compile_next() has work next; nullopt: nothing pending.
  std::optional<Clock::time_point> next_due(Clock::time_point now) const;
  // Users whose calendar URL failed its last fetch (for the metrics).
  std::size_t failing_urls() const;

  // A standby (DESIGN §10) keeps every user's schedule as applied, for the router a takeover
  // builds: `jid`'s, if it was compiled from `source`; else nullptr.
  void keep_applied() { keep_applied_ = true; }
  std::shared_ptr<const ical::Schedule> kept(const std::string& jid,
                                             const core::ScheduleSource& source) const;

 private:
  struct CalendarState;
  void queue_compile(const std::string& jid);
  void start_fetch(const std::string& jid, CalendarState& state, const std::string& url,
                   bool conditional);
  void fetch_due(Clock::time_point now);
  void compile_one();
  void collect_schedule(Clock::time_point now);
  // `schedule` is `jid`'s now (compiled in the worker, or shared with an equal source).
  void applied(const std::string& jid, const core::ScheduleSource& source,
               std::shared_ptr<const ical::Schedule> schedule, bool compiled);
  // Once the queue and the worker are empty: one log line for the batch.
  void finish_compile_batch();
  std::string applied_line() const;  // "schedule of … compiled: …" for the last one applied

  struct Kept {
    core::ScheduleSource source;
    std::shared_ptr<const ical::Schedule> schedule;
  };
  bool keep_applied_ = false;
  std::unordered_map<std::string, Kept> kept_;  // by bare JID, when keep_applied_

  const config::Config& config_;
  core::Router& router_;
  Logger& log_;
  core::Outbox& outbox_;
  std::function<void(core::Outbox&)> flush_;
  std::unique_ptr<CalendarWorker> worker_;
  ScheduleFetcher fetcher_;
  // What Concierge knows of each user's schedule URL.
  struct CalendarState {
    std::string url;       // the URL `text` came from
    std::string text;      // its last body that compiled (what a daily recompile uses)
    std::string fresh_url;  // where `fresh` came from (a new URL, or `url` again)
    std::string fresh;     // a newer body, compiling; it replaces `text` only if it compiles
    Validators validators;        // of `text`: conditional requests ask about the good body
    Validators fresh_validators;  // of `fresh`, taken over when it compiles
    std::string fetching;  // the URL in flight, if any
    std::optional<std::chrono::seconds> hint;
    int failures = 0;      // consecutive
    Clock::time_point next_fetch{};
  };
  std::map<std::string, CalendarState> calendars_;  // by bare JID
  Clock::time_point next_fetch_scan_{};
  std::deque<std::string> compile_queue_;  // bare JIDs
  std::unordered_set<std::string> queued_;  // what compile_queue_ holds (each user once)
  Clock::time_point next_compile_try_{};
  std::string compiling_;                  // the user whose schedule is in the worker
  core::ScheduleSource compiling_source_;  // what it was compiled from
  std::string compiling_calendar_;         // the URL body being compiled, if any
  ical::CompileRequest compiling_request_;  // what the worker got (the cache's key)
  ScheduleCache schedule_cache_;
  // Schedules applied since the queue was last empty: logged as one line when it empties.
  struct CompileBatch {
    std::optional<Clock::time_point> started;
    std::size_t users = 0;     // schedules applied
    std::size_t distinct = 0;  // of them compiled in the worker (the rest shared)
    std::string last_jid;      // the last user applied, named alone for a batch of one
    std::size_t last_changes = 0;  // and their schedule's changes in the window
  };
  CompileBatch batch_;
  Clock::time_point next_recompile_{};
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace concierge::app
