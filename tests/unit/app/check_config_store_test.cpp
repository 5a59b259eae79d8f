// SPDX-License-Identifier: MIT
// `concierge --check-config` and [store]: SQLite's path (the default) or PostgreSQL's url with a
// password_file, exactly one of them, and no password ever printed.
#include <component/app/cli.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace concierge::app {
namespace {

namespace fs = std::filesystem;

class CheckConfigStore : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ec;
    for (const auto& p : files_) fs::remove(p, ec);
  }
  std::string file(const std::string& name, const std::string& content) {
    const fs::path p = fs::temp_directory_path() /
                       ("concierge_store_cfg_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(p, std::ios::binary) << content;
    files_.push_back(p);
    return p.string();
  }
  // Runs `concierge --check-config` on a config whose [store] is `store`.
  int check(const std::string& store) {
    const std::string path = file("concierge.toml",
                                  "[component]\njid = \"concierge.example.org\"\nsecret = \"x\"\n"
                                  "[served]\ndomains = [\"example.org\"]\n[store]\n" +
                                      store);
    std::string program = "concierge";
    std::string command = "--check-config";
    std::vector<char*> argv = {program.data(), command.data(), const_cast<char*>(path.c_str())};
    out_.str("");
    err_.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }
  std::ostringstream out_;
  std::ostringstream err_;

 private:
  std::vector<fs::path> files_;
};

TEST_F(CheckConfigStore, AcceptsAUrlWithAPasswordFileAndNeverPrintsThePassword) {
  const std::string password = file("pw", "pw-from-file-123\n");
  ASSERT_EQ(check("url = \"postgresql://concierge@db.example.org:5433/concierge?sslmode=require\"\n"
                  "password_file = \"" +
                  password + "\"\n"),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("url = \"postgresql://concierge@db.example.org:5433/concierge"
                            "?sslmode=require\""),
            std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("password_file = \"" + password + "\"  # content not shown"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(out_.str().find("path ="), std::string::npos) << "SQLite's path is not in force";
  EXPECT_EQ((out_.str() + err_.str()).find("pw-from-file-123"), std::string::npos);
}

TEST_F(CheckConfigStore, MasksAPasswordWrittenIntoTheUrl) {
  ASSERT_EQ(
      check("url = "
            "\"postgresql://concierge:hunter2@127.0.0.1/c?password=hunter3&sslmode=disable\"\n"),
      0)
      << err_.str();
  EXPECT_NE(out_.str().find("url = \"postgresql://concierge:********@127.0.0.1/c"
                            "?password=********&sslmode=disable\""),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(out_.str().find("hunter"), std::string::npos) << out_.str();
}

TEST_F(CheckConfigStore, RefusesBothPathAndUrl) {
  EXPECT_EQ(check("path = \"/var/lib/concierge/c.db\"\nurl = \"postgresql://c@127.0.0.1/c\"\n"), 2);
  EXPECT_NE(err_.str().find("store.url: set only one of store.path (SQLite) and store.url "
                            "(PostgreSQL)"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CheckConfigStore, RefusesAUrlThatIsNotPostgresqlAndAPasswordFileWithoutUrl) {
  EXPECT_EQ(check("url = \"mysql://c@127.0.0.1/c\"\n"), 2);
  EXPECT_NE(err_.str().find("store.url: must start with postgresql://"), std::string::npos)
      << err_.str();
  EXPECT_EQ(check("password_file = \"/etc/concierge/pg\"\n"), 2);
  EXPECT_NE(err_.str().find("store.password_file: only used with store.url"), std::string::npos)
      << err_.str();
  EXPECT_EQ(check("url = \"postgresql://c@127.0.0.1/c\"\npassword_file = \"/nonexistent/pw\"\n"),
            2);
  EXPECT_NE(err_.str().find("store.password_file: cannot read \"/nonexistent/pw\""),
            std::string::npos)
      << err_.str();
}

TEST_F(CheckConfigStore, RefusesAUrlLibpqCannotRead) {
  EXPECT_EQ(check("url = \"postgresql://c@127.0.0.1/c?no_such_option=1\"\n"), 2);
  EXPECT_NE(err_.str().find("store.url: libpq cannot read it: invalid URI query parameter: "
                            "\"no_such_option\""),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(check("url = \"postgresql://c@127.0.0.1/c?connect_timeout=5\"\n"), 0) << err_.str();
}

TEST_F(CheckConfigStore, PathStaysTheDefault) {
  ASSERT_EQ(check(""), 0) << err_.str();
  EXPECT_NE(out_.str().find("[store]\npath = \"/var/lib/concierge/concierge.db\"\n"),
            std::string::npos)
      << out_.str();
  EXPECT_EQ(out_.str().find("url ="), std::string::npos);
}

}  // namespace
}  // namespace concierge::app
