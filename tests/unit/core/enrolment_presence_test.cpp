// SPDX-License-Identifier: MIT
// Enrolment (XEP-0077), the XEP-0100 subscription, presence tracking, proxy presence.
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core {
namespace {

using namespace std::chrono_literals;

Settings settings() {
  Settings s = testing::base_settings({"example.org", "other.org"});
  return testing::enrol(s, {"bob@example.org"});  // by the config
}

using testing::xml;

class EnrolmentTest : public testing::CoreTest {
 protected:
  EnrolmentTest() : CoreTest(settings(), Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}}) {}

  static std::vector<std::string> types(const std::vector<xmpp::Element>& stanzas) {
    std::vector<std::string> t;
    for (const auto& s : stanzas) t.push_back(s.name + ":" + std::string(s.attr("type")));
    return t;
  }
  void register_alice(std::string_view tz = "Europe/Berlin", std::string_view url = "") {
    handle(std::string(R"(<iq type="set" id="r" from="alice@example.org/a" to="sched.example.org"><query xmlns="jabber:iq:register"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>jabber:iq:register</value></field><field var="timezone"><value>)") +
           std::string(tz) + R"(</value></field><field var="calendar_url"><value>)" +
           std::string(url) + "</value></field></x></query></iq>");
  }
  void presence(std::string_view from, std::string_view extra = "", std::string_view type = "") {
    handle(std::string(R"(<presence from=")") + std::string(from) +
           R"(" to="sched.example.org")" +
           (type.empty() ? "" : " type=\"" + std::string(type) + "\"") + ">" +
           std::string(extra) + "</presence>");
  }
};

TEST_F(EnrolmentTest, RegistrationFormAsksForTimezoneAndCalendar) {
  auto reply = handle(
      R"(<iq type="get" id="g" from="alice@example.org/a" to="sched.example.org"><query xmlns="jabber:iq:register"/></iq>)");
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(reply[0].attr("type"), "result");
  const std::string text = reply[0].to_xml();
  EXPECT_NE(text.find(R"(var="timezone")"), std::string::npos);
  EXPECT_NE(text.find(R"(var="calendar_url")"), std::string::npos);
  EXPECT_EQ(text.find("<registered"), std::string::npos);
}

TEST_F(EnrolmentTest, RegistrationEnrolsStoresAndAsksForPresenceSubscription) {
  register_alice("Europe/Berlin", "https://cal.example.org/alice.ics");
  ASSERT_EQ(types(out.stanzas), (std::vector<std::string>{"iq:result", "presence:subscribe"}));
  EXPECT_EQ(out.stanzas[1].attr("to"), "alice@example.org");
  EXPECT_EQ(out.stanzas[1].attr("from"), "sched.example.org");
  EXPECT_TRUE(router->directory().enrolled("alice@example.org"));
  auto stored = store.enrolment("alice@example.org");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->timezone, "Europe/Berlin");
  EXPECT_EQ(stored->calendar_url, "") << "the URL is pending until its calendar compiles";
  auto source = router->directory().schedule_source("alice@example.org");
  ASSERT_TRUE(source);
  EXPECT_TRUE(source->pending);
  EXPECT_EQ(source->url, "https://cal.example.org/alice.ics");
  router->schedule_compiled("alice@example.org", *source, nullptr, Instant{}, out);
  EXPECT_EQ(store.enrolment("alice@example.org")->calendar_url, "https://cal.example.org/alice.ics");
  // The enrolment survives a restart (a new router over the same store).
  Router restarted(settings(), store);
  EXPECT_TRUE(restarted.directory().enrolled("alice@example.org"));
  // … and a message to alice's proxy is now relayed.
  auto relayed = handle(
      R"(<message from="bob@example.org/b" to="alice\40example.org@sched.example.org" type="chat"><body>hi</body></message>)");
  ASSERT_EQ(relayed.size(), 1u);
  EXPECT_EQ(relayed[0].attr("to"), "alice@example.org");
}

TEST_F(EnrolmentTest, RegistrationRejectsBadTimezoneAndNonHttpsUrls) {
  register_alice("Mars/Olympus");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_NE(out.stanzas[0].to_xml().find("Unknown time zone"), std::string::npos);
  register_alice("Europe/Berlin", "file:///etc/passwd");
  EXPECT_NE(out.stanzas[0].to_xml().find("https://"), std::string::npos);
  register_alice("Europe/Berlin", "http://10.0.0.1/cal.ics");
  EXPECT_EQ(out.stanzas[0].attr("type"), "error") << "plain http only with allow_private_urls";
  EXPECT_FALSE(router->directory().enrolled("alice@example.org"));
  EXPECT_TRUE(store.enrolments().empty());
}

