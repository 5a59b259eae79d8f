// SPDX-License-Identifier: MIT
// Real-world calendars from other projects' test suites (tests/corpora/, each folder with its
// licence and a README naming the source). Hostile files (libical-fuzz/) are covered through the
// calendar worker in tests/unit/app, since only the worker can bound a hang inside libical.
#include <ical/compile.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace concierge::ical {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpora = CONCIERGE_CORPORA_DIR;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Schedule> load(const fs::path& p) {
  CompileRequest r;
  r.calendar = slurp(p);
  r.zone = "Europe/Berlin";
  set_window_around(r, 1774742400);  // 2026-03-29: a DST change inside the window
  return compile(r);
}

std::vector<fs::path> files(const std::string& dir, const std::string& must_contain = "") {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kCorpora / dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.rfind("LICENSE", 0) == 0 || name == "README.md") continue;
    if (!must_contain.empty() && name.find(must_contain) == std::string::npos) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The suite stands alone: a clone with nothing beside it has every corpus file it reads.
TEST(Corpus, LivesInsideTheRepository) {
  const auto corpora = fs::weakly_canonical(kCorpora).string();
  const auto source = fs::weakly_canonical(CONCIERGE_SOURCE_DIR).string() + "/";
  EXPECT_EQ(corpora.rfind(source, 0), 0u) << corpora << " is outside " << source;
  EXPECT_TRUE(fs::is_regular_file(kCorpora / "libical" / "LICENSE.txt"));
}

// A clear error names the problem in words: not empty, not a code.
void expect_clear(const Result<Schedule>& r, const fs::path& p) {
  if (!r.ok()) {
    EXPECT_GT(r.error().size(), 20u) << p.filename() << ": " << r.error();
  }
}

TEST(Corpus, Ical4jValidFilesAllLoad) {
  const auto all = files("ical4j", "_valid_");
  ASSERT_GT(all.size(), 50u);
  for (const auto& p : all) {
    auto r = load(p);
    EXPECT_TRUE(r.ok()) << p.filename() << ": " << r.error();
  }
}

// ical4j's "invalid" samples break its strict RFC validation (missing PRODID, lowercase names,
// odd parameters) but most still mean something clear; Concierge is lenient and reads them, with
// warnings where libical had to drop something. Truly broken ones get a clear error.
TEST(Corpus, Ical4jInvalidFilesLoadWithWarningsOrGiveAClearError) {
  const auto all = files("ical4j", "_invalid_");
  ASSERT_GT(all.size(), 10u);
  std::size_t errors = 0;
  for (const auto& p : all) {
    auto r = load(p);
    expect_clear(r, p);
    errors += r.ok() ? 0 : 1;
  }
  EXPECT_GE(errors, 1u);  // 13-MoonPhase.ics is cut off inside a VEVENT
}

// Files of the python icalendar suite that are not usable calendars, and why.
const std::set<std::string> kIcalendarNotCalendars = {
    // no END:VCALENDAR: indistinguishable from a truncated download, which must not replace the
    // last good schedule
    "src_icalendar_tests_calendars_big_bad_calendar.ics",
    "src_icalendar_tests_calendars_small_bad_calendar.ics",
    "src_icalendar_tests_calendars_pr_480_summary_with_colon.ics",
    // fuzzer cases and custom top-level components, not calendars
    "src_icalendar_tests_calendars_fuzz_testcase_0_char_in_component_name.ics",
    "src_icalendar_tests_calendars_fuzz_testcase_invalid_month.ics",
    "src_icalendar_tests_calendars_issue_178_component_with_invalid_name_represented.ics",
    "src_icalendar_tests_calendars_issue_178_custom_component_contains_other.ics",
};

