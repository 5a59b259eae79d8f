// SPDX-License-Identifier: MIT
// A PostgreSQL server for the tests of this binary: initdb into a temp dir, pg_ctl start on a
// free loopback port, createdb, pg_ctl stop at the end (a GoogleTest global Environment).
#pragma once

#include <string>

namespace concierge::test {

class PgServer {
 public:
  // The server of this test binary, started by the environment; error() says why not.
  static PgServer& instance();

  bool start();  // false: see error()
  void stop();
  const std::string& error() const { return error_; }

  // A new, empty schema owned by the store's role, and the url of the store in it (TCP on
  // loopback, the role authenticates with password()).
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
