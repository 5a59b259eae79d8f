// SPDX-License-Identifier: MIT
#include <component/app/cli.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace concierge::app {
namespace {

const std::string kExample = std::string(CONCIERGE_SOURCE_DIR) + "/config/deploy/concierge.toml";

struct Run {
  int code;
  std::string out, err;
};

Run run(std::vector<std::string> args) {
  args.insert(args.begin(), "concierge");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  std::ostringstream out, err;
  const int code = run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

std::string write_config(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(Cli, ArgumentsAreNamed) {
  auto r = run({"--config"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "concierge: --config needs a FILE");
  r = run({"--bogus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "concierge: unknown argument: --bogus");
  r = run({"--check-config", "--quiet"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "concierge: --check-config needs a FILE");
  r = run({"--check-config", kExample, "--loud"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unexpected argument after --check-config " + kExample + ": --loud"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, ShippedExampleChecksWithAWarningAboutItsPlaceholderSecret) {
  auto r = run({"--check-config", kExample});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("jid = \"concierge.example.org\""), std::string::npos);
  EXPECT_NE(r.err.find("concierge: warning: " + kExample +
                       ": component.secret: is the example's placeholder \"change-me\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("is valid"), std::string::npos) << r.err;
}

TEST(Cli, QuietCheckPrintsOnlyProblems) {
  auto r = run({"--check-config", kExample, "--quiet"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.find("is valid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("placeholder"), std::string::npos) << r.err;
  const std::string good = write_config("cli-test-good.toml",
                                        "[component]\njid = \"c.example.org\"\nsecret = "
                                        "\"s3cret\"\n[served]\ndomains = [\"example.org\"]\n");
  r = run({"--check-config", good, "--quiet"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST(Cli, ThePlaceholderSecretDoesNotStart) {
  auto r = run({"--config", kExample});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(kExample + ": component.secret is still the example's \"change-me\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("not starting"), std::string::npos) << r.err;
}

TEST(Cli, PoolMemberWithoutUsersEntryIsWarnedWithFileAndLine) {
  const std::string path =
      write_config("cli-test-pool.toml",
                   "[component]\njid = \"c.example.org\"\nsecret = \"s3cret\"\n[served]\n"
                   "domains = [\"example.org\"]\n[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
                   "[pools.\"desk\"]\n"  // line 8
                   "members = [\"bob@example.org\", \"carol@example.org\"]\n");
  auto r = run({"--check-config", path, "--quiet"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err,
            "concierge: warning: " + path +
                ":8: pools.desk.members: \"carol@example.org\" has no [users] entry: the pool "
                "reaches them only once they enrol themselves\n");
}

TEST(Cli, MetricsListenIsCheckedAsAnAddressAndPort) {
  const std::string head =
      "[component]\njid = \"c.example.org\"\nsecret = \"s3cret\"\n[served]\n"
      "domains = [\"example.org\"]\n[metrics]\n";  // listen on line 7
  for (const char* good : {"127.0.0.1:9464", "[::1]:9464", ""}) {
    const std::string path =
        write_config("cli-test-metrics.toml", head + "listen = \"" + good + "\"\n");
    auto r = run({"--check-config", path});
    EXPECT_EQ(r.code, 0) << good << ": " << r.err;
    EXPECT_NE(r.out.find("[metrics]\nlisten = \"" + std::string(good) + "\"\n"), std::string::npos)
        << r.out;
  }
  for (const char* bad :
       {"localhost:9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:9464"}) {
    const std::string path =
        write_config("cli-test-metrics.toml", head + "listen = \"" + bad + "\"\n");
    auto r = run({"--check-config", path});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_NE(r.err.find(path +
                         ":7: metrics.listen: not an address and port such as "
                         "\"127.0.0.1:9464\" or \"[::1]:9464\": \"" +
                         bad + "\""),
              std::string::npos)
        << r.err;
  }
}

}  // namespace
}  // namespace concierge::app
