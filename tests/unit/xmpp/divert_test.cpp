// SPDX-License-Identifier: MIT
#include <xmpp/divert.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace concierge::xmpp::divert {
namespace {

const Envelope kToConcierge{"example.org", "concierge.example.org", "cd-1"};
const Envelope kToServer{"concierge.example.org", "example.org", "rel-41"};

Element original_message() {
  return make("message",
              {{"from", "alice@example.org/phone"},
               {"to", "bob@example.org"},
               {"type", "chat"},
               {"id", "m1"}},
              {make_text("body", "lunch?"),
               make("origin-id", {{"xmlns", "urn:xmpp:sid:0"}, {"id", "m1"}})});
}

Element parsed(std::string_view xml) {
  std::string error;
  auto e = parse_xml(xml, &error);
  EXPECT_TRUE(e) << error << "\n" << xml;
  return e ? *e : Element();
}

// The ```xml block of PROTOCOL.md that contains `marker`: the examples there are what the
// extensions were written against, so the codec must read them.
std::string protocol_example(std::string_view marker) {
  std::ifstream in(std::string(CONCIERGE_SOURCE_DIR) + "/xmpp/server/PROTOCOL.md");
  std::stringstream all;
  all << in.rdbuf();
  const std::string doc = all.str();
  for (std::size_t at = doc.find("```xml\n"); at != std::string::npos;
       at = doc.find("```xml\n", at + 1)) {
    const std::size_t begin = at + 7;
    const std::size_t end = doc.find("```", begin);
    std::string block = doc.substr(begin, end - begin);
    if (block.find(marker) != std::string::npos) return block;
  }
  ADD_FAILURE() << "no example with " << marker << " in PROTOCOL.md";
  return {};
}

TEST(DivertToken, MatchesTheTestVectorOfTheProtocol) {
  EXPECT_EQ(release_token("k3y", "d1", "alice@example.org/phone", "bob@example.org", "m1"),
            "4623e77196f583632926c8170ae7066d49eb608a36b93a307a6fcd5dcd2754a8");
}

TEST(DivertToken, EveryFieldCountsAndTheSeparatorCannotBeForged) {
  const std::string base = release_token("k3y", "d1", "a@x/r", "b@x", "m1");
  EXPECT_NE(release_token("k3z", "d1", "a@x/r", "b@x", "m1"), base);
  EXPECT_NE(release_token("k3y", "d2", "a@x/r", "b@x", "m1"), base);
  EXPECT_NE(release_token("k3y", "d1", "a@x/s", "b@x", "m1"), base);
  EXPECT_NE(release_token("k3y", "d1", "a@x/r", "c@x", "m1"), base);
  EXPECT_NE(release_token("k3y", "d1", "a@x/r", "b@x", "m2"), base);
  // moving bytes across a field boundary changes the token
  EXPECT_NE(release_token("k3y", "d1", "a@x/r", "b@xm", "1"), base);
  EXPECT_EQ(base.size(), 64u);
  EXPECT_TRUE(tokens_equal(base, release_token("k3y", "d1", "a@x/r", "b@x", "m1")));
  EXPECT_FALSE(tokens_equal(base, base.substr(0, 63)));
  EXPECT_FALSE(tokens_equal(base, std::string(64, '0')));
}

TEST(Divert, RoundTripsWithTheOriginalMessageUnchanged) {
  Divert d{kToConcierge, "5f2a9c0e1d", "tok", "2026-12-03T20:14:05Z", original_message()};
  const Element iq = encode(d);
  EXPECT_EQ(iq.attr("type"), "set");
  const Element* fwd = iq.child("divert", kNamespace)->child("forwarded", "urn:xmpp:forward:0");
  ASSERT_NE(fwd, nullptr);
  EXPECT_EQ(fwd->child("message", "jabber:client")->child_text("body"), "lunch?");
  auto back = decode_divert(parsed(iq.to_xml()));
  ASSERT_TRUE(back);
  Divert expected = d;
  expected.message.set_attr("xmlns", "jabber:client");  // the namespace kept inside <forwarded/>
  EXPECT_EQ(*back, expected);
}

TEST(Divert, ReadsTheProtocolsExample) {
  auto d = decode_divert(parsed(protocol_example("<divert ")));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->divert_id, "5f2a9c0e1d");
  EXPECT_EQ(d->envelope, (Envelope{"example.org", "concierge.example.org", "cd-5f2a9c"}));
  EXPECT_EQ(d->stamp, "2026-12-03T20:14:05Z");
  EXPECT_EQ(d->message.attr("from"), "alice@example.org/phone");
  EXPECT_NE(d->message.child("origin-id", "urn:xmpp:sid:0"), nullptr);
}

