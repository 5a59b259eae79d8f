// SPDX-License-Identifier: MIT
// The "while you were away" summary is tied to its release being confirmed: a stream cut
// between the two sends it again with the release (issue 14) — with a fake clock.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/office_hours.hpp>
#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

#include <ical/compile.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;
using testing::office_hours;
using testing::xml;

// Mon 2026-11-30, 19:00 Berlin: bob (Mon-Fri 09:00-17:00 Europe/Berlin) is off until Tue 09:00.
const Instant kMonday1800Utc =
    Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 18h;
const Instant kTuesday0800Utc = kMonday1800Utc + 14h;

Settings summary_settings() {
  Settings s = testing::base_settings();
  return testing::enrol(s, {"bob@example.org", "alice@example.org"}, "Europe/Berlin");
}

class SummaryTest : public ::testing::Test {
 protected:
  MemoryStore store;
  Router router{summary_settings(), store};
  Outbox out;
  Instant now = kMonday1800Utc;

  void SetUp() override {
    router.connected(now, out);
    router.set_schedule("bob@example.org", office_hours(now), now, out);
    // bob granted Concierge his presence: only then does it count (DESIGN §4).
    router.handle(
        xml(R"(<presence from="bob@example.org" to="sched.example.org" type="subscribed"/>)"), now,
        out);
    bob_present();
    out.clear();
  }
  void bob_present() {
    router.handle(xml(R"(<presence from="bob@example.org/desk" to="sched.example.org"/>)"), now,
                  out);
  }
  void alice_writes(const std::string& id, const std::string& text) {
    router.handle(
        xml(R"(<message from="alice@example.org/r" to="bob\40example.org@sched.example.org" type="chat" id=")" +
            id + R"("><body>)" + text + "</body></message>"),
        now, out);
  }
  // Chats from the component to bob in this turn (the summary is the only one).
  std::vector<std::string> summaries() const {
    std::vector<std::string> found;
    for (const auto& s : out.stanzas) {
      if (s.attr("from") == "sched.example.org" && s.attr("to") == "bob@example.org") {
        found.push_back(s.child_text("body").value_or(""));
      }
    }
    return found;
  }
  std::vector<std::string> released() const {
    std::vector<std::string> b;
    for (const auto& r : out.releases) b.push_back(r.stanza.child_text("body").value_or(""));
    return b;
  }
  std::vector<std::int64_t> released_ids() const {
    std::vector<std::int64_t> ids;
    for (const auto& r : out.releases) ids.push_back(r.hold_id);
    return ids;
  }
  // The stream is cut and comes back a minute later; bob's presence arrives again.
  void stream_cut_and_back() {
    router.releaser().disconnected();
    now += 1min;
    out.clear();
    router.connected(now, out);
    out.clear();
    bob_present();
  }
};

const char* const kSummary =
    "Concierge: while you were away, 1 person wrote 2 messages: alice@example.org (2 since Mon "
    "19:00). Here they come.";

TEST_F(SummaryTest, AStreamCutBeforeTheReleaseIsConfirmedSendsTheSummaryAgainWithIt) {
  alice_writes("m1", "one");
  alice_writes("m2", "two");
  ASSERT_TRUE(out.stanzas.empty()) << "held while bob is off";
  now = kTuesday0800Utc;
  out.clear();
  router.tick(now, out);
  ASSERT_EQ(summaries(), std::vector<std::string>{kSummary});
  ASSERT_EQ(released(), (std::vector<std::string>{"one", "two"}));

  stream_cut_and_back();  // no ping answer came: neither summary nor release is known to be in
  EXPECT_EQ(released(), (std::vector<std::string>{"one", "two"})) << "the release is retried";
  EXPECT_EQ(summaries(), std::vector<std::string>{kSummary}) << "and its summary with it";

  // Confirmed this time: nothing is held, and a later cut sends nothing again.
  router.releaser().release_confirmed(released_ids(), now, out);
  stream_cut_and_back();
  EXPECT_TRUE(out.releases.empty());
  EXPECT_TRUE(summaries().empty());
}

TEST_F(SummaryTest, AConfirmedSummaryIsNotRepeatedForMessagesThatArriveLater) {
  alice_writes("m1", "one");
  alice_writes("m2", "two");
  now = kTuesday0800Utc;
  out.clear();
  router.tick(now, out);
  ASSERT_EQ(summaries().size(), 1u);
  router.releaser().release_confirmed(released_ids(), now, out);
  // The conversation is open now: alice's next message goes at once, with no summary.
  now += 1min;
  out.clear();
  alice_writes("m3", "three");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].child_text("body"), "three");
  EXPECT_TRUE(summaries().empty());
}

}  // namespace
}  // namespace concierge::core
