// SPDX-License-Identifier: MIT
// Startup with many enrolled users (issue 12, "scale on one machine"): how long the real
// Service takes from reading its config (or store) to the completed XEP-0114 handshake with the
// tests' in-process fake server, how long until every user's schedule is compiled, and the
// resident memory it grew by, per user. Each case runs in a child process of its own (a fresh
// heap, so the RSS delta is the case's), bounded by --max-seconds.
//
// Users come from a generated config ([users] with timezone and hours) or from a generated
// store (self-enrolled, with their own hours); the store is a restart's: every user approved
// the presence subscription before. Zones and hours are drawn from 8 × 4 patterns,
// so 32 distinct schedules are shared by all users.
//
// With --postgres the store cases also run on a private PostgreSQL (tests/support/postgres:
// initdb + pg_ctl on loopback, fsync off), a fresh schema per case, beside SQLite.
//
// Usage: startup_bench [--users 10000,100000,1000000] [--source config|store|both]
//                      [--max-seconds 120] [--dir /tmp] [--postgres]
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <component/app/config_check.hpp>
#include <component/app/service.hpp>
#include <component/store/pg_store.hpp>
#include <component/store/sqlite_store.hpp>
#include <tests/support/fake_server.hpp>
#include <tests/support/postgres/pg_server.hpp>

using namespace concierge;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kZones[] = {"Europe/Berlin", "America/New_York",    "Asia/Tokyo",
                                  "Europe/London", "America/Los_Angeles", "Australia/Sydney",
                                  "UTC",           "Asia/Kolkata"};
constexpr const char* kHours[] = {"Mon-Fri 09:00-17:00", "Mon-Fri 08:00-12:00, 13:00-17:00",
                                  "Mon-Thu 07:30-16:00", "Tue-Sat 10:00-18:00"};

std::string user_jid(int i) {
  return "u" + std::to_string(i) + "@example.org";
}
const char* zone_of(int i) {
  return kZones[i % 8];
}
const char* hours_of(int i) {
  return kHours[(i / 8) % 4];
}

std::string header(const std::string& dir, std::uint16_t port) {
  return "[component]\njid = \"sched.localhost\"\nsecret = \"s3cr3t\"\nport = " +
         std::to_string(port) + "\n\n[served]\ndomains = [\"example.org\"]\n\n[store]\npath = \"" +
         dir + "/concierge.db\"\n\n";
}

void write_config(const std::string& path, const std::string& dir, std::uint16_t port, int users,
                  bool with_users) {
  std::ofstream out(path);
  out << header(dir, port);
  if (!with_users) return;
  for (int i = 0; i < users; ++i) {
    out << "[users.\"" << user_jid(i) << "\"]\ntimezone = \"" << zone_of(i) << "\"\nhours = \""
        << hours_of(i) << "\"\n";
  }
}

// The case's store: the SQLite file `path`, or PostgreSQL at `url` when it is not empty.
std::unique_ptr<core::Store> open_store(const std::string& path, const std::string& url) {
  if (url.empty()) {
    auto opened = store::SqliteStore::open(path);
    auto* store = std::get_if<std::unique_ptr<store::SqliteStore>>(&opened);
    return store ? std::move(*store) : nullptr;
  }
  auto opened = store::PgStore::open(url, test::PgServer::password());
  if (auto* error = std::get_if<std::string>(&opened)) {
    std::fprintf(stderr, "startup_bench: %s\n", error->c_str());
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<store::PgStore>>(opened));
}

// A restart's store: every user was asked for presence and approved it (so each gets our
// presence and a probe after connecting); self-enrolled users also have their enrolment and
// their own hours.
bool write_store(const std::string& path, const std::string& url, int users, bool enrolled) {
  const auto store = open_store(path, url);
  if (!store) return false;
  for (int i = 0; i < users; ++i) {
    const std::string jid = user_jid(i);
    store->put_subscription(core::SubscriptionState{jid, true, true, true});
    if (!enrolled) continue;
    store->put_enrolment(core::Enrolment{jid, zone_of(i), "", core::Instant{}});
    store->put_setting(core::UserSetting{jid, "hours", hours_of(i)});
    if (i % 10000 == 9999 && !store->commit()) return false;
  }
  return store->commit();
}

long rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * sysconf(_SC_PAGESIZE) : 0;
}

double cpu_seconds() {  // of this process, every thread (the fake server's too)
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Reads the service's log lines from a pipe; counts what tells that schedules are compiled.
struct LogWatch {
  std::atomic<bool> summary{false};
  std::atomic<long> per_user{0};
  std::atomic<bool> connected{false};
  std::string summary_line;
  void run(int fd) {
    std::FILE* in = fdopen(fd, "r");
    char line[4096];
    while (std::fgets(line, sizeof line, in)) {
      if (std::strstr(line, "compiled schedules of")) {
        summary_line = line;
        summary = true;
      } else if (std::strstr(line, "schedule of ") && std::strstr(line, " compiled")) {
        ++per_user;
      }
    }
    std::fclose(in);
  }
};

// One case, in the child: prints "RESULT users parse store connect compiled rss_connect
// rss_compiled lines" (seconds, bytes) on stdout.
int run_case(int users, bool from_store, const std::string& url, const std::string& base_dir,
             int max_seconds) {
  std::string dir = base_dir + "/startup-XXXXXX";
  if (!::mkdtemp(dir.data())) return 1;
  const std::string config_path = dir + "/concierge.toml";
  int status = 1;
  {
    testing::FakeServer server("sched.localhost", "s3cr3t");
    write_config(config_path, dir, server.port(), users, !from_store);
    if (!write_store(dir + "/concierge.db", url, users, from_store)) return 1;
    malloc_trim(0);
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    LogWatch watch;
    std::thread reader([&] { watch.run(fds[0]); });
    std::FILE* sink = fdopen(fds[1], "w");
    std::setvbuf(sink, nullptr, _IOLBF, 0);
    app::Logger logger(app::LogLevel::info, sink);

    const long rss0 = rss_bytes();
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    auto parsed = app::load_config(config_path);
    const auto t_parsed = Clock::now();
    if (!std::holds_alternative<config::Config>(parsed)) {
      std::fprintf(stderr, "the generated config does not load\n");
      return 1;
    }
    const auto store = open_store(dir + "/concierge.db", url);
    if (!store) return 1;
    const auto t_store = Clock::now();
    {
      app::Service service(std::get<config::Config>(std::move(parsed)), config_path, *store,
                           logger);
      std::thread loop([&] { service.run(); });
      const auto deadline = t0 + std::chrono::seconds(max_seconds);
      const bool connected = server.wait_connected(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      const auto t_connected = Clock::now();
      const double cpu_connected = cpu_seconds() - cpu0;
      const long rss_connected = rss_bytes();
      while (connected && !watch.summary && watch.per_user < users && Clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
      }
      const auto t_compiled = Clock::now();
      const double cpu_compiled = cpu_seconds() - cpu0;
      const long rss_compiled = rss_bytes();
      const bool compiled = watch.summary || watch.per_user >= users;
      std::printf("RESULT %d %.3f %.3f %.3f %.3f %.3f %.3f %ld %ld %ld\n", users,
                  seconds(t0, t_parsed), cpu_connected, cpu_compiled, seconds(t_parsed, t_store),
                  connected ? seconds(t0, t_connected) : -1.0,
                  compiled ? seconds(t0, t_compiled) : -1.0, rss_connected - rss0,
                  rss_compiled - rss0, watch.per_user.load() + (watch.summary ? 1 : 0));
      if (!watch.summary_line.empty()) std::printf("LOG %s", watch.summary_line.c_str());
      std::fflush(stdout);
      status = connected && compiled ? 0 : 2;
      service.request_stop();
      loop.join();
    }
    std::fclose(sink);
    reader.join();
  }
  std::filesystem::remove_all(dir);
  return status;
}

struct Row {
  int users = 0;
  double parse = 0, cpu_connect = 0, cpu_compiled = 0, store = 0, connect = -1, compiled = -1;
  long rss_connect = 0, rss_compiled = 0, lines = 0;
  std::string log;
  bool ok = false;
};

Row run_child(int users, bool from_store, const std::string& url, const std::string& dir,
              int max_seconds) {
  Row row;
  row.users = users;
  int out[2];
  if (::pipe(out) != 0) return row;
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    ::close(out[0]);
    ::dup2(out[1], 1);
    std::_Exit(run_case(users, from_store, url, dir, max_seconds));
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("RESULT ")) {
      std::istringstream f(line.substr(7));
      f >> row.users >> row.parse >> row.cpu_connect >> row.cpu_compiled >> row.store >>
          row.connect >> row.compiled >> row.rss_connect >> row.rss_compiled >> row.lines;
    } else if (line.starts_with("LOG ")) {
      row.log = line.substr(4);
    }
  }
  row.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes{10000, 100000, 1000000};
  std::string source = "both";
  int max_seconds = 120;
  std::string dir = "/tmp";
  bool postgres = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--postgres") {
      postgres = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      return 1;
    }
    const std::string value = argv[i + 1];
    if (flag == "--users") {
      sizes.clear();
      std::istringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) sizes.push_back(std::atoi(item.c_str()));
    } else if (flag == "--source") {
      source = value;
    } else if (flag == "--max-seconds") {
      max_seconds = std::atoi(value.c_str());
    } else if (flag == "--dir") {
      dir = value;
    } else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 1;
    }
  }
  app::Service::block_signals();
  // As deployed, the systemd unit sets glibc.malloc.hugetlb=1 (deploy/concierge.service.in).
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  std::printf("GLIBC_TUNABLES=%s\n", tunables ? tunables : "(unset)");
  auto& server = test::PgServer::instance();
  if (postgres) {
    std::atexit([] { test::PgServer::instance().stop(); });
    if (!server.start()) {
      std::fprintf(stderr, "startup_bench: %s\n", server.error().c_str());
      return 1;
    }
  }
  bool all_ok = true;
  struct Case {
    bool from_store;
    bool pg;
  };
  for (const Case c : {Case{false, false}, Case{true, false}, Case{true, true}}) {
    const bool from_store = c.from_store;
    if (source != "both" && (source == "store") != from_store) continue;
    if (c.pg && !postgres) continue;
    std::printf("users from the %s (32 distinct schedules), --max-seconds %d\n",
                !from_store ? "config ([users])"
                : c.pg      ? "store (self-enrolled) on PostgreSQL"
                            : "store (self-enrolled) on SQLite",
                max_seconds);
    std::printf("%9s %7s %7s %10s %10s %12s %12s %11s %11s %6s\n", "users", "load s", "store s",
                "connect s", "compiled s", "users/s conn", "users/s comp", "B/user conn",
                "B/user comp", "lines");
    for (const int users : sizes) {
      const Row r =
          run_child(users, from_store, c.pg ? server.fresh_schema_url() : "", dir, max_seconds);
      all_ok = all_ok && r.ok;
      const auto rate = [&](double s) { return s > 0 ? users / s : 0.0; };
      std::printf("%9d %7.2f %7.2f %10.2f %10.2f %12.0f %12.0f %11.0f %11.0f %6ld%s\n", users,
                  r.parse, r.store, r.connect, r.compiled, rate(r.connect), rate(r.compiled),
                  static_cast<double>(r.rss_connect) / users,
                  static_cast<double>(r.rss_compiled) / users, r.lines,
                  r.ok ? "" : "  (incomplete: over --max-seconds or failed)");
      std::printf("%9s CPU s (all threads): %.2f to connect, %.2f to compiled\n", "", r.cpu_connect,
                  r.cpu_compiled);
      if (!r.log.empty()) std::printf("%9s log: %s\n", "", r.log.c_str());
      std::fflush(stdout);
    }
  }
  return all_ok ? 0 : 1;
}