TEST(Divert, RejectsWhatIsNotADivert) {
  EXPECT_FALSE(
      decode_divert(parsed("<iq type='set'><divert xmlns='urn:other' id='a' token='t'/></iq>")));
  EXPECT_FALSE(
      decode_divert(parsed("<iq type='get'><divert xmlns='urn:concierge:divert:0' id='a' token='t'>"
                           "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/>"
                           "</forwarded></divert></iq>")));
  EXPECT_FALSE(decode_divert(
      parsed("<iq type='set'><divert xmlns='urn:concierge:divert:0' id='a' token='t'/></iq>")));
  EXPECT_FALSE(
      decode_divert(parsed("<iq type='set'><divert xmlns='urn:concierge:divert:0' token='t'>"
                           "<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/>"
                           "</forwarded></divert></iq>")));
}

TEST(Verdict, EachDecisionHasItsExactXml) {
  const Envelope env{"concierge.example.org", "example.org", "cd-1"};
  EXPECT_EQ(encode(Verdict{env, "d1", Deliver{}}).to_xml(),
            "<iq type=\"result\" id=\"cd-1\" from=\"concierge.example.org\" to=\"example.org\">"
            "<verdict xmlns=\"urn:concierge:divert:0\" id=\"d1\"><deliver/></verdict></iq>");
  EXPECT_EQ(encode(Verdict{env, "d1", Held{"abc"}}).child("verdict", kNamespace)->to_xml(),
            "<verdict xmlns=\"urn:concierge:divert:0\" id=\"d1\"><held token=\"abc\"/></verdict>");
  EXPECT_EQ(
      encode(Verdict{env, "d1", Refuse{"cancel", "not-acceptable", "no <thanks>"}})
          .child("verdict", kNamespace)
          ->to_xml(),
      "<verdict xmlns=\"urn:concierge:divert:0\" id=\"d1\">"
      "<refuse type=\"cancel\" condition=\"not-acceptable\">no &lt;thanks&gt;</refuse></verdict>");
}

TEST(Verdict, RoundTripsAndReadsTheProtocolsExamples) {
  const Envelope env{"concierge.example.org", "example.org", "cd-1"};
  for (const Verdict& v : {Verdict{env, "d1", Deliver{}}, Verdict{env, "d1", Held{"abc"}},
                           Verdict{env, "d1", Refuse{"wait", "resource-constraint", "later"}}}) {
    auto back = decode_verdict(parsed(encode(v).to_xml()));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, v);
  }
  auto deliver = decode_verdict(parsed(protocol_example("<deliver/>")));
  ASSERT_TRUE(deliver);
  EXPECT_TRUE(std::holds_alternative<Deliver>(deliver->decision));
  EXPECT_FALSE(
      decode_verdict(parsed("<iq type='result'><verdict xmlns='urn:concierge:divert:0' id='d1'>"
                            "<maybe/></verdict></iq>")));
  EXPECT_FALSE(
      decode_verdict(parsed("<iq type='result'><verdict xmlns='urn:concierge:divert:0' id='d1'>"
                            "<held/></verdict></iq>")));  // held needs its token
}

