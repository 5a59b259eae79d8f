// SPDX-License-Identifier: MIT
// Starts the private PostgreSQL server (tests/support/postgres) once for this test binary, and
// stops it at the end: a GoogleTest global Environment.
#include <gtest/gtest.h>

#include <tests/support/postgres/pg_server.hpp>

namespace concierge::test {
namespace {

class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!PgServer::instance().start()) {
      ADD_FAILURE() << "the PostgreSQL server for the store tests did not start: "
                    << PgServer::instance().error();
    }
  }
  void TearDown() override { PgServer::instance().stop(); }
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace
}  // namespace concierge::test
