// SPDX-License-Identifier: MIT
// A calendar path that is no regular file is refused saying what it is, and a FIFO never blocks
// (issue 14): in the config check and when the file is read.
#include <component/app/calendar_file.hpp>
#include <component/app/config_check.hpp>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;

// A fresh directory under the test's temp dir, removed with everything in it.
class CalendarFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("calendar_file_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The config check's message for `calendar = "<p>"`, or "" when it accepts it.
  static std::string config_error(const std::string& p) {
    const std::string text =
        "[component]\njid = \"sched.example.org\"\nsecret = \"x\"\n[served]\n"
        "domains = [\"example.org\"]\n[users.\"bob@example.org\"]\ntimezone = \"UTC\"\n"
        "calendar = \"" +
        p + "\"\n";
    auto parsed = config::parse(text, "c.toml");
    EXPECT_TRUE(std::holds_alternative<config::Config>(parsed));
    auto errors = check_with_calendars(std::get<config::Config>(parsed));
    return errors.empty() ? "" : errors[0].message;
  }

  std::filesystem::path dir_;
};

TEST_F(CalendarFileTest, ARegularFileIsReadAndAccepted) {
  const std::string p = path("bob.ics");
  std::ofstream(p) << "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
  std::string text, error;
  ASSERT_TRUE(read_calendar_file(p, 1000, text, error)) << error;
  EXPECT_EQ(text, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
  EXPECT_EQ(config_error(p), "");
  EXPECT_FALSE(read_calendar_file(p, 10, text, error));
  EXPECT_EQ(error, p + ": the calendar is too large (more than 0 kB)");
}

TEST_F(CalendarFileTest, ADirectoryIsSaidToBeOne) {
  const std::string p = path("calendars");
  std::filesystem::create_directory(p);
  EXPECT_EQ(config_error(p), p + " is a directory");
  std::string text, error;
  EXPECT_FALSE(read_calendar_file(p, 1000, text, error));
  EXPECT_EQ(error, p + " is a directory");
}

TEST_F(CalendarFileTest, AFifoIsRefusedWithoutBlocking) {
  const std::string p = path("pipe.ics");
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  EXPECT_EQ(config_error(p), p + " is not a regular file (a FIFO)");
  // Opening a FIFO with no writer blocks a plain reader: run it where a hang shows as a failure.
  auto read = std::async(std::launch::async, [p] {
    std::string text, error;
    const bool ok = read_calendar_file(p, 1000, text, error);
    return ok ? std::string("read") : error;
  });
  if (read.wait_for(5s) != std::future_status::ready) {
    std::ofstream writer(p);  // lets the blocked reader go, so the test fails instead of hanging
    writer.close();
    read.wait();
    FAIL() << "blocked on the FIFO";
  }
  EXPECT_EQ(read.get(), p + " is not a regular file (a FIFO)");
}

TEST_F(CalendarFileTest, ADeviceIsNotARegularFile) {
  EXPECT_EQ(config_error("/dev/null"), "/dev/null is not a regular file (a device)");
  std::string text, error;
  EXPECT_FALSE(read_calendar_file("/dev/zero", 1000, text, error));
  EXPECT_EQ(error, "/dev/zero is not a regular file (a device)");
}

TEST_F(CalendarFileTest, AMissingFileIsStillNoSuchFile) {
  const std::string p = path("missing.ics");
  EXPECT_EQ(config_error(p), "no such calendar file: " + p);
  std::string text, error;
  EXPECT_FALSE(read_calendar_file(p, 1000, text, error));
  EXPECT_EQ(error, "no such calendar file: " + p);
}

}  // namespace
}  // namespace concierge::app