TEST(Pass, RidesOnDeliverAndReadsTheProtocolsExamples) {
  const Envelope env{"concierge.example.org", "example.org", "cd-1"};
  const Verdict sender{env, "d1", Deliver{Pass{Pass::Scope::sender, 60000, ""}}};
  EXPECT_EQ(encode(sender).child("verdict", kNamespace)->to_xml(),
            "<verdict xmlns=\"urn:concierge:divert:0\" id=\"d1\"><deliver>"
            "<pass scope=\"sender\" ttl=\"60000\"/></deliver></verdict>");
  const Verdict any{env, "d1", Deliver{Pass{Pass::Scope::any, 45000, "!!"}}};
  EXPECT_EQ(decode_verdict(parsed(encode(any).to_xml())), any);
  EXPECT_EQ(decode_verdict(parsed(encode(sender).to_xml())), sender);
  const std::string both = protocol_example("scope=\"any\"");
  const std::string first = both.substr(0, both.find("<verdict", 1));
  const std::string second = both.substr(both.find("<verdict", 1));
  auto a = decode_verdict(parsed("<iq type='result'>" + first + "</iq>"));
  auto b = decode_verdict(parsed("<iq type='result'>" + second + "</iq>"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(std::get<Deliver>(a->decision).pass, (Pass{Pass::Scope::sender, 60000, ""}));
  EXPECT_EQ(std::get<Deliver>(b->decision).pass, (Pass{Pass::Scope::any, 45000, "!!"}));
  // A pass the extension could misread is no verdict at all (the extension fails open).
  for (const char* bad : {"<pass scope='all' ttl='1'/>", "<pass scope='any'/>",
                          "<pass scope='any' ttl='-1'/>", "<pass scope='any' ttl='9999999999'/>"}) {
    EXPECT_FALSE(decode_verdict(parsed(std::string("<iq type='result'><verdict "
                                                   "xmlns='urn:concierge:divert:0' id='d1'><deliver>") +
                                       bad + "</deliver></verdict></iq>")))
        << bad;
  }
  auto passed = decode_report(parsed(protocol_example("passed=\"true\"")));
  ASSERT_TRUE(passed);
  EXPECT_TRUE(passed->passed);
  EXPECT_TRUE(passed->has_body);
  Report r = *passed;
  EXPECT_EQ(decode_report(parsed(encode(r).to_xml())), r);
  r.passed = false;
  EXPECT_EQ(encode(r).child("report", kNamespace)->attr("passed"), "");
}

TEST(Report, SeveralInOneMessageAreReadInOrderAndAMalformedOneIsSkipped) {
  const auto reports = decode_reports(parsed(
      "<message from='example.org' to='concierge.example.org'>"
      "<report xmlns='urn:concierge:divert:0' from='a@x/r' to='b@x' id='1' passed='true' has-body='true'/>"
      "<report xmlns='urn:concierge:divert:0' to='b@x' id='no-from'/>"
      "<other xmlns='urn:example'/>"
      "<report xmlns='urn:concierge:divert:0' from='c@x/r' to='b@x' id='2' chat-state='gone'/>"
      "</message>"));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].id, "1");
  EXPECT_TRUE(reports[0].passed);
  EXPECT_EQ(reports[1].id, "2");
  EXPECT_EQ(reports[1].chat_state, "gone");
  EXPECT_EQ(reports[1].envelope.from, "example.org");
  EXPECT_TRUE(decode_reports(parsed("<iq><report xmlns='urn:concierge:divert:0' from='a@x' to='b@x'/></iq>")).empty());
}

TEST(Revoke, NamesSenderPassesAndTheAnyPass) {
  Revoke r{{"concierge.example.org", "example.org", "cr-12"},
           {{"bob@example.org", "alice@example.org"}, {"bob@example.org", ""}}};
  EXPECT_EQ(decode_revoke(parsed(encode(r).to_xml())), r);
  auto doc = decode_revoke(parsed(protocol_example("<revoke ")));
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->passes, r.passes);
  EXPECT_FALSE(decode_revoke(parsed(
      "<iq type='set'><revoke xmlns='urn:concierge:divert:0'><pass from='a@x'/></revoke></iq>")));
}

TEST(Cancel, RoundTrips) {
  Cancel c{kToConcierge, "5f2a9c0e1d"};
  EXPECT_EQ(decode_cancel(parsed(encode(c).to_xml())), c);
  EXPECT_EQ(decode_cancel(parsed(protocol_example("<cancel ")))->divert_id, "5f2a9c0e1d");
}

TEST(Report, CarriesNoBodyOnlyThatThereWasOne) {
  Report r{{"example.org", "concierge.example.org", ""},
           "bob@example.org/laptop",
           "carol@example.org",
           "chat",
           "r7",
           "active",
           true};
  const Element m = encode(r);
  EXPECT_EQ(m.name, "message");
  EXPECT_EQ(m.child("report", kNamespace)->children.size(), 0u);
  EXPECT_EQ(decode_report(parsed(m.to_xml())), r);
  auto doc = decode_report(parsed(protocol_example("chat-state=\"active\"")));
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->chat_state, "active");
  EXPECT_TRUE(doc->has_body);
  auto bare = decode_report(
      parsed("<message><report xmlns='urn:concierge:divert:0' from='a@x/r' to='b@x'/></message>"));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->type, "normal");
  EXPECT_FALSE(bare->has_body);
}

TEST(Release, PutsTheStoredMessageInForwardedWithTheClientNamespace) {
  Element stored = original_message();
  stored.add_child(make("delay", {{"xmlns", "urn:xmpp:delay"},
                                  {"from", "concierge.example.org"},
                                  {"stamp", "2026-12-03T20:14:05Z"}}));
  Release r{kToServer, "5f2a9c0e1d", "tok", stored};
  auto back = decode_release(parsed(encode(r).to_xml()));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->message.attr("xmlns"), "jabber:client");
  EXPECT_EQ(back->token, "tok");
  EXPECT_NE(back->message.child("delay", "urn:xmpp:delay"), nullptr);
  auto doc = decode_release(parsed(protocol_example("<release ")));
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->message.attr("id"), "m1");
}

