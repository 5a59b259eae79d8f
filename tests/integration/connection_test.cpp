// SPDX-License-Identifier: MIT
// ComponentConnection against the in-process fake XEP-0114 server: receiving after the handshake
// (the libstrophe crash regression), stanzas in and out, handlers, logs, the socket.
#include <tests/integration/connection_test_support.hpp>

namespace concierge::xmpp {
namespace {

using namespace std::chrono_literals;
using testing::FakeServer;
using namespace connection_test;

TEST(ComponentConnection, ReceivesStanzaAfterHandshake_LibstropheCrashRegression) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  EXPECT_TRUE(c.connection().connecting());
  ASSERT_TRUE(c.pump_until_connected());
  EXPECT_EQ(c.connected_count, 1);
  ASSERT_TRUE(server.wait_connected(kWait));
  EXPECT_EQ(server.last_stream_to(), kDomain);

  // Without the workaround in ComponentConnection, libstrophe 0.12.2 crashes right here.
  ASSERT_TRUE(
      server.send("<message from='alice@localhost/pc' to='bob\\40localhost@concierge.localhost' "
                  "type='chat' id='m1'><body>hi &amp; &lt;bye&gt;</body>"
                  "<active xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  ASSERT_TRUE(c.pump_until([&] { return c.stanzas.size() == 1; }));
  const Element& m = c.stanzas[0];
  EXPECT_EQ(m.name, "message");
  EXPECT_EQ(m.find_attr("xmlns"), nullptr);  // the stream's namespace is removed
  EXPECT_EQ(m.attr("from"), "alice@localhost/pc");
  EXPECT_EQ(m.attr("to"), "bob\\40localhost@concierge.localhost");
  EXPECT_EQ(m.attr("type"), "chat");
  EXPECT_EQ(m.attr("id"), "m1");
  EXPECT_EQ(m.child_text("body"), "hi & <bye>");
  EXPECT_EQ(m.child("body")->find_attr("xmlns"), nullptr);  // inherited, not declared
  EXPECT_NE(m.child("active", "http://jabber.org/protocol/chatstates"), nullptr);

  // Nested namespaces and mixed content survive; a second stanza does not crash either.
  ASSERT_TRUE(
      server.send("<message from='alice@localhost' to='concierge.localhost'><body>x</body>"
                  "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
                  "xmlns='http://www.w3.org/1999/xhtml'>a <em>b</em> c</body></html></message>"));
  ASSERT_TRUE(c.pump_until([&] { return c.stanzas.size() == 2; }));
  const Element* html = c.stanzas[1].child("html", "http://jabber.org/protocol/xhtml-im");
  ASSERT_NE(html, nullptr);
  const Element* xbody = html->child("body", "http://www.w3.org/1999/xhtml");
  ASSERT_NE(xbody, nullptr);
  ASSERT_EQ(xbody->children.size(), 3u);
  EXPECT_EQ(xbody->children[0].text, "a ");
  EXPECT_EQ(xbody->children[1].name, "em");
  EXPECT_EQ(xbody->children[1].find_attr("xmlns"), nullptr);
  EXPECT_EQ(xbody->children[1].inner_text(), "b");
  EXPECT_EQ(xbody->children[2].text, " c");
  EXPECT_TRUE(c.disconnects.empty());
}

TEST(ComponentConnection, KeepsXmlLangAndResolvesPrefixedElements) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  ASSERT_TRUE(
      server.send("<message xml:lang='de' from='alice@localhost' to='concierge.localhost'>"
                  "<body>Hallo</body><x:x xmlns:x='jabber:x:data' type='form'/></message>"));
  ASSERT_TRUE(c.pump_until([&] { return c.stanzas.size() == 1; }));
  const Element& m = c.stanzas[0];
  EXPECT_EQ(m.attr("xml:lang"), "de");
  const Element* form = m.child("x", "jabber:x:data");
  ASSERT_NE(form, nullptr);
  EXPECT_EQ(form->attr("type"), "form");
  // What the connection hands over serialises to XML the server accepts back.
  c.connection().send(m);
  ASSERT_TRUE(c.pump_until([&] { return !c.connection().wants_write(); }));
  auto echoed = server.next_stanza(kWait);
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->attr("xml:lang"), "de");
  ASSERT_NE(echoed->child("x", "jabber:x:data"), nullptr);
  EXPECT_EQ(echoed->child_text("body"), "Hallo");
}

TEST(ComponentConnection, AStanzaTooDeepToConvertStillNamesItsSender) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  auto nested = [](int levels) {
    std::string x;
    for (int i = 0; i < levels; ++i) x += "<x>";
    for (int i = 0; i < levels; ++i) x += "</x>";
    return x;
  };
  // The message is level 0: 64 levels below it are converted, 65 and far more are not.
  for (int levels : {kMaxStanzaDepth, kMaxStanzaDepth + 1, 5000}) {
    ASSERT_TRUE(server.send("<message from='alice@localhost/pc' to='bob\\40localhost@" + kDomain +
                            "' type='chat' id='d" + std::to_string(levels) + "' xml:lang='de'>" +
                            "<body>deep</body>" + nested(levels) + "</message>"));
  }
  ASSERT_TRUE(c.pump_until([&] { return c.stanzas.size() + c.too_deep.size() == 3; }));
  ASSERT_EQ(c.stanzas.size(), 1u);
  EXPECT_EQ(c.stanzas[0].attr("id"), "d64");
  ASSERT_EQ(c.too_deep.size(), 2u);
  for (const Element& top : c.too_deep) {
    EXPECT_EQ(top.name, "message");
    EXPECT_EQ(top.attr("from"), "alice@localhost/pc");
    EXPECT_EQ(top.attr("to"), "bob\\40localhost@" + kDomain);
    EXPECT_EQ(top.attr("type"), "chat");
    EXPECT_EQ(top.attr("xml:lang"), "de");
    EXPECT_EQ(top.find_attr("xmlns"), nullptr);
    EXPECT_TRUE(top.children.empty());
  }
  EXPECT_EQ(c.too_deep[0].attr("id"), "d65");
  EXPECT_EQ(c.too_deep[1].attr("id"), "d5000");
  EXPECT_TRUE(c.disconnects.empty());
}