TEST_F(EnrolmentTest, RegistrationFromOutsideServedDomainsIsRefused) {
  handle(R"(<iq type="set" id="r" from="eve@evil.example/a" to="sched.example.org"><query xmlns="jabber:iq:register"><x xmlns="jabber:x:data" type="submit"><field var="timezone"><value>UTC</value></field></x></query></iq>)");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_NE(out.stanzas[0].to_xml().find("not-allowed"), std::string::npos);
  EXPECT_FALSE(router->directory().enrolled("eve@evil.example"));
}

TEST_F(EnrolmentTest, UnregisterRemovesDataAndBothSubscriptions) {
  register_alice();
  presence("alice@example.org", "", "subscribed");
  handle(R"(<iq type="set" id="u" from="alice@example.org/a" to="sched.example.org"><query xmlns="jabber:iq:register"><remove/></query></iq>)");
  EXPECT_EQ(types(out.stanzas),
            (std::vector<std::string>{"iq:result", "presence:unsubscribe", "presence:unsubscribed"}));
  EXPECT_FALSE(router->directory().enrolled("alice@example.org"));
  EXPECT_TRUE(store.enrolments().empty());
  EXPECT_TRUE(store.subscriptions().empty());
}

// DESIGN §12: removing a user from [users] unenrols them — as leaving does: the component
// drops its subscription to their presence both ways, their proxy's subscribers are told it is
// gone, and the store forgets them.
TEST_F(EnrolmentTest, AUserRemovedFromTheConfigIsUnenrolledLikeOneWhoLeaves) {
  presence("bob@example.org", "", "subscribed");
  handle(R"(<presence from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="subscribe"/>)");
  ASSERT_EQ(store.proxy_subscriptions().size(), 1u);
  ASSERT_EQ(store.subscriptions().size(), 1u);
  Settings without_bob = settings();
  without_bob.enrolled.erase("bob@example.org");
  without_bob.users.erase("bob@example.org");
  out.clear();
  router->reconfigure(without_bob, now, out);
  EXPECT_FALSE(router->directory().enrolled("bob@example.org"));
  std::vector<std::string> to_bob, to_alice;
  for (const auto& s : out.stanzas) {
    if (s.attr("to") == "bob@example.org") to_bob.push_back(s.name + ":" + std::string(s.attr("type")));
    if (s.attr("to") == "alice@example.org") to_alice.push_back(s.name + ":" + std::string(s.attr("type")));
  }
  EXPECT_EQ(to_bob, (std::vector<std::string>{"presence:unsubscribe", "presence:unsubscribed"}));
  EXPECT_EQ(to_alice, (std::vector<std::string>{"presence:unavailable", "presence:unsubscribed"}))
      << "bob's proxy is gone for its subscriber";
  EXPECT_TRUE(store.subscriptions().empty());
  EXPECT_TRUE(store.proxy_subscriptions().empty());
}

TEST_F(EnrolmentTest, ConfigUsersCannotUnregisterOrChangeTheirSettings) {
  handle(R"(<iq type="set" id="u" from="bob@example.org/a" to="sched.example.org"><query xmlns="jabber:iq:register"><remove/></query></iq>)");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_NE(out.stanzas[0].to_xml().find("enrolled by your admin"), std::string::npos);
  EXPECT_TRUE(router->directory().enrolled("bob@example.org"));
}

TEST_F(EnrolmentTest, SubscriptionFlowIsMutualIdempotentAndRemembered) {
  // bob (config user) subscribes to the component, twice (clients send duplicates).
  presence("bob@example.org", "", "subscribe");
  EXPECT_EQ(types(out.stanzas),
            (std::vector<std::string>{"presence:subscribed", "presence:", "presence:subscribe"}));
  presence("bob@example.org", "", "subscribe");
  EXPECT_EQ(types(out.stanzas), (std::vector<std::string>{"presence:subscribed", "presence:"}))
      << "asked once, not again";
  presence("bob@example.org", "", "subscribed");
  presence("bob@example.org", "", "subscribed");
  auto states = store.subscriptions();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_TRUE(states[0].asked && states[0].to && states[0].from);

  // After a restart and reconnect: a probe, our presence — and no new subscription request.
  Router restarted(settings(), store);
  Outbox o;
  restarted.connected(now, o);
  EXPECT_EQ(types(o.paced), (std::vector<std::string>{"presence:", "presence:probe"}));
}

