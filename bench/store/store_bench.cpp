// SPDX-License-Identifier: MIT
// Store benchmarks (DESIGN §9, bench/README.md "## Store"), on SQLite files under a fresh
// mkdtemp directory that is removed at the end, and with --postgres on a private PostgreSQL
// server beside them in the same run (loopback, fsync and synchronous_commit on; one fresh
// schema per store; tests/support/postgres):
//  1. holds/s committed with group commit (one commit per --batch holds, as one loop turn)
//     beside the baseline of one commit per hold, same run, each on a fresh store;
//  2. --holds N holds written in batches: size per hold, then startup = open + holds(), for
//     SQLite once after evicting the file from the page cache (posix_fadvise) and once warm.
// Every count is bounded; the baseline also stops after --baseline-seconds. With --url (a
// PostgreSQL store, libpq URI; the password from PGPASSWORD or ~/.pgpass), part 1 runs on that
// database instead (its holds are deleted first), and part 2 is skipped.
#include <component/store/pg_store.hpp>
#include <component/store/sqlite_store.hpp>
#include <tests/support/postgres/pg_server.hpp>

#include "process_measures.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using concierge::core::Hold;
using concierge::core::HoldReason;
using concierge::core::Instant;
using concierge::store::SqliteStore;
using Clock = std::chrono::steady_clock;
using concierge::bench::cpu_seconds;
using concierge::bench::reset_peak;
using concierge::bench::status_mib;
using concierge::bench::TempDir;

