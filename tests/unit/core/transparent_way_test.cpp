// SPDX-License-Identifier: MIT
// Transparent delivery (DESIGN §10, xmpp/server/PROTOCOL.md): the server extension's diverts
// decided by the same core as proxy messages — verdicts, holds and their release iqs, notices
// from the component, cancel, reports, the enrolled set. Fake clock, plain values.
#include <tests/unit/core/transparent_fixture.hpp>

namespace concierge::core::testing {
namespace {

TEST_F(TransparentTest, AFreeTargetGetsItAtOnceByTheExtensionsOwnCopy) {
  divert_to_bob("alice@example.org/phone", "d1", "lunch?");
  const auto v = verdicts(out.stanzas);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].divert_id, "d1");
  EXPECT_EQ(v[0].envelope.to, "example.org");
  EXPECT_EQ(v[0].envelope.id, "cd-d1");
  EXPECT_TRUE(std::holds_alternative<divert::Deliver>(v[0].decision));
  EXPECT_EQ(out.stanzas.size(), 1u) << "nothing relayed besides the verdict";
  EXPECT_TRUE(out.forwarded.empty());
  EXPECT_TRUE(out.after_commit.empty());
  EXPECT_EQ(router->scheduler().holds().size(), 0u);
}

TEST_F(TransparentTest, APausedTargetsMessageIsHeldAndReleasedFromTheRealSender) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "d2", "lunch?");
  EXPECT_TRUE(verdicts(out.stanzas).empty()) << "held only after the commit";
  const auto held = verdicts(out.after_commit);
  ASSERT_EQ(held.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<divert::Held>(held[0].decision));
  EXPECT_EQ(std::get<divert::Held>(held[0].decision).token, "token-d2");
  // The notice comes from the component's bare JID and names bob.
  const auto notices = bodies_to(out.after_commit, "alice@example.org");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].substr(0, notices[0].find(':')), "sched.example.org");
  EXPECT_NE(notices[0].find("bob@example.org is busy until"), std::string::npos) << notices[0];

  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 1u);
  const auto release = divert::decode_release(out.releases[0].stanza);
  ASSERT_TRUE(release) << out.releases[0].stanza.to_xml();
  EXPECT_EQ(release->envelope.to, "example.org");
  EXPECT_EQ(release->divert_id, "d2");
  EXPECT_EQ(release->token, "token-d2");
  EXPECT_EQ(release->message.attr("from"), "alice@example.org/phone");
  EXPECT_EQ(release->message.attr("to"), "bob@example.org");
  EXPECT_EQ(release->message.attr("id"), "m-d2");
  EXPECT_EQ(release->message.child_text("body"), "lunch?");
  EXPECT_EQ(release->message.child(kDivertedMark), nullptr);
  const auto* delay = release->message.child("delay", "urn:xmpp:delay");
  ASSERT_NE(delay, nullptr);
  EXPECT_EQ(delay->attr("from"), "sched.example.org");
  EXPECT_EQ(delay->attr("stamp"), "2026-11-30T09:00:00Z");
}

TEST_F(TransparentTest, ABounceHoldsItAgainAndTheResultConfirmsIt) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "d3", "one");
  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 1u);
  EXPECT_TRUE(router->scheduler().holds_for("bob@example.org").empty()) << "on its way out";
  std::string iq_id(out.releases[0].stanza.attr("id"));
  pass(divert::encode(divert::ReleaseAnswer{{"example.org", "sched.example.org", iq_id},
                                            divert::ReleaseAnswer::Outcome::kBounced,
                                            "service-unavailable"}));
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u) << "held again after the bounce";

  out.clear();
  router->pause("bob@example.org", now, now, out);  // bob says "end": it goes again
  way.rewrite(out);
  ASSERT_EQ(out.releases.size(), 1u);
  iq_id = out.releases[0].stanza.attr("id");
  pass(divert::encode(divert::ReleaseAnswer{{"example.org", "sched.example.org", iq_id},
                                            divert::ReleaseAnswer::Outcome::kTaken, ""}));
  EXPECT_EQ(bodies_to(out.stanzas, "alice@example.org"),
            std::vector<std::string>{"sched.example.org: Concierge: your held message to "
                                     "bob@example.org was delivered."});
}