TEST_F(EnrolmentTest, ConfigUsersAreAskedOnceOnFirstConnectOnly) {
  Outbox o;
  router->connected(now, o);
  ASSERT_EQ(types(o.paced), (std::vector<std::string>{"presence:subscribe"}));
  EXPECT_EQ(o.paced[0].attr("to"), "bob@example.org");
  presence("bob@example.org", "", "unsubscribed");  // bob declines
  Outbox again;
  Router(settings(), store).connected(now, again);
  EXPECT_TRUE(again.paced.empty()) << "a refusal is remembered: no nagging on every connect";
}

TEST_F(EnrolmentTest, PresenceOfEnrolledUsersIsTrackedPerResource) {
  presence("bob@example.org", "", "subscribed");  // bob granted: his presence counts
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::unknown);
  presence("bob@example.org/desk", "<show>dnd</show><priority>5</priority>");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::dnd);
  EXPECT_FALSE(router->presences().session_idle("bob@example.org", now)) << "dnd is not session-idle";
  presence("bob@example.org/phone", "<show>away</show>");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::available);
  presence("bob@example.org/phone", "", "unavailable");
  presence("bob@example.org/desk", "", "unavailable");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::offline);
  EXPECT_EQ(router->stats().presences, 4u);
}

TEST_F(EnrolmentTest, ReplayedPresenceWithDelayAndIdleIsUnderstoodAndBadStampsIgnored) {
  presence("bob@example.org", "", "subscribed");  // bob granted: his presence counts
  presence("bob@example.org/desk",
           R"(<delay xmlns="urn:xmpp:delay" stamp="2026-11-25T08:00:00Z"/><idle xmlns="urn:xmpp:idle:1" since="not-a-date"/>)");
  EXPECT_EQ(router->presences().book().reachability("bob@example.org"), Reachability::available);
}

TEST_F(EnrolmentTest, PresenceOfOthersIsIgnoredAndForeignFloodsLoggedOnce) {
  presence("carol@example.org/x");
  EXPECT_EQ(router->presences().book().reachability("carol@example.org"), Reachability::unknown);
  int logs = 0;
  Outbox o;
  for (int i = 0; i < 200; ++i) {
    router->handle(xml("<presence from=\"spam" + std::to_string(i) +
                       "@evil.example/y\" to=\"sched.example.org\"/>"),
                   now, o);
  }
  for (const auto& l : o.logs) logs += l.text.find("evil.example") != std::string::npos;
  EXPECT_EQ(logs, 1) << "a flood from one foreign domain is logged once";
  EXPECT_TRUE(o.stanzas.empty());
}

TEST_F(EnrolmentTest, ProxyPresenceShowsOnlyDerivedStatus) {
  presence("bob@example.org", "", "subscribed");  // bob granted: his presence counts
  // alice (same domain) subscribes to bob's proxy: approved, and told bob is available.
  auto sent = handle(
      R"(<presence from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="subscribe"/>)");
  ASSERT_EQ(types(sent), (std::vector<std::string>{"presence:subscribed", "presence:"}));
  EXPECT_EQ(sent[1].attr("from"), "bob\\40example.org@sched.example.org");
  EXPECT_EQ(store.proxy_subscriptions().size(), 1u);
  // bob says dnd with an idle time: subscribers see "in a conversation", never raw presence.
  presence("bob@example.org/desk",
           R"(<show>dnd</show><status>dentist</status><idle xmlns="urn:xmpp:idle:1" since="2026-11-25T08:00:00Z"/>)");
  ASSERT_EQ(out.stanzas.size(), 1u);
  const std::string pushed = out.stanzas[0].to_xml();
  EXPECT_EQ(out.stanzas[0].attr("to"), "alice@example.org");
  EXPECT_NE(pushed.find("in a conversation"), std::string::npos);
  EXPECT_EQ(pushed.find("dentist"), std::string::npos);
  EXPECT_EQ(pushed.find("idle"), std::string::npos);
  // Same status again: nothing new is pushed.
  presence("bob@example.org/desk", "<show>dnd</show>");
  EXPECT_TRUE(out.stanzas.empty());
  // A probe is answered from memory.
  auto probe = handle(
      R"(<presence from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="probe"/>)");
  ASSERT_EQ(probe.size(), 1u);
  EXPECT_NE(probe[0].to_xml().find("in a conversation"), std::string::npos);
  // Shutdown: unavailable from every proxy with subscribers.
  Outbox o;
  router->presences().disconnecting(o);
  ASSERT_FALSE(o.stanzas.empty());
  EXPECT_EQ(o.stanzas[0].attr("type"), "unavailable");
  EXPECT_EQ(o.stanzas[0].attr("from"), "bob\\40example.org@sched.example.org");
}

