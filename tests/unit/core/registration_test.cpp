// SPDX-License-Identifier: MIT
// Registration on its own (no Router): XEP-0077 enrols through the Router's callback only with
// a known zone and an acceptable URL; a user enrolled by the config is refused; XEP-0100's
// gateway turns an address into its proxy address.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <component/core/registration.hpp>
#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core::testing {
namespace {

using namespace std::chrono_literals;

const Instant kNow = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 9h;

class RegistrationTest : public ::testing::Test {
 protected:
  RegistrationTest() { enrol(settings, {"ann@example.org"}, "Europe/Berlin"); }
  RegistrationActions actions() {
    RegistrationActions a;
    a.served = [this](const xmpp::Jid& jid) {
      return settings.served_domains.count(jid.domain()) != 0;
    };
    a.enrol = [this](const std::string& user, const std::string& zone,
                     const std::optional<std::string>& url, Instant,
                     Outbox&) { enrolled.push_back(user + " " + zone + " " + url.value_or("-")); };
    a.unenrol = [this](const std::string& user, Outbox&) { unenrolled.push_back(user); };
    return a;
  }
  // `payload` in an iq of `type` from `who`: the answer's type ("result", "error", "none").
  std::string iq(const std::string& who, const std::string& type, const std::string& payload) {
    out.clear();
    const auto from = xmpp::Jid::parse(who + "/r");
    if (!registration.handle(xml("<iq type=\"" + type + "\" id=\"r\" from=\"" + who +
                                 "/r\" to=\"sched.example.org\">" + payload + "</iq>"),
                             *from, kNow, out)) {
      return "none";
    }
    return out.stanzas.empty() ? "silent" : std::string(out.stanzas.back().attr("type"));
  }
  static std::string submit(const std::string& zone, const std::string& url) {
    return "<query xmlns=\"jabber:iq:register\"><x xmlns=\"jabber:x:data\" type=\"submit\">"
           "<field var=\"timezone\"><value>" +
           zone +
           "</value></field>"
           "<field var=\"calendar_url\"><value>" +
           url + "</value></field></x></query>";
  }

  Settings settings = base_settings();
  MemoryStore store;
  Directory directory{settings, store};
  RouterStats stats;
  Registration registration{settings, directory, actions(), stats};
  Outbox out;
  std::vector<std::string> enrolled, unenrolled;
};

TEST_F(RegistrationTest, ASubmittedFormEnrolsOnlyWithAKnownZoneAndAnHttpsUrl) {
  EXPECT_EQ(iq("bob@example.org", "set", submit("Mars/Olympus", "")), "error");
  EXPECT_EQ(iq("bob@example.org", "set", submit("Europe/Paris", "file:///etc/passwd")), "error");
  EXPECT_TRUE(enrolled.empty());
  EXPECT_EQ(stats.refused, 2u);
  EXPECT_EQ(iq("bob@example.org", "set", submit("Europe/Paris", "https://cal.example.org/b.ics")),
            "result");
  EXPECT_EQ(enrolled,
            std::vector<std::string>{"bob@example.org Europe/Paris https://cal.example.org/b.ics"});
}

TEST_F(RegistrationTest, TheConfigsUsersAreRefusedAndOthersNotServed) {
  EXPECT_EQ(iq("ann@example.org", "set", submit("Europe/Paris", "")), "error");
  EXPECT_EQ(iq("ann@example.org", "set", "<query xmlns=\"jabber:iq:register\"><remove/></query>"),
            "error");
  EXPECT_EQ(iq("eve@elsewhere.org", "set", submit("Europe/Paris", "")), "error");
  EXPECT_TRUE(enrolled.empty());
  EXPECT_TRUE(unenrolled.empty());
  // The form shows the config's user as registered.
  EXPECT_EQ(iq("ann@example.org", "get", "<query xmlns=\"jabber:iq:register\"/>"), "result");
  EXPECT_NE(out.stanzas.back().child("query")->child("registered"), nullptr);
  EXPECT_EQ(iq("bob@example.org", "get", "<query xmlns=\"jabber:iq:register\"/>"), "result");
  EXPECT_EQ(out.stanzas.back().child("query")->child("registered"), nullptr);
}

TEST_F(RegistrationTest, TheGatewayGivesAnAddressItsProxyAddress) {
  EXPECT_EQ(iq("bob@example.org", "set",
               "<query xmlns=\"jabber:iq:gateway\"><prompt>carol@other.org</prompt></query>"),
            "result");
  EXPECT_EQ(out.stanzas.back().child("query")->child_text("jid").value_or(""),
            "carol\\40other.org@sched.example.org");
  EXPECT_EQ(iq("bob@example.org", "set",
               "<query xmlns=\"jabber:iq:gateway\"><prompt>carol</prompt></query>"),
            "error");
  EXPECT_EQ(iq("bob@example.org", "get", "<query xmlns=\"jabber:iq:version\"/>"), "none");
}

}  // namespace
}  // namespace concierge::core::testing
