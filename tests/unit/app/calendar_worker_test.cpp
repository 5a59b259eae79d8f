// SPDX-License-Identifier: MIT
// The calendar worker: same answers as in-process, bounded time and memory, restarts.
#include <component/app/calendar_worker.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

ical::CompileRequest request(std::string calendar) {
  ical::CompileRequest r;
  r.calendar = std::move(calendar);
  r.zone = "Europe/Berlin";
  r.hours = "Mon-Fri 09:00-17:00";
  ical::set_window_around(r, 1774742400);
  return r;
}

const std::string kCalendar =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260401T180000Z\r\n"
    "DTEND:20260401T200000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

TEST(CalendarWorker, AnswersLikeTheLibrary) {
  CalendarWorker worker;
  auto r = request(kCalendar);
  auto remote = worker.compile(r);
  auto local = ical::compile(r);
  ASSERT_TRUE(remote.ok()) << remote.error();
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(remote.value(), local.value());
  EXPECT_EQ(worker.restarts(), 0);
}

TEST(CalendarWorker, PassesErrorsThrough) {
  CalendarWorker worker;
  auto r = worker.compile(request("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("incomplete"), std::string::npos) << r.error();
  EXPECT_TRUE(worker.compile(request(kCalendar)).ok());  // reused, still fine
  EXPECT_EQ(worker.restarts(), 0);
}

TEST(CalendarWorker, WorksFromAPollLoop) {
  CalendarWorker worker;
  ASSERT_TRUE(worker.start(request(kCalendar)));
  EXPECT_FALSE(worker.start(request(kCalendar)));  // one job at a time
  std::optional<CalendarWorker::Outcome> done;
  while (!done) {
    pollfd p{worker.fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    done = worker.collect();
  }
  EXPECT_TRUE(done->ok());
  EXPECT_FALSE(worker.busy());
}

TEST(CalendarWorker, AKilledWorkerIsReplaced) {
  CalendarWorker worker;
  const pid_t first = worker.child_pid();
  ASSERT_TRUE(worker.start(request(kCalendar)));
  ::kill(first, SIGKILL);                       // as if libical had crashed
  auto r = worker.compile(request(kCalendar));  // refuses: still busy with the first job
  ASSERT_FALSE(r.ok());
  std::optional<CalendarWorker::Outcome> done;
  while (!done) done = worker.collect();
  // The kill may land during the job (it fails) or just after it (it succeeded): either way the
  // next job runs in a new child, started exactly once.
  if (!done->ok()) {
    EXPECT_NE(done->error().find("worker"), std::string::npos) << done->error();
  }
  EXPECT_TRUE(worker.compile(request(kCalendar)).ok());
  EXPECT_NE(worker.child_pid(), first);
  EXPECT_EQ(worker.restarts(), 1);
}

TEST(CalendarWorker, AWorkerThatDiedWhileIdleIsReplacedBeforeTheNextJob) {
  CalendarWorker worker;
  const pid_t first = worker.child_pid();
  ::kill(first, SIGKILL);
  // Wait (bounded) until the kernel has made it a zombie, without reaping it.
  for (int i = 0; i < 1000; ++i) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(first), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == first)
      break;
    ::usleep(1000);
  }
  auto r = worker.compile(request(kCalendar));
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(worker.restarts(), 1);
}

TEST(CalendarWorker, ASlowJobIsCutAtTheWallClockLimit) {
  // Thousands of daily series: far more than 1 ms of work.
  std::string cal = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n";
  for (int i = 0; i < 3000; ++i) {
    cal +=
        "BEGIN:VEVENT\r\nUID:" + std::to_string(i) +
        "\r\nDTSTART:20200101T090000Z\r\nDTEND:20200101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3000\r\n"
        "END:VEVENT\r\n";
  }
  cal += "END:VCALENDAR\r\n";
  CalendarWorker worker(CalendarWorkerLimits{256u << 20, 2, 1ms});
  auto r = worker.compile(request(cal));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("too long"), std::string::npos) << r.error();
  EXPECT_EQ(worker.restarts(), 1);
  CalendarWorker patient;
  EXPECT_TRUE(patient.compile(request(kCalendar)).ok());
}

#ifndef CONCIERGE_SANITIZED  // ASan cannot run under an address-space limit
TEST(CalendarWorker, AJobNeedingTooMuchMemoryFailsAndTheWorkerRecovers) {
  std::string cal = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n";
  for (int i = 0; i < 20000; ++i) {
    cal += "BEGIN:VEVENT\r\nUID:" + std::to_string(i) +
           "\r\nDTSTART:20260401T090000Z\r\nDTEND:20260401T100000Z\r\nSUMMARY:" +
           std::string(100, 'x') + "\r\nEND:VEVENT\r\n";
  }
  cal += "END:VCALENDAR\r\n";
  CalendarWorker worker(CalendarWorkerLimits{8u << 20, 2, 5000ms});  // 8 MiB: far too little
  auto r = worker.compile(request(cal));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("memory"), std::string::npos) << r.error();
  EXPECT_TRUE(worker.compile(request(kCalendar)).ok());
}
#endif

TEST(CalendarWorker, RequestsRoundTrip) {
  auto r = request(kCalendar);
  r.kind = ical::CalendarKind::personal;
  r.unknown_fill = ical::Status::working;
  r.limits.max_occurrences = 7;
  auto back = decode_request(encode_request(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->calendar, r.calendar);
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->unknown_fill, r.unknown_fill);
  EXPECT_EQ(back->limits.max_occurrences, 7u);
  EXPECT_FALSE(decode_request("short").has_value());
}

// Every fuzzer find is read or refused within 1 s and bounded memory — never a crash or a hang
// of the caller.
TEST(CalendarWorker, FuzzCorpusIsReadOrRejectedWithinBounds) {
  CalendarWorker worker(CalendarWorkerLimits{256u << 20, 1, 1000ms});
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(CONCIERGE_CORPORA_DIR) / "libical-fuzz")) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.rfind("LICENSE", 0) == 0 || name == "README.md") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto started = std::chrono::steady_clock::now();
    auto r = worker.compile(request(ss.str()));
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_LT(took, 1500ms) << e.path().filename();
    if (!r.ok()) {
      EXPECT_GT(r.error().size(), 20u) << e.path().filename() << ": " << r.error();
    }
    ++files;
  }
  EXPECT_GT(files, 40u);
  EXPECT_TRUE(worker.compile(request(kCalendar)).ok());
}

}  // namespace
}  // namespace concierge::app