TEST_F(EnrolmentTest, ProxySubscriptionFromAnotherDomainIsDeclinedByDefault) {
  auto sent = handle(
      R"(<presence from="carl@other.org/a" to="bob\40example.org@sched.example.org" type="subscribe"/>)");
  EXPECT_EQ(types(sent), (std::vector<std::string>{"presence:unsubscribed"}));
  EXPECT_TRUE(store.proxy_subscriptions().empty());
  auto probe = handle(
      R"(<presence from="carl@other.org/a" to="bob\40example.org@sched.example.org" type="probe"/>)");
  EXPECT_EQ(types(probe), (std::vector<std::string>{"presence:unsubscribed"}));
}

TEST_F(EnrolmentTest, CountedSessionMakesProxyBusyUntilItGoesIdle) {
  presence("bob@example.org", "", "subscribed");  // bob granted: his presence counts
  handle(R"(<presence from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="subscribe"/>)");
  presence("bob@example.org/desk");
  handle(R"(<message from="carol@example.org/c" to="bob\40example.org@sched.example.org" type="chat"><body>hi</body></message>)");
  EXPECT_TRUE(router->presences().session_idle("bob@example.org", now)) << "counts only once both wrote";
  auto answer = handle(
      R"(<message from="bob@example.org/desk" to="carol\40example.org@sched.example.org" type="chat"><body>hi carol</body></message>)");
  EXPECT_FALSE(router->presences().session_idle("bob@example.org", now));
  ASSERT_EQ(answer.size(), 2u) << "the relayed reply and the push to alice";
  EXPECT_NE(answer[1].to_xml().find("in a conversation"), std::string::npos);
  ASSERT_TRUE(router->scheduler().next_wake());
  EXPECT_EQ(*router->scheduler().next_wake(), now + router->settings().idle_after);
  now = *router->scheduler().next_wake();
  out.clear();
  router->tick(now, out);
  EXPECT_TRUE(router->presences().session_idle("bob@example.org", now));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].child("show"), nullptr) << "available again";
}

TEST_F(EnrolmentTest, GoneEndsTheSession) {
  presence("bob@example.org", "", "subscribed");  // bob granted: his presence counts
  presence("bob@example.org/desk");
  handle(R"(<message from="carol@example.org/c" to="bob\40example.org@sched.example.org" type="chat"><body>hi</body></message>)");
  handle(R"(<message from="bob@example.org/d" to="carol\40example.org@sched.example.org" type="chat"><body>yo</body></message>)");
  EXPECT_TRUE(router->presences().sessions().is_open("bob@example.org", "carol@example.org", now));
  handle(R"(<message from="carol@example.org/c" to="bob\40example.org@sched.example.org" type="chat"><gone xmlns="http://jabber.org/protocol/chatstates"/></message>)");
  EXPECT_FALSE(router->presences().sessions().is_open("bob@example.org", "carol@example.org", now));
}

TEST_F(EnrolmentTest, PrivilegeAdvertisementIsRecognisedInBothNamespaces) {
  for (const char* ns : {"urn:xmpp:privilege:1", "urn:xmpp:privilege:2"}) {
    restart(settings());
    handle(std::string(R"(<message from="example.org" to="sched.example.org"><privilege xmlns=")") + ns +
           R"("><perm access="presence" type="managed_entity"/></privilege></message>)");
    EXPECT_TRUE(router->presences().subscriptions().presence_privilege()) << ns;
    EXPECT_TRUE(out.stanzas.empty()) << "never answered";
  }
}

TEST_F(EnrolmentTest, GatewayTurnsAPlainJidIntoItsProxy) {
  auto prompt = handle(
      R"(<iq type="get" id="g" from="alice@example.org/a" to="sched.example.org"><query xmlns="jabber:iq:gateway"/></iq>)");
  ASSERT_EQ(prompt.size(), 1u);
  EXPECT_TRUE(prompt[0].child("query")->child_text("prompt"));
  auto answer = handle(
      R"(<iq type="set" id="s" from="alice@example.org/a" to="sched.example.org"><query xmlns="jabber:iq:gateway"><prompt>bob@example.org</prompt></query></iq>)");
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].child("query")->child_text("jid"), "bob\\40example.org@sched.example.org");
  auto bad = handle(
      R"(<iq type="set" id="s" from="alice@example.org/a" to="sched.example.org"><query xmlns="jabber:iq:gateway"><prompt>not a jid</prompt></query></iq>)");
  EXPECT_EQ(bad[0].attr("type"), "error");
}

}  // namespace
}  // namespace concierge::core