TEST_F(TransparentTest, CancelDropsTheHoldOfThatDivertOnly) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "d5", "kept");
  divert_to_bob("alice@example.org/phone", "d6", "cancelled");
  ASSERT_EQ(router->scheduler().holds_for("bob@example.org").size(), 2u);
  pass(divert::encode(divert::Cancel{{"example.org", "sched.example.org", "cc-d6"}, "d6"}));
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "result");
  const auto left = router->scheduler().holds_for("bob@example.org");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].stanza.find("kept"), std::string::npos);
}

TEST_F(TransparentTest, ABlockedSenderIsRefusedByTheVerdict) {
  router->block("bob@example.org", "alice@example.org", true);
  divert_to_bob("alice@example.org/phone", "d7", "hello");
  const auto v = verdicts(out.stanzas);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<divert::Refuse>(v[0].decision));
  EXPECT_EQ(std::get<divert::Refuse>(v[0].decision).condition, "not-acceptable");
  EXPECT_EQ(out.stanzas.size(), 1u) << "no error of its own to alice";
}

TEST_F(TransparentTest, WhenTheStoreCannotCommitTheHeldVerdictBecomesDeliver) {
  router->scheduler().commits().watch();
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "d8", "lunch?");
  ASSERT_EQ(verdicts(out.after_commit).size(), 1u);
  out.clear();
  router->scheduler().commits().failed(out);
  withdrawn = way.rewrite(out);
  EXPECT_EQ(withdrawn, std::set<std::string>{"cd-d8"});
  const auto v = verdicts(out.stanzas);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<divert::Deliver>(v[0].decision));
  // From now on, what would be held goes through (fail open) until the store commits again.
  divert_to_bob("alice@example.org/phone", "d9", "again");
  const auto again = verdicts(out.stanzas);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<divert::Deliver>(again[0].decision));
}

// A client that sends no message ids: every divert of the failed turn still becomes `deliver`,
// and no `held` verdict is left to go out later for a hold that was refused.
TEST_F(TransparentTest, DivertsWithoutIdsAllFailOpenWhenTheStoreCannotCommit) {
  router->scheduler().commits().watch();
  router->pause("bob@example.org", now + 1h, now, out);
  Outbox turn;
  for (const std::string id : {"n1", "n2"}) {
    xmpp::Element m = xml("<message xmlns=\"jabber:client\" from=\"alice@example.org/phone\" "
                          "to=\"bob@example.org\" type=\"chat\"><body>" + id + "</body></message>");
    pass(divert::encode(divert::Divert{{"example.org", "sched.example.org", "cd-" + id}, id,
                                       "token-" + id, "2026-11-30T09:00:00Z", m}));
    for (auto& s : out.after_commit) turn.after_commit.push_back(s);
  }
  ASSERT_EQ(verdicts(turn.after_commit).size(), 2u);
  out.clear();
  router->scheduler().commits().failed(out);
  withdrawn = way.rewrite(out);
  EXPECT_EQ(withdrawn, (std::set<std::string>{"cd-n1", "cd-n2"}));
  const auto v = verdicts(out.stanzas);
  ASSERT_EQ(v.size(), 2u);
  std::set<std::string> delivered;
  for (const auto& d : v) {
    EXPECT_TRUE(std::holds_alternative<divert::Deliver>(d.decision));
    delivered.insert(d.divert_id);
  }
  EXPECT_EQ(delivered, (std::set<std::string>{"n1", "n2"}));
  EXPECT_TRUE(bodies_to(out.stanzas, "alice@example.org").empty()) << "no error to alice";
}

