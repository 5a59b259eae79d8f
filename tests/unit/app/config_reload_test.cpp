// SPDX-License-Identifier: MIT
// What a reload may change (DESIGN §12): restart-only sections are kept and named, the rest is
// taken from the new file.
#include <component/app/config_reload.hpp>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

config::Config base() {
  config::Config c;
  c.component.jid = "sched.localhost";
  c.component.secret = "s3cr3t";
  c.served.domains = {"localhost"};
  c.release.rate = 10;
  c.log.level = config::LogLevel::info;
  return c;
}

TEST(KeepRestartOnly, AnUnchangedFileNeedsNoRestart) {
  config::Config next = base();
  EXPECT_TRUE(keep_restart_only(next, base()).empty());
}

TEST(KeepRestartOnly, RestartOnlyChangesAreNamedAndKeptTheRestIsTaken) {
  config::Config next = base();
  next.component.secret = "other";
  next.release.rate = 99;
  next.log.level = config::LogLevel::debug;
  const auto sections = keep_restart_only(next, base());
  EXPECT_EQ(sections, (std::vector<std::string>{"[component]", "[release]"}));
  EXPECT_EQ(next.component.secret, "s3cr3t");  // kept until a restart
  EXPECT_EQ(next.release.rate, 10);
  EXPECT_EQ(next.log.level, config::LogLevel::debug);  // taken at once
}

TEST(KeepRestartOnly, ServedDomainsAndTheStoreNeedARestart) {
  config::Config next = base();
  next.served.domains = {"example.org"};
  next.store.path = "/elsewhere.db";
  EXPECT_EQ(keep_restart_only(next, base()), (std::vector<std::string>{"[served]", "[store]"}));
  EXPECT_EQ(next.served.domains, base().served.domains);
  EXPECT_EQ(next.store.path, base().store.path);
}

}  // namespace
}  // namespace concierge::app