TEST(ComponentConnection, HandlersMayThrowAndDisconnect) {
  FakeServer server(kDomain, kSecret);
  Component c;
  int seen = 0;
  c.stanza_hook = [&](const Element&) {
    if (++seen == 1) throw std::runtime_error("handler failure");
    c.connection().disconnect();
  };
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  ASSERT_TRUE(server.send("<presence from='alice@localhost/pc' to='concierge.localhost'/>"));
  ASSERT_TRUE(c.pump_until([&] { return seen == 1; }));
  ASSERT_FALSE(c.logs.empty());
  EXPECT_NE(c.logs.back().find("handler failure"), std::string::npos) << c.logs.back();
  EXPECT_TRUE(c.connection().connected());
  ASSERT_TRUE(server.send("<presence from='alice@localhost/pc' to='concierge.localhost'/>"));
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::closed);
  EXPECT_TRUE(server.wait_disconnected(kWait));
}

TEST(ComponentConnection, DisconnectWhileConnectingIsClosed) {
  FakeServer server(kDomain, kSecret);
  server.set_mode(FakeServer::Mode::silent);
  Component c;
  ASSERT_TRUE(c.connect(server));
  c.connection().disconnect();
  ASSERT_TRUE(c.pump_until_disconnected());
  EXPECT_EQ(c.disconnects[0].cause, DisconnectCause::closed);
  EXPECT_FALSE(c.disconnects[0].was_connected);
  server.set_mode(FakeServer::Mode::accept);
  ASSERT_TRUE(c.connect(server));  // a fresh attempt is allowed again
  ASSERT_TRUE(c.pump_until_connected());
}