TEST_F(TransparentTest, AReportedReplyEngagesTheConversationWithoutRelayingAnything) {
  divert_to_bob("dave@example.org/pc", "d10", "question");  // dave is not enrolled
  pass(divert::encode(divert::Report{{"example.org", "sched.example.org", ""},
                                     "bob@example.org/desk", "dave@example.org", "chat", "r1",
                                     "active", true}));
  // Nothing relayed: only bob's pass for anyone is revoked (he is talking to dave now).
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_TRUE(divert::decode_revoke(out.stanzas[0])) << out.stanzas[0].to_xml();
  // bob is in a conversation with dave now: alice waits in line, and is told so.
  divert_to_bob("alice@example.org/phone", "d11", "me too");
  ASSERT_EQ(verdicts(out.after_commit).size(), 1u);
  const auto notices = bodies_to(out.after_commit, "alice@example.org");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("in another conversation"), std::string::npos) << notices[0];
}

TEST_F(TransparentTest, TheEnrolledSetGoesOnConnectAndWhenItChanges) {
  out.clear();
  way.connected(*router, now, out);
  ASSERT_EQ(out.stanzas.size(), 1u);
  const auto first = divert::decode_enrolled_chunk(out.stanzas[0]);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->envelope.to, "example.org");
  EXPECT_EQ(first->users, (std::vector<std::string>{"alice@example.org", "bob@example.org",
                                                    "boss@example.org", "carol@example.org"}));
  out.clear();
  way.enrolment_may_have_changed(*router, now, out);
  EXPECT_TRUE(out.stanzas.empty()) << "unchanged: no push";

  Settings more = transparent_settings();
  for (int i = 0; i < 1500; ++i) more.enrolled.insert("u" + std::to_string(i) + "@example.org");
  router->reconfigure(more, now, out);
  way.enrolment_may_have_changed(*router, now, out);
  ASSERT_EQ(out.stanzas.size(), 2u);
  const auto a = divert::decode_enrolled_chunk(out.stanzas[0]);
  const auto b = divert::decode_enrolled_chunk(out.stanzas[1]);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->generation, b->generation);
  EXPECT_GT(a->generation, first->generation);
  EXPECT_EQ(a->chunks, 2u);
  EXPECT_EQ(a->users.size() + b->users.size(), 1504u);
  EXPECT_LE(a->users.size(), divert::kMaxUsersPerChunk);
}

// What the server extension diverts without a body (DESIGN §10) is held like a message with
// one while bob cannot take it, and released whole; it goes at once when he is free.
TEST_F(TransparentTest, AttentionAndEncryptedOnlyDivertsAreHeldAndReleasedNotDelivered) {
  const std::string attention = "<attention xmlns=\"urn:xmpp:attention:0\"/>";
  const std::string omemo =
      "<encrypted xmlns=\"eu.siacs.conversations.axolotl\"><payload>eA==</payload></encrypted>";
  divert_content_to_bob("alice@example.org/phone", "b0", omemo);
  ASSERT_EQ(verdicts(out.stanzas).size(), 1u);
  EXPECT_TRUE(std::holds_alternative<divert::Deliver>(verdicts(out.stanzas)[0].decision));

  router->pause("bob@example.org", now + 1h, now, out);
  divert_content_to_bob("alice@example.org/phone", "b1", attention);
  divert_content_to_bob("alice@example.org/phone", "b2", omemo);
  EXPECT_TRUE(verdicts(out.stanzas).empty()) << out.stanzas[0].to_xml();
  ASSERT_EQ(verdicts(out.after_commit).size(), 1u);
  EXPECT_TRUE(std::holds_alternative<divert::Held>(verdicts(out.after_commit)[0].decision));
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 2u);

  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 2u);
  const auto first = divert::decode_release(out.releases[0].stanza);
  const auto second = divert::decode_release(out.releases[1].stanza);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->message.child("attention", "urn:xmpp:attention:0"), nullptr);
  const auto* encrypted = second->message.child("encrypted", "eu.siacs.conversations.axolotl");
  ASSERT_NE(encrypted, nullptr);
  EXPECT_EQ(encrypted->child_text("payload"), "eA==");
  EXPECT_EQ(second->message.child("body"), nullptr);
}

