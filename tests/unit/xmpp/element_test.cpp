// SPDX-License-Identifier: MIT
#include <xmpp/element.hpp>

#include <gtest/gtest.h>

#include <string>

namespace concierge::xmpp {
namespace {

TEST(Element, AttributesKeepOrderAndTellAbsentFromEmpty) {
  Element e("message");
  e.set_attr("to", "a@b");
  e.set_attr("type", "");
  e.set_attr("id", "1");
  e.set_attr("to", "c@d");
  ASSERT_EQ(e.attributes.size(), 3u);
  EXPECT_EQ(e.attributes[0].first, "to");
  EXPECT_EQ(e.attr("to"), "c@d");
  ASSERT_NE(e.find_attr("type"), nullptr);
  EXPECT_EQ(*e.find_attr("type"), "");
  EXPECT_EQ(e.find_attr("from"), nullptr);
  EXPECT_EQ(e.attr("from"), "");
  e.remove_attr("type");
  EXPECT_EQ(e.find_attr("type"), nullptr);
  EXPECT_EQ(e.to_xml(), "<message to=\"c@d\" id=\"1\"/>");
}

TEST(Element, ChildLookupByNameAndNamespace) {
  Element msg = make("message", {{"to", "a@b"}},
                     {make_text("body", "hi"),
                      make("active", {{"xmlns", "http://jabber.org/protocol/chatstates"}}),
                      make("x", {{"xmlns", "jabber:x:oob"}}), make("x", {{"xmlns", "urn:other"}})});
  ASSERT_NE(msg.child("body"), nullptr);
  EXPECT_EQ(msg.child_text("body"), "hi");
  EXPECT_EQ(msg.child_text("subject"), std::nullopt);
  EXPECT_EQ(msg.child("x")->attr("xmlns"), "jabber:x:oob");
  EXPECT_EQ(msg.child("x", "urn:other")->attr("xmlns"), "urn:other");
  EXPECT_EQ(msg.child("x", "urn:none"), nullptr);
  EXPECT_EQ(msg.child("active", "http://jabber.org/protocol/chatstates")->name, "active");
  EXPECT_EQ(msg.remove_children("x", "urn:other"), 1u);
  EXPECT_EQ(msg.remove_children("x"), 1u);
  EXPECT_EQ(msg.child("x"), nullptr);
  Element& added = msg.add_child(make("thread"));
  added.set_attr("parent", "p");
  EXPECT_EQ(msg.child("thread")->attr("parent"), "p");
}

TEST(Element, EmptyTextChildIsNotAdded) {
  EXPECT_TRUE(make_text("body", "").children.empty());
  EXPECT_EQ(make_text("body", "").child_text("x"), std::nullopt);
  EXPECT_EQ(make_text("body", "").inner_text(), "");
}

TEST(Element, EscapesAttributesAndText) {
  Element e = make_text("body", "a<b & c>d \"q\" 'a'", {{"x", "<&>\"'"}});
  EXPECT_EQ(e.to_xml(),
            "<body x=\"&lt;&amp;&gt;&quot;&apos;\">a&lt;b &amp; c&gt;d \"q\" 'a'</body>");
  auto back = parse_xml(e.to_xml());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

TEST(Element, NeverWritesWhatXmlCannotCarry) {
  Element e = make_text("body",
                        std::string("a\x01"
                                    "b\x1F"
                                    "\0c\x7F",
                                    7),
                        {{"k", "x\x02y"}});
  EXPECT_EQ(e.to_xml(), "<body k=\"xy\">abc\x7F</body>");
  EXPECT_EQ(make_text("b", "ok \xC3\xA9 bad \xC3 \xFF \xED\xA0\x80 \xEF\xBF\xBF end").to_xml(),
            "<b>ok \xC3\xA9 bad \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end</b>");
  EXPECT_TRUE(parse_xml(e.to_xml()));
}

TEST(Element, WhitespaceSurvivesARoundTrip) {
  Element e = make_text("body", "line1\r\nline2\ttab", {{"a", "x\ny\tz\r"}});
  EXPECT_EQ(e.to_xml(), "<body a=\"x&#10;y&#9;z&#13;\">line1&#13;\nline2\ttab</body>");
  auto back = parse_xml(e.to_xml());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

TEST(Element, MixedContentRoundTrip) {
  const std::string xml =
      "<html xmlns=\"http://jabber.org/protocol/xhtml-im\"><body "
      "xmlns=\"http://www.w3.org/1999/xhtml\">Hello <em>dear</em> <strong>world</strong>!</body>"
      "</html>";
  auto e = parse_xml(xml);
  ASSERT_TRUE(e);
  const Element* body = e->child("body", "http://www.w3.org/1999/xhtml");
  ASSERT_NE(body, nullptr);
  ASSERT_EQ(body->children.size(), 5u);
  EXPECT_TRUE(body->children[0].is_text());
  EXPECT_EQ(body->children[0].text, "Hello ");
  EXPECT_EQ(body->children[1].name, "em");
  EXPECT_EQ(body->children[2].text, " ");
  EXPECT_EQ(body->inner_text(), "Hello  !");
  EXPECT_EQ(e->to_xml(), xml);
}

TEST(Element, NamespacesStayOrdinaryAttributes) {
  auto e = parse_xml(
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams' "
      "xmlns='jabber:client'><x:y xmlns:x='urn:x' x:a='1'/></stream:features>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "stream:features");
  EXPECT_EQ(e->attr("xmlns:stream"), "http://etherx.jabber.org/streams");
  EXPECT_EQ(e->attr("xmlns"), "jabber:client");
  ASSERT_EQ(e->children.size(), 1u);
  EXPECT_EQ(e->children[0].name, "x:y");
  EXPECT_EQ(e->children[0].attr("x:a"), "1");
  EXPECT_EQ(e->to_xml(),
            "<stream:features xmlns:stream=\"http://etherx.jabber.org/streams\" "
            "xmlns=\"jabber:client\"><x:y xmlns:x=\"urn:x\" x:a=\"1\"/></stream:features>");
}

TEST(Element, ParseDecodesEntitiesAndJoinsText) {
  auto e =
      parse_xml("<?xml version='1.0'?>\n<body a='&#x41;&amp;'>line1\nline2 &lt;&#233;&gt;</body>");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->attr("a"), "A&");
  ASSERT_EQ(e->children.size(), 1u);
  EXPECT_EQ(e->inner_text(), "line1\nline2 <\xC3\xA9>");
}

TEST(Element, ParseErrors) {
  std::string error;
  EXPECT_FALSE(parse_xml("", &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(parse_xml("<a><b></a>", &error));
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
  EXPECT_FALSE(parse_xml("<a>", &error));
  EXPECT_FALSE(parse_xml("<a/><b/>", &error));
  EXPECT_FALSE(parse_xml("text only", &error));
  EXPECT_FALSE(parse_xml("<a x='1' x='2'/>", &error));
  EXPECT_FALSE(parse_xml("<a>&unknown;</a>", &error));
  EXPECT_FALSE(parse_xml("<a>\xFF</a>", &error));
  EXPECT_TRUE(parse_xml("<a/>"));  // no error pointer needed
  EXPECT_TRUE(parse_xml("  <a/>  "));
}

TEST(Element, ParseEmptyElementAndText) {
  auto e = parse_xml("<presence/>");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, make("presence"));
  EXPECT_TRUE(Element::text_node("x").is_text());
  EXPECT_EQ(Element::text_node("a&b").to_xml(), "a&amp;b");
}

}  // namespace
}  // namespace concierge::xmpp
