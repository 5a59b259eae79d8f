// SPDX-License-Identifier: MIT
// Schedule benchmarks (DESIGN §9), all in one run:
//   1. status_at on a compiled typical calendar vs naive per-query expansion with libical;
//   2. compiling N typical calendars (default 10 000), in-process and through the calendar worker;
//   3. bytes per compiled 60-day schedule;
//   4. parse + compile of the corpora's libical/large.ics.
// Usage: schedule_bench [--calendars N]
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <libical/ical.h>

#include <component/app/calendar_worker.hpp>
#include <ical/compile.hpp>
#include <ical/zone.hpp>

#include "typical_calendar.hpp"

namespace {

using namespace concierge;
using Clock = std::chrono::steady_clock;

constexpr ical::UtcSeconds kNow = 1774742400;  // 2026-03-29T00:00:00Z
const std::int64_t kToday = kNow / ical::kSecondsPerDay;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds of this process: less disturbed than the wall clock by other work on the machine.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// utime + stime of another process (the worker child), in seconds; 10 ms ticks.
double process_cpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state … cmajflt
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

ical::CompileRequest typical_request(std::uint32_t seed) {
  ical::CompileRequest r;
  r.calendar = bench::typical_calendar(seed, kToday);
  r.zone = "Europe/Berlin";
  r.hours = "Mon-Fri 09:00-12:00, 13:00-17:00";
  ical::set_window_around(r, kNow);
  return r;
}

// The naive way: expand every event's recurrences at query time (libical), one query at a time.
ical::Status naive_status(icalcomponent* calendar, ical::UtcSeconds t) {
  bool busy = false;
  icaltimetype start = icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
  icaltimetype end = icaltime_from_timet_with_zone(t + 1, 0, icaltimezone_get_utc_timezone());
  for (icalcomponent* e = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
       e != nullptr; e = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
    icalcomponent_foreach_recurrence(
        e, start, end,
        [](icalcomponent*, icaltime_span*, void* d) { *static_cast<bool*>(d) = true; }, &busy);
  }
  return busy ? ical::Status::working : ical::Status::off_hours;
}

void bench_status_at() {
  auto request = typical_request(1);
  auto compiled = ical::compile(request);
  if (!compiled) {
    std::fprintf(stderr, "typical calendar failed: %s\n", compiled.error().c_str());
    std::exit(1);
  }
  const ical::Schedule& s = compiled.value();
  std::mt19937_64 rng(7);
  std::vector<ical::UtcSeconds> queries(1 << 16);
  for (auto& q : queries) {
    q = s.window_from() + static_cast<ical::UtcSeconds>(
                              rng() % static_cast<std::uint64_t>(s.window_to() - s.window_from()));
  }
  constexpr int kRounds = 200;
  unsigned sink = 0;
  auto t0 = Clock::now();
  for (int round = 0; round < kRounds; ++round) {
    for (auto q : queries) sink += static_cast<unsigned>(s.status_at(q));
  }
  const double fast_ns = seconds_since(t0) * 1e9 / (kRounds * static_cast<double>(queries.size()));
  t0 = Clock::now();
  std::size_t next = 0;
  for (int round = 0; round < 20; ++round) {
    for (auto q : queries) next += s.next_working_after(q).value_or(0) != 0 ? 1 : 0;
  }
  const double next_ns = seconds_since(t0) * 1e9 / (20 * static_cast<double>(queries.size()));

  icalerror_set_errors_are_fatal(0);
  icalcomponent* cal = icalparser_parse_string(request.calendar.c_str());
  constexpr std::size_t kNaive = 200;
  t0 = Clock::now();
  for (std::size_t i = 0; i < kNaive; ++i)
    sink += static_cast<unsigned>(naive_status(cal, queries[i]));
  const double naive_ns = seconds_since(t0) * 1e9 / kNaive;
  icalcomponent_free(cal);
  std::printf(
      "status_at: %.1f ns/op (next_working_after %.1f ns/op); naive libical expansion per "
      "query: %.0f ns/op (%.0fx slower)  [sink %u %zu]\n",
      fast_ns, next_ns, naive_ns, naive_ns / fast_ns, sink, next);
  std::printf("compiled typical schedule: %zu intervals, %zu bytes\n", s.interval_count(),
              s.memory_bytes());
}

void bench_compile(int count) {
  std::size_t bytes = 0, max_bytes = 0, total_input = 0, failures = 0;
  double seconds = 0, cpu = 0;
  for (int i = 0; i < count; ++i) {
    auto r = typical_request(static_cast<std::uint32_t>(1000 + i));
    total_input += r.calendar.size();
    const auto t0 = Clock::now();
    const double c0 = cpu_now();
    auto s = ical::compile(r);
    cpu += cpu_now() - c0;
    seconds += seconds_since(t0);
    if (!s) {
      ++failures;
      continue;
    }
    bytes += s->memory_bytes();
    max_bytes = std::max(max_bytes, s->memory_bytes());
  }
  std::printf(
      "compile in-process: %d typical calendars (avg %.1f KB) in %.2f s wall, %.2f s CPU "
      "(%.0f us CPU each), %zu failures; schedule bytes avg %zu, max %zu\n",
      count, total_input / 1000.0 / count, seconds, cpu, cpu * 1e6 / count, failures,
      bytes / static_cast<std::size_t>(count), max_bytes);

  app::CalendarWorker worker;  // the production limits: 256 MiB, 2 s CPU, 1 s wall clock
  seconds = 0;
  cpu = 0;
  failures = 0;
  const double child_before = process_cpu(worker.child_pid());
  for (int i = 0; i < count; ++i) {
    auto r = typical_request(static_cast<std::uint32_t>(1000 + i));
    const auto t0 = Clock::now();
    const double c0 = cpu_now();
    auto s = worker.compile(r);
    cpu += cpu_now() - c0;
    seconds += seconds_since(t0);
    failures += s.ok() ? 0 : 1;
  }
  const double child = process_cpu(worker.child_pid()) - child_before;
  std::printf(
      "compile via worker: %d typical calendars in %.2f s wall (%.0f us each); CPU %.2f s "
      "in the worker + %.2f s in the caller = %.2f s; %zu failures, %d restarts",
      count, seconds, seconds * 1e6 / count, child, cpu, child + cpu, failures, worker.restarts());
  std::printf("\n");
}

void bench_large() {
  std::ifstream in(std::string(CONCIERGE_CORPORA_DIR) + "/libical/large.ics", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  ical::CompileRequest r;
  r.calendar = ss.str();
  r.zone = "Europe/Berlin";
  ical::set_window_around(r, kNow);
  const auto t0 = Clock::now();
  auto s = ical::compile(r);
  const double t = seconds_since(t0);
  app::CalendarWorker worker(app::CalendarWorkerLimits{256u << 20, 5, std::chrono::seconds(10)});
  const auto t1 = Clock::now();
  auto w = worker.compile(r);
  const double tw = seconds_since(t1);
  std::printf("large.ics (%zu KB): parse+compile %.1f ms in-process, %.1f ms via worker; %s\n",
              r.calendar.size() / 1000, t * 1e3, tw * 1e3,
              s ? ("ok, " + std::to_string(s->interval_count()) + " intervals, " +
                   std::to_string(s->warnings().size()) + " warnings")
                      .c_str()
                : s.error().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  int count = 10000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--calendars") == 0) count = std::max(1, std::atoi(argv[i + 1]));
  }
  // Zones are resolved once on the main thread, before the worker forks (as the app does).
  ical::find_zone("Europe/Berlin");
  ical::find_zone("America/New_York");
  bench_status_at();
  bench_large();
  bench_compile(count);
  return 0;
}