TEST(Corpus, IcalendarFilesLoadOrAreDocumentedNonCalendars) {
  const auto all = files("icalendar");
  ASSERT_GT(all.size(), 100u);
  for (const auto& p : all) {
    auto r = load(p);
    if (kIcalendarNotCalendars.count(p.filename().string()) != 0) {
      EXPECT_FALSE(r.ok()) << p.filename();
      expect_clear(r, p);
    } else {
      EXPECT_TRUE(r.ok()) << p.filename() << ": " << r.error();
    }
  }
}

// Its calendar ends with END:VCALENDARD (a typo, malformed on purpose): read, with a warning
// naming the line, as calendar apps read it.
TEST(Corpus, MisspeltCalendarEndIsReadWithAWarning) {
  auto r = load(kCorpora / "icalendar" /
                "src_icalendar_tests_calendars_timezone_same_start_and_offset.ics");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->warnings().size(), 1u);
  EXPECT_NE(r->warnings()[0].find("END:VCALENDARD (line 23)"), std::string::npos)
      << r->warnings()[0];
}

TEST(Corpus, IcaljsAndLibicalFilesLoadOrGiveAClearError) {
  for (const std::string dir : {"icaljs", "libical"}) {
    for (const auto& p : files(dir)) expect_clear(load(p), p);
  }
}

// The fast text reader and libical's parser must mean the same for every real-world file.
TEST(Corpus, TextReaderAgreesWithLibical) {
  std::size_t compared = 0;
  for (const std::string dir : {"icalendar", "ical4j", "icaljs", "libical"}) {
    for (const auto& p : files(dir)) {
      // RFC examples live in 1997/98, others around 2005–2010, real ones now.
      for (const UtcSeconds around : {874000000, 1104537600, 1262304000, 1774742400}) {
        CompileRequest r;
        r.calendar = slurp(p);
        r.zone = "Europe/Berlin";
        set_window_around(r, around, 400);
        auto fast = compile(r);
        r.limits.text_reader = false;
        auto slow = compile(r);
        ASSERT_EQ(fast.ok(), slow.ok()) << p.filename();
        if (!fast.ok()) continue;
        const auto a = fast->changes_between(fast->window_from(), fast->window_to());
        const auto b = slow->changes_between(slow->window_from(), slow->window_to());
        ASSERT_EQ(a.size(), b.size()) << p.filename();
        for (std::size_t i = 0; i < a.size(); ++i) {
          EXPECT_EQ(a[i].at, b[i].at) << p.filename() << " #" << i;
          EXPECT_EQ(a[i].status, b[i].status) << p.filename() << " #" << i;
        }
        compared += a.size();
      }
    }
  }
  EXPECT_GT(compared, 1000u);  // changes compared
}

// RFC 7953's example: available Monday to Friday 09:00-17:00 Montreal time. Read as a personal
// calendar, that is the working time; the rest of the week is off (BUSY-UNAVAILABLE by default).
TEST(Corpus, RfcAvailabilityExampleGivesMondayToFridayInMontreal) {
  CompileRequest r;
  r.calendar = slurp(kCorpora / "icalendar" / "src_icalendar_tests_availabilities_rfc_7953_1.ics");
  r.zone = "Europe/Berlin";
  r.kind = CalendarKind::personal;
  set_window_around(r, 1774742400);  // 2026-03-29
  auto s = compile(r);
  ASSERT_TRUE(s.ok()) << s.error();
  const UtcSeconds monday_10_montreal = 1774879200;  // 2026-03-30T14:00:00Z (EDT, UTC-4)
  EXPECT_EQ(s->status_at(monday_10_montreal), Status::working);
  EXPECT_EQ(s->status_at(monday_10_montreal + 8 * 3600), Status::off_hours) << "18:00 there";
  EXPECT_EQ(s->status_at(monday_10_montreal + 5 * 86400), Status::off_hours) << "Saturday";
  EXPECT_EQ(s->next_change_after(monday_10_montreal), monday_10_montreal + 7 * 3600)
      << "17:00 there";
}

}  // namespace
}  // namespace concierge::ical