// A correction (XEP-0308) of a held copy changes it and a retraction (XEP-0424, bodiless)
// removes it; neither gets a release of its own.
TEST_F(TransparentTest, ACorrectionOrRetractionOfAHeldCopyAppliesToItWithNoReleaseOfItsOwn) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "c1", "lunch at 12?");
  divert_to_bob("alice@example.org/phone", "c2", "lunch at 1?",
                "<replace xmlns=\"urn:xmpp:message-correct:0\" id=\"m-c1\"/>");
  ASSERT_EQ(verdicts(out.after_commit).size(), 1u) << "the extension hears it was taken";
  EXPECT_EQ(std::get<divert::Held>(verdicts(out.after_commit)[0].decision).token, "token-c2");
  EXPECT_TRUE(bodies_to(out.after_commit, "alice@example.org").empty()) << "no second notice";
  divert_to_bob("alice@example.org/phone", "c3", "and a beer");
  divert_content_to_bob("alice@example.org/phone", "c4",
                        "<retract xmlns=\"urn:xmpp:message-retract:1\" id=\"m-c3\"/>");
  ASSERT_EQ(verdicts(out.after_commit).size(), 1u);
  EXPECT_TRUE(std::holds_alternative<divert::Held>(verdicts(out.after_commit)[0].decision));
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);

  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 1u);
  const auto release = divert::decode_release(out.releases[0].stanza);
  ASSERT_TRUE(release);
  EXPECT_EQ(release->divert_id, "c1");
  EXPECT_EQ(release->message.attr("id"), "m-c1");
  EXPECT_EQ(release->message.child_text("body"), "lunch at 1?");
}

// A correction with nothing in it (no body, no encrypted payload) does not empty the held
// copy: bob gets the original as written, and the empty correction after it, as he would have.
TEST_F(TransparentTest, AnEmptyCorrectionLeavesTheHeldCopyAsWritten) {
  router->pause("bob@example.org", now + 1h, now, out);
  divert_to_bob("alice@example.org/phone", "e1", "lunch at 12?");
  divert_content_to_bob("alice@example.org/phone", "e2",
                        "<replace xmlns=\"urn:xmpp:message-correct:0\" id=\"m-e1\"/>");
  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 2u);
  const auto first = divert::decode_release(out.releases[0].stanza);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->message.attr("id"), "m-e1");
  EXPECT_EQ(first->message.child_text("body"), "lunch at 12?") << "not emptied";
  const auto second = divert::decode_release(out.releases[1].stanza);
  ASSERT_TRUE(second);
  EXPECT_NE(second->message.child("replace", "urn:xmpp:message-correct:0"), nullptr);
}

