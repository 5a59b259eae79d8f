// SPDX-License-Identifier: MIT
// Stanzas at the edges of the address space and of the stanza limits: every one gets an answer
// its sender can see (issue 14).
#include <component/core/router.hpp>

#include <gtest/gtest.h>

#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core {
namespace {

using testing::xml;

Settings edge_settings() {
  Settings s = testing::base_settings();
  return testing::enrol(s, {"bob@example.org", "alice@example.org"});
}

class EdgesTest : public ::testing::Test {
 protected:
  MemoryStore store;
  Router router{edge_settings(), store};
  Outbox out;
  Instant now{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};

  std::vector<xmpp::Element> handle(std::string_view text) {
    out.clear();
    router.handle(xml(text), now, out);
    return out.stanzas;
  }
  static std::string condition_of(const xmpp::Element& reply) {
    const auto* error = reply.child("error");
    if (!error) return "";
    for (const auto& c : error->children) {
      if (!c.is_text() && c.name != "text") return c.name;
    }
    return "";
  }
  static std::string error_text(const xmpp::Element& reply) {
    const auto* error = reply.child("error");
    return error ? error->child_text("text").value_or("") : "";
  }
};

TEST_F(EdgesTest, ChatToTheComponentsFullJidIsAnsweredLikeTheBareJid) {
  auto bare = handle(
      R"(<message from="alice@example.org/a" to="sched.example.org" type="chat"><body>help</body></message>)");
  ASSERT_EQ(bare.size(), 1u);
  auto full = handle(
      R"(<message from="alice@example.org/a" to="sched.example.org/something" type="chat"><body>help</body></message>)");
  ASSERT_EQ(full.size(), 1u) << "a command to the full JID gets an answer";
  EXPECT_EQ(full[0].attr("to"), "alice@example.org/a");
  EXPECT_EQ(full[0].attr("from"), "sched.example.org/something") << "from the JID written to";
  EXPECT_EQ(bare[0].attr("from"), "sched.example.org");
  EXPECT_EQ(full[0].child_text("body"), bare[0].child_text("body"));
}

TEST_F(EdgesTest, WritingToOnesOwnProxyIsRefusedNotRelayedBack) {
  auto sent = handle(
      R"(<message from="alice@example.org/a" to="alice\40example.org@sched.example.org" type="chat" id="s1"><body>me?</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("type"), "error") << "not relayed back to alice";
  EXPECT_EQ(sent[0].attr("id"), "s1");
  EXPECT_EQ(sent[0].attr("to"), "alice@example.org/a");
  EXPECT_EQ(condition_of(sent[0]), "not-acceptable");
  EXPECT_EQ(error_text(sent[0]), "You cannot send to yourself through Concierge.");
  EXPECT_EQ(router.stats().relayed, 0u);
  // The same sender writing to someone else is still relayed.
  sent = handle(
      R"(<message from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="chat"><body>hi</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].attr("to"), "bob@example.org");
}

TEST_F(EdgesTest, OwnProxyMatchesWhateverTheCaseOrResource) {
  auto sent = handle(
      R"(<message from="Alice@Example.org/a" to="alice\40example.org@sched.example.org/x" type="chat"><body>me?</body></message>)");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(condition_of(sent[0]), "not-acceptable");
}

TEST_F(EdgesTest, AStanzaTooDeepForTheConnectionIsRefusedToItsSender) {
  // What the connection hands on for a stanza it could not convert: the top level alone.
  out.clear();
  router.handle_too_deep(
      xml(R"(<message from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="chat" id="d1"/>)"),
      out);
  ASSERT_EQ(out.stanzas.size(), 1u);
  const auto& reply = out.stanzas[0];
  EXPECT_EQ(reply.attr("type"), "error");
  EXPECT_EQ(reply.attr("id"), "d1");
  EXPECT_EQ(reply.attr("to"), "alice@example.org/a");
  EXPECT_EQ(reply.attr("from"), "bob\\40example.org@sched.example.org");
  EXPECT_EQ(condition_of(reply), "policy-violation");
  EXPECT_EQ(error_text(reply), "This stanza is too large or too deeply nested.");
  out.clear();
  router.handle_too_deep(
      xml(R"(<iq from="alice@example.org/a" to="sched.example.org" type="get" id="q1"/>)"), out);
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].name, "iq");
  EXPECT_EQ(condition_of(out.stanzas[0]), "policy-violation");
  EXPECT_EQ(router.stats().refused, 2u);
}

TEST_F(EdgesTest, ATooDeepErrorOrPresenceIsNeverAnswered) {
  out.clear();
  router.handle_too_deep(
      xml(R"(<message from="alice@example.org/a" to="bob\40example.org@sched.example.org" type="error"/>)"),
      out);
  router.handle_too_deep(xml(R"(<presence from="alice@example.org/a" to="sched.example.org"/>)"),
                         out);
  EXPECT_TRUE(out.stanzas.empty()) << "an error is never answered with an error";
  EXPECT_EQ(router.stats().dropped, 2u);
  ASSERT_EQ(out.logs.size(), 2u);
  EXPECT_EQ(out.logs[0].text, "dropped an oversized <message>");
}

}  // namespace
}  // namespace concierge::core