TEST(ComponentConnection, ConnectWhileConnectedIsRefused) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  EXPECT_FALSE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  EXPECT_FALSE(c.connect(server));
  EXPECT_TRUE(c.disconnects.empty());
  EXPECT_TRUE(c.connection().connected());
}

TEST(ComponentConnection, LogsCarryNeitherBodiesNorTheSecret) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  ASSERT_TRUE(
      server.send("<message from='alice@localhost' to='concierge.localhost'>"
                  "<body>in-body-text</body></message>"));
  ASSERT_TRUE(c.pump_until([&] { return c.stanzas.size() == 1; }));
  c.connection().send(
      make("message", {{"to", "alice@localhost"}}, {make_text("body", "out-body-text")}));
  ASSERT_TRUE(c.pump_until([&] { return !c.connection().wants_write(); }));
  ASSERT_TRUE(server.next_stanza(kWait));
  server.drop_connection();
  ASSERT_TRUE(c.pump_until_disconnected());
  c.connection().send(make("message", {}, {make_text("body", "dropped-body-text")}));
  ASSERT_FALSE(c.logs.empty()) << "the drop and the disconnect are logged (without the body)";
  for (const std::string& line : c.logs) {
    EXPECT_EQ(line.find("body-text"), std::string::npos) << line;
    EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
  }
}

TEST(ComponentConnection, SetsTcpNoDelayOnItsSocket) {
  FakeServer server(kDomain, kSecret);
  Component c;
  EXPECT_EQ(c.connection().socket_fd(), -1);
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  const int fd = c.connection().socket_fd();
  ASSERT_GE(fd, 0);
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);
  EXPECT_FALSE(c.connection().wants_write());  // idle and connected: poll for input only
}

TEST(ComponentConnection, SendsStanzasIntact) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  ASSERT_TRUE(server.wait_connected(kWait));

  const Element sent =
      make("message",
           {{"from", "bob\\40localhost@concierge.localhost"},
            {"to", "alice@localhost"},
            {"type", "chat"},
            {"id", "x<1>&\"'"}},
           {make_text("body", "Bob is busy & \"away\" <until> 09:00"),
            make("no-store", {{"xmlns", "urn:xmpp:hints"}}),
            make("delay", {{"xmlns", "urn:xmpp:delay"}, {"stamp", "2026-01-01T00:00:00Z"}})});
  c.connection().send(sent);
  ASSERT_TRUE(c.pump_until([&] { return !c.connection().wants_write(); }));
  auto got = server.next_stanza(kWait);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, sent);

  // Many small stanzas in a row arrive complete and in order.
  for (int i = 0; i < 200; ++i) {
    c.connection().send(make("presence", {{"to", "alice@localhost"}, {"id", std::to_string(i)}}));
  }
  for (int i = 0; i < 200; ++i) {
    std::optional<Element> p;
    ASSERT_TRUE(c.pump_until([&] { return (p = server.next_stanza(0ms)).has_value(); })) << i;
    EXPECT_EQ(p->attr("id"), std::to_string(i));
  }
  EXPECT_TRUE(c.disconnects.empty());
}

TEST(ComponentConnection, FakeServerAnswersPingsToItsDomain) {
  FakeServer server(kDomain, kSecret);
  Component c;
  ASSERT_TRUE(c.connect(server));
  ASSERT_TRUE(c.pump_until_connected());
  c.connection().send(
      make("iq", {{"type", "get"}, {"id", "ping1"}, {"from", kDomain}, {"to", "localhost"}},
           {make("ping", {{"xmlns", "urn:xmpp:ping"}})}));
  ASSERT_TRUE(c.pump_until([&] { return !c.stanzas.empty(); }));
  EXPECT_EQ(c.stanzas[0].name, "iq");
  EXPECT_EQ(c.stanzas[0].attr("type"), "result");
  EXPECT_EQ(c.stanzas[0].attr("id"), "ping1");
  EXPECT_EQ(server.pending_stanzas(), 0u);
}

}  // namespace
}  // namespace concierge::xmpp