TEST(ReleaseAnswer, TellsTakenBouncedForbiddenAndRejectedApart) {
  using Outcome = ReleaseAnswer::Outcome;
  auto taken = decode_release_answer(parsed("<iq type='result' id='rel-41'/>"));
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->outcome, Outcome::kTaken);
  auto bounced = decode_release_answer(parsed(protocol_example("<bounced ")));
  ASSERT_TRUE(bounced);
  EXPECT_EQ(bounced->outcome, Outcome::kBounced);
  EXPECT_EQ(bounced->condition, "service-unavailable");
  auto forbidden = decode_release_answer(parsed(
      "<iq type='error'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>invalid release "
      "token</text></error></iq>"));
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->outcome, Outcome::kForbidden);
  auto bad =
      decode_release_answer(parsed("<iq type='error'><error type='modify'><bad-request "
                                   "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"));
  EXPECT_EQ(bad->outcome, Outcome::kRejected);
  for (auto outcome :
       {Outcome::kTaken, Outcome::kBounced, Outcome::kForbidden, Outcome::kRejected}) {
    ReleaseAnswer a{kToConcierge, outcome,
                    outcome == Outcome::kTaken       ? ""
                    : outcome == Outcome::kBounced   ? "service-unavailable"
                    : outcome == Outcome::kForbidden ? "forbidden"
                                                     : "bad-request"};
    EXPECT_EQ(decode_release_answer(parsed(encode(a).to_xml())), a);
  }
  EXPECT_FALSE(decode_release_answer(parsed("<message type='error'/>")));
}

TEST(Enrolled, SplitsIntoChunksOfOneGeneration) {
  std::vector<std::string> users;
  for (int i = 0; i < 2500; ++i) users.push_back("u" + std::to_string(i) + "@example.org");
  auto chunks = split_enrolled({"concierge.example.org", "example.org", "en"}, 7, users);
  ASSERT_EQ(chunks.size(), 3u);
  std::vector<std::string> again;
  for (std::size_t n = 0; n < chunks.size(); ++n) {
    auto back = decode_enrolled_chunk(parsed(encode(chunks[n]).to_xml()));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, chunks[n]);
    EXPECT_EQ(back->generation, 7u);
    EXPECT_EQ(back->chunk, n + 1);
    EXPECT_EQ(back->chunks, 3u);
    EXPECT_EQ(back->envelope.id, "en-7-" + std::to_string(n + 1));
    EXPECT_LE(back->users.size(), kMaxUsersPerChunk);
    again.insert(again.end(), back->users.begin(), back->users.end());
  }
  EXPECT_EQ(again, users);
  auto empty = split_enrolled({"c", "h", "en"}, 8, {});
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_TRUE(empty[0].users.empty());
  EXPECT_EQ(encode(empty[0]).child("enrolled", kNamespace)->attr("chunks"), "1");
}

TEST(Enrolled, ReadsTheProtocolsExamplesAndRejectsBadNumbers) {
  auto push = decode_enrolled_chunk(parsed(protocol_example("chunks=\"2\"")));
  ASSERT_TRUE(push);
  EXPECT_EQ(push->users, (std::vector<std::string>{"bob@example.org", "dave@example.org"}));
  EXPECT_EQ(push->chunks, 2u);
  EXPECT_FALSE(
      decode_enrolled_chunk(parsed("<iq type='set'><enrolled xmlns='urn:concierge:divert:0' "
                                   "generation='7' chunk='3' chunks='2'/></iq>")));
  EXPECT_FALSE(
      decode_enrolled_chunk(parsed("<iq type='set'><enrolled xmlns='urn:concierge:divert:0' "
                                   "generation='x' chunk='1' chunks='1'/></iq>")));
  EXPECT_FALSE(
      decode_enrolled_chunk(parsed("<iq type='set'><enrolled xmlns='urn:concierge:divert:0' "
                                   "generation='7' chunk='0' chunks='1'/></iq>")));
  const Envelope env{"concierge.example.org", "example.org", "eq-1"};
  EXPECT_EQ(encode_enrolled_query(env).to_xml(),
            "<iq type=\"get\" id=\"eq-1\" from=\"concierge.example.org\" to=\"example.org\">"
            "<enrolled xmlns=\"urn:concierge:divert:0\"/></iq>");
  EnrolledState state{{"example.org", "concierge.example.org", "eq-1"}, 7, 2};
  EXPECT_EQ(decode_enrolled_state(parsed(encode(state).to_xml())), state);
  EXPECT_FALSE(decode_enrolled_state(parsed(encode_result(env).to_xml())));
}

}  // namespace
}  // namespace concierge::xmpp::divert