// A correction of a held encrypted message replaces its whole payload: bob gets the new
// ciphertext (and its fallback body), in the original's place, with the original's token.
TEST_F(TransparentTest, ACorrectionOfAHeldEncryptedMessageReplacesItsEncryptedPayload) {
  router->pause("bob@example.org", now + 1h, now, out);
  const std::string omemo = "<encrypted xmlns=\"eu.siacs.conversations.axolotl\"><payload>";
  divert_to_bob("alice@example.org/phone", "e1", "[OMEMO]", omemo + "b2xk</payload></encrypted>");
  divert_to_bob("alice@example.org/phone", "e2", "[OMEMO]",
                omemo + "bmV3</payload></encrypted>"
                "<replace xmlns=\"urn:xmpp:message-correct:0\" id=\"m-e1\"/>");
  ASSERT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);

  tick_to(now + 1h);
  ASSERT_EQ(out.releases.size(), 1u);
  const auto release = divert::decode_release(out.releases[0].stanza);
  ASSERT_TRUE(release);
  EXPECT_EQ(release->divert_id, "e1");
  EXPECT_EQ(release->token, "token-e1");
  EXPECT_EQ(release->message.attr("id"), "m-e1");
  const xmpp::Element& m = release->message;
  std::size_t encrypted = 0, bodies = 0;
  for (const auto& c : m.children) {
    encrypted += c.name == "encrypted";
    bodies += c.name == "body";
  }
  EXPECT_EQ(encrypted, 1u) << m.to_xml();
  EXPECT_EQ(bodies, 1u) << m.to_xml();
  ASSERT_NE(m.child("encrypted", "eu.siacs.conversations.axolotl"), nullptr);
  EXPECT_EQ(m.child("encrypted", "eu.siacs.conversations.axolotl")->child_text("payload"), "bmV3")
      << "the correction's ciphertext, not the old one";
  EXPECT_EQ(m.child("replace", "urn:xmpp:message-correct:0"), nullptr);
  EXPECT_NE(m.child("delay", "urn:xmpp:delay"), nullptr);
}

Settings tight_limits() {
  Settings s = transparent_settings();
  s.messages_per_sender_per_minute = 2;
  s.max_body_bytes = 10;
  return s;
}

class TransparentLimitsTest : public TransparentTest {
 protected:
  TransparentLimitsTest() : TransparentTest(tight_limits()) {}
  decltype(divert::Verdict::decision) decision_for(const std::string& id, const std::string& body) {
    divert_to_bob("alice@example.org/phone", id, body);
    auto v = verdicts(out.stanzas);
    for (const auto& h : verdicts(out.after_commit)) v.push_back(h);
    EXPECT_EQ(v.size(), 1u) << id;
    return v.empty() ? decltype(divert::Verdict::decision){} : v[0].decision;
  }
};

// messages_per_sender_per_minute and max_body_bytes count only what would be held.
TEST_F(TransparentLimitsTest, TheLimitsApplyOnlyToWhatWouldBeHeld) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(std::holds_alternative<divert::Deliver>(decision_for("f" + std::to_string(i), "hi")));
  }
  EXPECT_TRUE(std::holds_alternative<divert::Deliver>(decision_for("long", "far more than ten bytes")));

  router->pause("bob@example.org", now + 1h, now, out);
  const auto too_long = decision_for("h0", "far more than ten bytes");
  ASSERT_TRUE(std::holds_alternative<divert::Refuse>(too_long));
  EXPECT_EQ(std::get<divert::Refuse>(too_long).condition, "policy-violation");
  EXPECT_TRUE(std::holds_alternative<divert::Held>(decision_for("h1", "one")));
  const auto too_fast = decision_for("h2", "two");  // h0 and h1 took the two tokens
  ASSERT_TRUE(std::holds_alternative<divert::Refuse>(too_fast));
  EXPECT_EQ(std::get<divert::Refuse>(too_fast).condition, "resource-constraint");
  EXPECT_EQ(router->scheduler().holds_for("bob@example.org").size(), 1u);
}

class ProxyOnlyTest : public TransparentTest {
 protected:
  ProxyOnlyTest() : TransparentTest(false) {}
};

TEST_F(ProxyOnlyTest, DivertsAreServiceUnavailableAndProxyAddressesStillWork) {
  divert_to_bob("alice@example.org/phone", "d12", "hello");
  ASSERT_EQ(out.stanzas.size(), 1u);
  EXPECT_EQ(out.stanzas[0].attr("type"), "error");
  EXPECT_NE(out.stanzas[0].child("error")->child("service-unavailable"), nullptr);
  pass(xml(chat("alice@example.org", "bob", "p1", "via proxy")));
  EXPECT_EQ(bodies_to(out.stanzas, "bob@example.org"),
            std::vector<std::string>{"alice\\40example.org@sched.example.org: via proxy"});
}

}  // namespace
}  // namespace concierge::core::testing
