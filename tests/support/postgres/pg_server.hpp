// SPDX-License-Identifier: MIT
// A private PostgreSQL server for the C++ tests and benchmarks: initdb into a temp dir, pg_ctl
// start on a free loopback port, createdb and the store's role; stop() removes it all. Owns the
// server process and the temp dir, nothing else (the store tests start it from a GoogleTest
// Environment, tests/unit/store_backends/pg_environment.cpp; bench/store from main).
#pragma once

#include <string>

namespace concierge::test {

class PgServer {
 public:
  // The server of this binary; error() says why it did not start.
  static PgServer& instance();

  // false: see error(). `durable`: fsync and synchronous_commit on, as in production (the
  // benchmarks); otherwise fsync is off (tests, not durability).
  bool start(bool durable = false);
  void stop();
  const std::string& error() const { return error_; }

  // A new, empty schema owned by the store's role, and the url of the store in it (TCP on
  // loopback, the role authenticates with password()). When the schema cannot be made, error()
  // says why (the store's open then fails on the url).
  std::string fresh_schema_url();
  // The role's password, as the store gets it from password_file.
  static std::string password() { return "s3cret-pw"; }
  // Runs SQL as the superuser over the Unix socket (for preparing and inspecting schemas);
  // the first column of the first row, "" when none, "<error: ...>" on failure.
  std::string admin(const std::string& sql);
  int port() const { return port_; }
  std::string base_url() const;

 private:
  bool run(const std::string& command, const std::string& what);

  std::string dir_;
  std::string bin_;
  int port_ = 0;
  int schemas_ = 0;
  bool running_ = false;
  std::string error_;
};

}  // namespace concierge::test