struct Options {
  std::int64_t holds = 1'000'000;  // part 2: how many holds the store ends with
  std::int64_t group = 50'000;     // part 1: holds written with group commit
  std::int64_t batch = 1'000;      // holds per commit (one loop turn)
  std::int64_t baseline = 5'000;   // part 1: at most this many holds, one commit each
  double baseline_seconds = 10;    // ... and for at most this long
  bool target_index = false;       // part 2: add an index on (target, id) to see its cost
  std::string dir = "/tmp";
  std::string url;        // part 1 on this PostgreSQL database instead of SQLite
  bool postgres = false;  // parts 1 and 2 also on a private PostgreSQL server
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A typical held message: a chat from one of 1 000 senders to one of 10 000 targets, relayed
// from the sender's proxy JID, with an id, an origin-id and a body of 120 characters.
Hold make_hold(std::int64_t id) {
  const std::string sender = "user" + std::to_string(id % 1'000) + "@example.org";
  const std::string target = "user" + std::to_string((id * 7) % 10'000) + "@example.org";
  const std::string stanza_id = "bench-" + std::to_string(id) + "-a1b2c3d4";
  std::string proxy = sender;
  proxy.replace(proxy.find('@'), 1, "\\40");
  return Hold{
      .id = id,
      .sender = sender,
      .target = target,
      .stanza = "<message xmlns=\"jabber:component:accept\" from=\"" + proxy +
                "@concierge.example.org\" to=\"" + target + "\" type=\"chat\" id=\"" + stanza_id +
                "\"><body>" + std::string(120, 'b') +
                "</body><origin-id xmlns=\"urn:xmpp:sid:0\" id=\"o" + stanza_id + "\"/></message>",
      .stanza_id = stanza_id,
      .received = Instant{std::chrono::milliseconds{1'780'000'000'000 + id}},
      .reason = static_cast<HoldReason>(id % 5),
  };
}

std::unique_ptr<SqliteStore> open_or_exit(const std::string& path) {
  auto opened = SqliteStore::open(path);
  if (auto* error = std::get_if<std::string>(&opened)) {
    std::fprintf(stderr, "store_bench: %s\n", error->c_str());
    std::exit(1);
  }
  return std::move(std::get<std::unique_ptr<SqliteStore>>(opened));
}

// Where the stores of a run live. SQLite: a file per store under the temp dir (`where` is its
// path). PostgreSQL: a fresh schema of the private server per store, or the --url database
// for every store (`where` is the url).
struct Backend {
  const char* name = "SQLite";
  bool postgres = false;
  std::string dir;                              // SQLite
  concierge::test::PgServer* server = nullptr;  // --postgres
  std::string url;                              // --url
  int stores = 0;

  std::string fresh() {
    if (!postgres) return dir + "/store-" + std::to_string(++stores) + ".db";
    return server != nullptr ? server->fresh_schema_url() : url;
  }
  std::unique_ptr<concierge::core::Store> open(const std::string& where) const {
    if (!postgres) return open_or_exit(where);
    const std::string password = server != nullptr ? concierge::test::PgServer::password() : "";
    auto opened = concierge::store::PgStore::open(where, password);
    if (auto* error = std::get_if<std::string>(&opened)) {
      std::fprintf(stderr, "store_bench: %s\n", error->c_str());
      std::exit(1);
    }
    return std::move(std::get<std::unique_ptr<concierge::store::PgStore>>(opened));
  }
  // A store's bytes on disk: the file, or the holds table with its index and TOAST.
  std::uintmax_t bytes(const std::string& where) const;
};

void commit_or_exit(concierge::core::Store& store) {
  if (!store.commit()) {
    std::fprintf(stderr, "store_bench: commit failed: %s\n", store.commit_error().c_str());
    std::exit(1);
  }
}

// Writes holds first_id.. in commits of `batch`, for at most `count` holds and `max_seconds`.
// Returns how many it wrote.
std::int64_t write_holds(concierge::core::Store& store, std::int64_t first_id, std::int64_t count,
                         std::int64_t batch, double max_seconds, Clock::time_point start) {
  std::int64_t written = 0;
  while (written < count) {
    const std::int64_t end = std::min(count, written + batch);
    for (; written < end; ++written) store.put_hold(make_hold(first_id + written));
    commit_or_exit(store);
    if (seconds_since(start) > max_seconds) break;
  }
  return written;
}

std::uintmax_t size_or_zero(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

std::uintmax_t Backend::bytes(const std::string& where) const {
  if (!postgres) return size_or_zero(where);
  if (server == nullptr) return 0;
  const std::string marker = "search_path%3D";  // the schema, from fresh_schema_url()
  const std::string schema = where.substr(where.find(marker) + marker.size());
  return std::strtoull(
      server->admin("SELECT pg_total_relation_size('" + schema + ".holds')").c_str(), nullptr, 10);
}

// Drops the file's clean pages from the page cache, so the next open reads from the disk.
void evict(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

struct Startup {
  double open_s = 0, read_s = 0, cpu_s = 0;  // cpu_s: of open + holds()
  double close_s = 0;                         // destroying the store (not in the others)
  double peak_mib = 0, kept_mib = 0;  // RSS growth: at the peak, and with the holds returned
  std::size_t holds = 0;
  bool in_order = true;
};

Startup startup(const Backend& backend, const std::string& where) {
  Startup result;
  reset_peak();
  const double rss_before = status_mib("VmRSS");
  const double cpu_start = cpu_seconds();
  const auto start = Clock::now();
  auto store = backend.open(where);
  result.open_s = seconds_since(start);
  const auto read_start = Clock::now();
  const std::vector<Hold> holds = store->holds();
  result.read_s = seconds_since(read_start);
  result.cpu_s = cpu_seconds() - cpu_start;
  result.peak_mib = status_mib("VmHWM") - rss_before;
  result.kept_mib = status_mib("VmRSS") - rss_before;
  result.holds = holds.size();
  for (std::size_t i = 0; i < holds.size(); ++i) {
    if (holds[i].id != static_cast<std::int64_t>(i) + 1) result.in_order = false;
  }
  const auto close_start = Clock::now();
  store.reset();
  result.close_s = seconds_since(close_start);
  return result;
}

bool parse(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--target-index" || arg == "--postgres") {
      (arg == "--postgres" ? options->postgres : options->target_index) = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (arg == "--holds") {
      options->holds = std::atoll(value);
    } else if (arg == "--group") {
      options->group = std::atoll(value);
    } else if (arg == "--batch") {
      options->batch = std::atoll(value);
    } else if (arg == "--baseline") {
      options->baseline = std::atoll(value);
    } else if (arg == "--baseline-seconds") {
      options->baseline_seconds = std::atof(value);
    } else if (arg == "--dir") {
      options->dir = value;
    } else if (arg == "--url") {
      options->url = value;
    } else {
      return false;
    }
  }
  return options->holds >= 0 && options->group > 0 && options->batch > 0 && options->baseline > 0 &&
         options->baseline_seconds > 0;
}

// Part 1 on `backend`: group commit in two halves around the baseline of one commit per hold.
struct Rates {
  double group = 0, baseline = 0;  // holds/s
};
Rates part1(Backend& backend, const Options& options) {
  double group_rate[2] = {0, 0};
  Rates rates;
  std::int64_t baseline_done = 0;
  for (int half = 0; half < 3; ++half) {
    const std::string where = backend.fresh();
    auto store = backend.open(where);
    if (backend.postgres && backend.server == nullptr) {  // --url: empty it of holds first
      for (const Hold& hold : store->holds()) store->remove_hold(hold.id);
      commit_or_exit(*store);
    }
    const auto start = Clock::now();
    if (half == 1) {
      baseline_done = write_holds(*store, 1, options.baseline, 1, options.baseline_seconds, start);
      rates.baseline = static_cast<double>(baseline_done) / seconds_since(start);
    } else {
      const std::int64_t done =
          write_holds(*store, 1, options.group / 2, options.batch, 1e9, start);
      group_rate[half / 2] = static_cast<double>(done) / seconds_since(start);
    }
    store.reset();
    if (!backend.postgres) fs::remove(where);
  }
  rates.group = (group_rate[0] + group_rate[1]) / 2;
  std::printf("1. %s: holds committed per second (each on a fresh store)\n", backend.name);
  std::printf("   group commit, %lld per commit: %.0f holds/s (halves: %.0f, %.0f)\n",
              static_cast<long long>(options.batch), rates.group, group_rate[0], group_rate[1]);
  std::printf("   one commit per hold (baseline, %lld holds): %.0f holds/s (%.2f ms per commit)\n",
              static_cast<long long>(baseline_done), rates.baseline, 1e3 / rates.baseline);
  std::printf("   ratio group/baseline: %.1fx; target >= 20000 holds/s: %s\n\n",
              rates.group / rates.baseline, rates.group >= 20'000 ? "met" : "MISSED");
  return rates;
}

// Part 2 on `backend`: --holds holds, their size, startup. Prints its SUMMARY line; false when
// holds() did not return every hold in id order.
bool part2(Backend& backend, const Options& options, const Rates& rates) {
  const std::string where = backend.fresh();
  double fill_s = 0, fill_cpu_s = 0;
  {
    auto store = backend.open(where);
    if (options.target_index && !backend.postgres) {
      sqlite3_exec(static_cast<SqliteStore&>(*store).native_handle(),
                   "CREATE INDEX bench_holds_by_target ON holds (target, id)", nullptr, nullptr,
                   nullptr);
    }
    const double cpu_start = cpu_seconds();
    const auto start = Clock::now();
    write_holds(*store, 1, options.holds, options.batch, 1e9, start);
    fill_s = seconds_since(start);
    fill_cpu_s = cpu_seconds() - cpu_start;
  }  // SQLite: closing the last connection checkpoints the WAL into the file and deletes it
  const std::uintmax_t bytes = backend.bytes(where);
  const auto per_hold = [&](std::uintmax_t n) {
    return static_cast<double>(n) / static_cast<double>(options.holds);
  };
  std::printf("2. %s: %lld holds%s\n", backend.name, static_cast<long long>(options.holds),
              options.target_index ? " (with an index on target, id)" : "");
  std::printf("   written in %.1f s, CPU %.1f s (%.0f holds/s, %lld per commit)\n", fill_s,
              fill_cpu_s, static_cast<double>(options.holds) / fill_s,
              static_cast<long long>(options.batch));
  std::printf("   %s: %ju bytes = %.0f bytes per hold", backend.postgres ? "table" : "file", bytes,
              per_hold(bytes));
  if (!backend.postgres) {
    std::printf(" (WAL left after close: %ju bytes)", size_or_zero(where + "-wal"));
    evict(where);
  }
  std::printf("\n");
  // PostgreSQL: no eviction (its own buffers and the OS cache of the server); the CPU is this
  // process's (libpq and building the holds), the server's is not counted.
  const Startup first = startup(backend, where), warm = startup(backend, where);
  for (const auto& [name, s] : {std::pair{backend.postgres ? "first" : "page cache evicted", first},
                                std::pair{"warm", warm}}) {
    std::printf("   startup, %s: %.3f s (open %.3f s + holds() %.3f s; CPU %.3f s), %zu holds%s;"
                " RSS +%.0f MiB at the peak, +%.0f MiB with the holds returned; close %.3f s\n",
                name, s.open_s + s.read_s, s.open_s, s.read_s, s.cpu_s, s.holds,
                s.in_order ? " in id order" : " NOT IN ID ORDER", s.peak_mib, s.kept_mib,
                s.close_s);
  }
  const bool complete = first.holds == static_cast<std::size_t>(options.holds) && first.in_order &&
                        warm.holds == first.holds && warm.in_order;
  std::printf(
      "SUMMARY backend=%s group_holds_per_s=%.0f baseline_holds_per_s=%.0f ratio=%.1f holds=%lld"
      " bytes_per_hold=%.0f startup_cold_s=%.3f startup_warm_s=%.3f startup_warm_cpu_s=%.3f"
      " startup_peak_mib=%.0f complete=%d\n\n",
      backend.postgres ? "postgresql" : "sqlite", rates.group, rates.baseline,
      rates.group / rates.baseline, static_cast<long long>(options.holds), per_hold(bytes),
      first.open_s + first.read_s, warm.open_s + warm.read_s, warm.cpu_s, warm.peak_mib,
      complete ? 1 : 0);
  if (!backend.postgres) fs::remove(where);
  return complete;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, &options)) {
    std::fprintf(stderr,
                 "usage: store_bench [--holds N (1000000)] [--group N (50000)] [--batch N (1000)]"
                 " [--baseline N (5000)] [--baseline-seconds S (10)] [--target-index]"
                 " [--dir DIR (/tmp)] [--postgres | --url postgresql://...]\n");
    return 2;
  }
  if (!options.url.empty()) options.holds = 0;
  const TempDir dir(options.dir);
  if (dir.path().empty()) {
    std::fprintf(stderr, "store_bench: cannot create a directory under %s\n", options.dir.c_str());
    return 1;
  }
  std::vector<Backend> backends;
  if (options.url.empty()) {
    std::printf("store_bench: SQLite %s files under %s, WAL, synchronous=FULL\n",
                sqlite3_libversion(), dir.path().c_str());
    backends.emplace_back().dir = dir.path();
  } else {
    std::printf("store_bench: PostgreSQL at the --url (part 1 only)\n");
    backends.emplace_back().url = options.url;
  }
  auto& server = concierge::test::PgServer::instance();
  if (options.postgres) {
    std::atexit([] { concierge::test::PgServer::instance().stop(); });  // also on exit(1)
    if (!server.start(/*durable=*/true)) {
      std::fprintf(stderr, "store_bench: %s\n", server.error().c_str());
      return 1;
    }
    std::printf(
        "store_bench: and a private PostgreSQL on 127.0.0.1:%d (fsync, synchronous_commit"
        " on), a schema per store\n",
        server.port());
    backends.emplace_back().server = &server;
  }
  const Hold sample = make_hold(1);
  std::printf("a hold: %zu bytes of stanza, %zu of JIDs and id\n\n", sample.stanza.size(),
              sample.sender.size() + sample.target.size() + sample.stanza_id.size());

  for (auto& backend : backends) {
    backend.postgres = backend.dir.empty();
    if (backend.postgres) backend.name = "PostgreSQL";
  }
  // Part 1 on every backend first, then part 2: the rates of one run are measured close in time.
  std::vector<Rates> rates;
  for (auto& backend : backends) rates.push_back(part1(backend, options));
  bool complete = true;
  for (std::size_t i = 0; i < backends.size() && options.holds > 0; ++i) {
    complete = part2(backends[i], options, rates[i]) && complete;
  }
  return complete ? 0 : 1;
}
