// SPDX-License-Identifier: MIT
// The divert protocol's iq ids belong to whoever chose them (xmpp/server/PROTOCOL.md): two
// server extensions may use the same divert id, and an answer to a release counts only from
// the extension it went to. Fake clock, plain values.
#include <tests/unit/core/transparent_fixture.hpp>

namespace concierge::core::testing {
namespace {

// Concierge serves example.org and example.net; dave@example.net is enrolled too.
Settings two_domains() {
  Settings s = transparent_settings();
  s.served_domains.insert("example.net");
  enrol(s, {"dave@example.net"}, "Europe/Berlin");
  return s;
}

class TwoExtensionsTest : public TransparentTest {
 protected:
  TwoExtensionsTest() : TransparentTest(two_domains()) {}
  void SetUp() override {
    TransparentTest::SetUp();
    router->pause("bob@example.org", now + 1h, now, out);
    router->pause("dave@example.net", now + 1h, now, out);
    // Each server's extension counts its diverts from 1: both send divert id "1".
    divert_content("example.org", "alice@example.org/phone", "bob@example.org", "1",
                   "<body>for bob</body>");
    divert_content("example.net", "erin@example.net/pc", "dave@example.net", "1",
                   "<body>for dave</body>");
    out.clear();
  }
  std::vector<std::string> held_bodies(const std::string& target) const {
    std::vector<std::string> b;
    for (const auto& h : router->scheduler().holds_for(target)) b.push_back(xml(h.stanza).child_text("body").value_or(""));
    return b;
  }
  // The release iq now going out to `extension`: its id.
  std::string release_to(const std::string& extension) const {
    for (const auto& r : out.releases) {
      if (r.stanza.attr("to") == extension) return std::string(r.stanza.attr("id"));
    }
    return "";
  }
  void answer(const std::string& extension, const std::string& id) {
    pass(divert::encode(divert::ReleaseAnswer{{extension, "sched.example.org", id},
                                              divert::ReleaseAnswer::Outcome::kTaken, ""}));
  }
};

TEST_F(TwoExtensionsTest, ACancelDropsOnlyTheHoldOfTheExtensionThatSentIt) {
  ASSERT_EQ(held_bodies("bob@example.org"), std::vector<std::string>{"for bob"});
  ASSERT_EQ(held_bodies("dave@example.net"), std::vector<std::string>{"for dave"});
  pass(divert::encode(divert::Cancel{{"example.net", "sched.example.org", "cc-1"}, "1"}));
  EXPECT_TRUE(held_bodies("dave@example.net").empty()) << "example.net failed open for dave";
  EXPECT_EQ(held_bodies("bob@example.org"), std::vector<std::string>{"for bob"})
      << "example.org's divert 1 is another message";
  // And the same id from example.org now drops bob's.
  pass(divert::encode(divert::Cancel{{"example.org", "sched.example.org", "cc-1"}, "1"}));
  EXPECT_TRUE(held_bodies("bob@example.org").empty());
}

TEST_F(TwoExtensionsTest, AReleaseIsConfirmedOnlyByTheExtensionItWentTo) {
  tick_to(now + 1h);
  const std::string to_org = release_to("example.org");
  ASSERT_FALSE(to_org.empty());
  ASSERT_FALSE(release_to("example.net").empty());
  // example.net answers with the id of example.org's release: not the answer to it.
  answer("example.net", to_org);
  EXPECT_TRUE(bodies_to(out.stanzas, "alice@example.org").empty()) << "bob has not got it yet";
  // example.org's own answer confirms it: alice hears it was delivered.
  answer("example.org", to_org);
  EXPECT_EQ(bodies_to(out.stanzas, "alice@example.org"),
            std::vector<std::string>{"sched.example.org: Concierge: your held message to "
                                     "bob@example.org was delivered."});
}

}  // namespace
}  // namespace concierge::core::testing
