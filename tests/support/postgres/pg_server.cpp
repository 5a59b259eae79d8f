// SPDX-License-Identifier: MIT
#include <tests/support/postgres/pg_server.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace concierge::test {
namespace {

namespace fs = std::filesystem;

// A loopback port nobody listens on right now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string bin_dir() {
  if (const char* dir = std::getenv("CONCIERGE_PG_BINDIR")) return dir;
  for (const char* dir : {"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"}) {
    if (fs::exists(std::string(dir) + "/pg_ctl")) return dir;
  }
  return "/usr/lib/postgresql/15/bin";
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > 1500 ? all.substr(all.size() - 1500) : all;
}

}  // namespace

PgServer& PgServer::instance() {
  static PgServer server;
  return server;
}

std::string PgServer::base_url() const {
  return "postgresql://concierge@127.0.0.1:" + std::to_string(port_) + "/concierge_test";
}

bool PgServer::run(const std::string& command, const std::string& what) {
  // PostgreSQL refuses to run as root: then run it as the postgres system user.
  const std::string as = geteuid() == 0 ? "runuser -u postgres -- " : "";
  const std::string log = dir_ + "/command.log";
  const std::string line = "cd / && " + as + command + " >" + log + " 2>&1";
  if (std::system(line.c_str()) == 0) return true;
  error_ = what + " failed (" + command + "): " + tail_of(log);
  return false;
}

bool PgServer::start(bool durable) {
  bin_ = bin_dir();
  if (!fs::exists(bin_ + "/initdb")) {
    error_ = "no PostgreSQL server binaries in " + bin_ + " (install postgresql, .ci/setup.sh)";
    return false;
  }
  std::array<char, 64> name{};
  std::string("/tmp/concierge-pg-XXXXXX").copy(name.data(), name.size() - 1);
  if (mkdtemp(name.data()) == nullptr) {
    error_ = "cannot make a temp dir";
    return false;
  }
  dir_ = name.data();
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (pw == nullptr || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "running as root, and " + dir_ + " cannot be given to the postgres user";
      return false;
    }
  }
  port_ = free_port();
  const std::string port = std::to_string(port_);
  // Host connections authenticate with a password (the store's password_file is exercised);
  // the superuser's Unix socket in the temp dir is trusted.
  if (!run(bin_ + "/initdb -D " + dir_ +
               "/data -U postgres -E UTF8 --no-locale"
               " --auth-local=trust --auth-host=scram-sha-256",
           "initdb")) {
    return false;
  }
  if (!run(bin_ + "/pg_ctl start -w -t 60 -D " + dir_ + "/data -l " + dir_ +
               "/server.log -o \"-c listen_addresses=127.0.0.1 -p " + port + " -k " + dir_ +
               (durable ? " -c synchronous_commit=on\"" : " -c fsync=off\""),
           "pg_ctl start")) {
    error_ += " server log: " + tail_of(dir_ + "/server.log");
    return false;
  }
  running_ = true;
  if (!run(bin_ + "/createdb -h " + dir_ + " -p " + port + " -U postgres concierge_test",
           "createdb")) {
    return false;
  }
  const std::string role = admin("CREATE ROLE concierge LOGIN PASSWORD '" + password() + "'");
  if (role.starts_with("<error")) {
    error_ = "cannot create the store's role: " + role;
    return false;
  }
  return true;
}

void PgServer::stop() {
  if (running_) run(bin_ + "/pg_ctl stop -m fast -w -D " + dir_ + "/data", "pg_ctl stop");
  running_ = false;
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PgServer::admin(const std::string& sql) {
  const std::string conninfo =
      "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=concierge_test";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string value;
  if (PQstatus(conn) != CONNECTION_OK) {
    value = std::string("<error: ") + PQerrorMessage(conn) + ">";
  } else {
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      value = std::string("<error: ") + PQresultErrorMessage(result) + ">";
    }
    PQclear(result);
  }
  PQfinish(conn);
  return value;
}

std::string PgServer::fresh_schema_url() {
  const std::string schema = "t" + std::to_string(++schemas_);
  const std::string made = admin("CREATE SCHEMA " + schema + " AUTHORIZATION concierge");
  if (made.starts_with("<error")) {
    error_ = "cannot create schema " + schema + ": " + made;
    std::fprintf(stderr, "PgServer: %s\n", error_.c_str());
  }
  return base_url() + "?options=-csearch_path%3D" + schema;
}

}  // namespace concierge::test
