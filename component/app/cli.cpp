// SPDX-License-Identifier: MIT
#include <component/app/cli.hpp>

#include <string>
#include <string_view>
#include <variant>

#include <component/app/config_check.hpp>
#include <component/app/logger.hpp>
#include <component/app/schedule_command.hpp>
#include <component/app/service.hpp>
#include <component/core/store_port.hpp>
#include <component/store/pg_lease.hpp>
#include <component/store/pg_store.hpp>
#include <component/store/sqlite_store.hpp>
#include <config/config.hpp>

namespace concierge::app {

namespace {

constexpr std::string_view kUsage =
    "usage: concierge --config FILE          run the component (foreground, logs to stderr)\n"
    "       concierge --check-config FILE [--quiet]\n"
    "                                        validate FILE and print the effective config\n"
    "                                        (--quiet: print only problems)\n"
    "       concierge schedule FILE.ics [--zone TZ] [--kind work|personal] [--hours PATTERN]\n"
    "                          [--from YYYY-MM-DD] [--days N] [--at TIMESTAMP]\n"
    "                                        show what a calendar means as working time\n"
    "       concierge --version | --help\n"
    "\n"
    "Signals: SIGTERM/SIGINT stop cleanly (held messages stay stored); SIGHUP reloads the\n"
    "config's [users], [pools], [limits], [privacy], [urgent], [schedule] and [log].\n";

// Reads and validates a config; prints every problem to `err`. nullopt when unusable.
std::optional<config::Config> load(const std::string& path, std::ostream& err) {
  auto loaded = load_config(path);
  if (auto* problems = std::get_if<std::vector<config::Error>>(&loaded)) {
    const auto& errors = *problems;
    for (const auto& e : errors) err << "concierge: " << e.to_string() << "\n";
    err << "concierge: " << path << " is not usable (" << errors.size() << " problem"
        << (errors.size() == 1 ? "" : "s") << ")\n";
    return std::nullopt;
  }
  return std::get<config::Config>(std::move(loaded));
}

std::unique_ptr<core::Store> open_store(const config::Config& config, const Logger& logger,
                                       std::ostream& err) {
  if (!config.store.url.empty()) {
    auto opened = store::PgStore::open(config.store.url, config.store.password);
    if (auto* message = std::get_if<std::string>(&opened)) {
      err << "concierge: store.url: " << *message << "\n";
      return nullptr;
    }
    return std::get<std::unique_ptr<store::PgStore>>(std::move(opened));
  }
  auto opened = store::SqliteStore::open(config.store.path);
  if (auto* message = std::get_if<std::string>(&opened)) {
    err << "concierge: store.path: " << *message << "\n";
    return nullptr;
  }
  auto store = std::get<std::unique_ptr<store::SqliteStore>>(std::move(opened));
  for (const auto& warning : store->warnings()) logger.warn(warning);
  return store;
}

}  // namespace

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  if (argc < 2) {
    err << kUsage;
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "--help" || command == "-h") {
    out << kUsage;
    return 0;
  }
  if (command == "--version") {
    out << "concierge " CONCIERGE_VERSION "\n";
    return 0;
  }
  if (command == "schedule") return run_schedule_command(argc - 1, argv + 1, out, err);
  if (command != "--config" && command != "--check-config") {
    err << "concierge: unknown argument: " << command << "\n" << kUsage;
    return 2;
  }
  // --check-config FILE [--quiet]: --quiet prints only the problems (systemd's ExecStartPre
  // must not copy the whole effective config into the journal on every start).
  const bool check = command == "--check-config";
  if (argc < 3 || std::string_view(argv[2]).starts_with("--")) {
    err << "concierge: " << command << " needs a FILE\n" << kUsage;
    return 2;
  }
  const bool quiet = check && argc == 4 && std::string_view(argv[3]) == "--quiet";
  if (argc > 3 && !quiet) {
    err << "concierge: unexpected argument after " << command << " " << argv[2] << ": " << argv[3]
        << "\n" << kUsage;
    return 2;
  }
  auto config = load(argv[2], err);
  if (!config) return 2;
  for (const auto& w : config_warnings(*config)) err << "concierge: warning: " << w.to_string() << "\n";
  if (check) {
    if (!quiet) out << config::to_toml(*config);
    if (!quiet) err << "concierge: " << argv[2] << " is valid\n";
    return 0;
  }
  if (has_placeholder_secret(*config)) {
    err << "concierge: " << argv[2] << ": component.secret is still the example's \""
        << kPlaceholderSecret << "\": set a secret of your own here and in the server; not starting\n";
    return 2;
  }
  Service::block_signals();
  Logger logger(log_level(config->log.level));
  auto store = open_store(*config, logger, err);
  if (!store) return 2;
  // Two or more instances may share a PostgreSQL store: only the one holding its lease is
  // active (DESIGN §10). SQLite's file belongs to one process: no lease.
  std::unique_ptr<LeaseKeeper> lease;
  if (!config->store.url.empty()) {
    lease = std::make_unique<LeaseKeeper>(
        std::make_unique<store::PgLease>(config->store.url, config->store.password),
        LeaseKeeper::make_holder_name());
    logger.info("store shared through its lease as " + lease->holder() +
                ": active while holding it, standby otherwise");
  }
  Service service(std::move(*config), argv[2], *store, logger);
  if (lease) service.use_lease(*lease);
  const int code = service.run();
  store->commit();
  if (lease) lease->release();  // after the last commit: a standby may take over at once
  return code;
}

}  // namespace concierge::app
