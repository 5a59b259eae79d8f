// SPDX-License-Identifier: MIT
#include <xmpp/jid.hpp>

#include <gtest/gtest.h>

#include <string>

namespace concierge::xmpp {
namespace {

TEST(JidParse, SplitsLocalDomainResource) {
  auto jid = Jid::parse("bob@example.org/phone");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->local(), "bob");
  EXPECT_EQ(jid->domain(), "example.org");
  EXPECT_EQ(jid->resource(), "phone");
  EXPECT_EQ(jid->bare_string(), "bob@example.org");
  EXPECT_EQ(jid->full_string(), "bob@example.org/phone");
  EXPECT_EQ(jid->bare(), *Jid::parse("bob@example.org"));
}

TEST(JidParse, DomainOnlyAndDomainWithResource) {
  auto d = Jid::parse("example.org");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->has_local());
  EXPECT_FALSE(d->has_resource());
  EXPECT_EQ(d->bare_string(), "example.org");
  auto r = Jid::parse("example.org/a@b/c");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_local());
  EXPECT_EQ(r->resource(), "a@b/c");
}

TEST(JidParse, ResourceMayHoldAtSlashAndSpaces) {
  auto jid = Jid::parse("bob@example.org/a b@c/d");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->local(), "bob");
  EXPECT_EQ(jid->resource(), "a b@c/d");
}

TEST(JidParse, RejectsEmptyParts) {
  EXPECT_FALSE(Jid::parse(""));
  EXPECT_FALSE(Jid::parse("@example.org"));
  EXPECT_FALSE(Jid::parse("bob@"));
  EXPECT_FALSE(Jid::parse("bob@example.org/"));
  EXPECT_FALSE(Jid::parse("/res"));
  EXPECT_FALSE(Jid::parse("example..org"));
  EXPECT_FALSE(Jid::parse(".example.org"));
  EXPECT_FALSE(Jid::parse("."));
}

TEST(JidParse, DomainIsLowerCasedAndLosesTrailingDot) {
  auto jid = Jid::parse("Bob@Example.ORG./Res");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->domain(), "example.org");
  EXPECT_EQ(jid->local(), "Bob");  // only the domain is case-mapped here
  EXPECT_EQ(jid->resource(), "Res");
  EXPECT_EQ(*Jid::parse("bob@EXAMPLE.org"), *Jid::parse("bob@example.org."));
}

TEST(JidParse, Ipv6LiteralDomain) {
  auto jid = Jid::parse("bob@[2001:DB8::1]/r");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->domain(), "[2001:db8::1]");
  EXPECT_FALSE(Jid::parse("bob@[2001:db8::1"));
  EXPECT_FALSE(Jid::parse("bob@[example]"));
  EXPECT_TRUE(Jid::parse("192.0.2.1"));
}

TEST(JidParse, PartLengths) {
  const std::string local1023(1023, 'a');
  const std::string local1024(1024, 'a');
  EXPECT_TRUE(Jid::parse(local1023 + "@example.org"));
  EXPECT_FALSE(Jid::parse(local1024 + "@example.org"));
  EXPECT_TRUE(Jid::parse("bob@example.org/" + std::string(1023, 'r')));
  EXPECT_FALSE(Jid::parse("bob@example.org/" + std::string(1024, 'r')));
  std::string domain;
  while (domain.size() < 1023) domain += "a.";
  domain.resize(1023);  // ends in 'a' or '.'
  if (domain.back() == '.') domain.back() = 'b';
  EXPECT_TRUE(Jid::parse("bob@" + domain));
  EXPECT_FALSE(Jid::parse("bob@" + domain + "c"));
}

TEST(JidParse, Utf8) {
  EXPECT_TRUE(Jid::parse("j\xC3\xBCrgen@b\xC3\xBC\x63her.example/\xE2\x98\x83"));
  EXPECT_FALSE(Jid::parse("bad\xC3@example.org"));              // truncated sequence
  EXPECT_FALSE(Jid::parse("bad\xC0\xAF@example.org"));          // overlong '/'
  EXPECT_FALSE(Jid::parse("bad\xED\xA0\x80@example.org"));      // surrogate
  EXPECT_FALSE(Jid::parse("bad\xF4\x90\x80\x80@example.org"));  // above U+10FFFF
  EXPECT_FALSE(Jid::parse("bob@example.org/\xFF"));
}

TEST(JidParse, ControlCharacters) {
  EXPECT_FALSE(Jid::parse(std::string("bo\0b@example.org", 16)));
  EXPECT_FALSE(Jid::parse("bo\tb@example.org"));
  EXPECT_FALSE(Jid::parse("bob@example.org/a\nb"));
  EXPECT_FALSE(Jid::parse("bob@exa\x7Fmple.org"));
  EXPECT_FALSE(Jid::parse("bob@example.org/\xC2\x85"));  // U+0085, a C1 control
}

TEST(JidParse, ForbiddenLocalpartCharacters) {
  for (const char* local : {"a\"b", "a&b", "a'b", "a:b", "a<b", "a>b", "a b"}) {
    EXPECT_FALSE(Jid::from_parts(local, "example.org")) << local;
  }
  EXPECT_FALSE(Jid::from_parts("a@b", "example.org"));
  EXPECT_FALSE(Jid::from_parts("a/b", "example.org"));
  EXPECT_TRUE(Jid::from_parts("a\\b", "example.org"));
  EXPECT_FALSE(Jid::parse("a<b@example.org"));
}

TEST(JidParse, ForbiddenDomainCharacters) {
  EXPECT_FALSE(Jid::parse("bob@exa mple.org"));
  EXPECT_FALSE(Jid::parse("bob@exa<mple.org"));
  EXPECT_FALSE(Jid::from_parts("bob", "a@b"));
}

TEST(JidFromParts, EmptyLocalAndResourceMeanAbsent) {
  auto jid = Jid::from_parts("", "Example.org", "");
  ASSERT_TRUE(jid);
  EXPECT_EQ(jid->full_string(), "example.org");
  EXPECT_FALSE(Jid::from_parts("bob", ""));
}

TEST(JidOrder, ComparesByParts) {
  EXPECT_LT(*Jid::parse("a@example.org"), *Jid::parse("b@example.org"));
  EXPECT_NE(*Jid::parse("a@example.org/x"), *Jid::parse("a@example.org/y"));
  EXPECT_TRUE(Jid().empty());
}

// XEP-0106 §5 "Examples" table, localparts only.
struct EscapeCase {
  const char* raw;
  const char* escaped;
};
class Xep0106Table : public ::testing::TestWithParam<EscapeCase> {};

TEST_P(Xep0106Table, EscapesAndUnescapes) {
  const EscapeCase& c = GetParam();
  auto escaped = escape_local(c.raw);
  ASSERT_TRUE(escaped);
  EXPECT_EQ(*escaped, c.escaped);
  EXPECT_EQ(unescape_local(c.escaped), c.raw);
}

INSTANTIATE_TEST_SUITE_P(
    Examples, Xep0106Table,
    ::testing::Values(EscapeCase{"space cadet", "space\\20cadet"},
                      EscapeCase{"call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22"},
                      EscapeCase{"at&t guy", "at\\26t\\20guy"},
                      EscapeCase{"d'artagnan", "d\\27artagnan"},
                      EscapeCase{"/.fanboy", "\\2f.fanboy"},
                      EscapeCase{"::foo::", "\\3a\\3afoo\\3a\\3a"},
                      EscapeCase{"<foo>", "\\3cfoo\\3e"}, EscapeCase{"user@host", "user\\40host"},
                      EscapeCase{"c:\\net", "c\\3a\\net"}, EscapeCase{"c:\\\\net", "c\\3a\\\\net"},
                      EscapeCase{"c:\\cool stuff", "c\\3a\\cool\\20stuff"},
                      EscapeCase{"c:\\5commas", "c\\3a\\5c5commas"}));

TEST(Xep0106, LeadingOrTrailingSpaceCannotBeEscaped) {
  EXPECT_FALSE(escape_local(" bob"));
  EXPECT_FALSE(escape_local("bob "));
  EXPECT_EQ(escape_local(""), std::string());
}

TEST(Xep0106, BackslashRuleOnlyForTheTenSequences) {
  EXPECT_EQ(*escape_local("a\\20b"), "a\\5c20b");
  EXPECT_EQ(*escape_local("a\\5cb"), "a\\5c5cb");
  EXPECT_EQ(*escape_local("a\\2Fb"), "a\\2Fb");  // sequences are lower-case hex
  EXPECT_EQ(*escape_local("a\\zz"), "a\\zz");
  EXPECT_EQ(*escape_local("end\\"), "end\\");
  EXPECT_EQ(*escape_local("\\4"), "\\4");
}

TEST(Xep0106, UnescapeOnlyTheTenSequences) {
  EXPECT_EQ(unescape_local("a\\41b"), "a\\41b");
  EXPECT_EQ(unescape_local("a\\5cb"), "a\\b");
  EXPECT_EQ(unescape_local("a\\5c20b"), "a\\20b");
  EXPECT_EQ(unescape_local("trailing\\4"), "trailing\\4");
  EXPECT_EQ(unescape_local("\\40\\40"), "@@");
}

TEST(Xep0106, RoundTripsArbitraryLocalparts) {
  for (const char* raw : {"a\\20b", "\\5c", "x\\y\\40z", "a b c", "\\\\\\", "j\xC3\xBCrgen@x"}) {
    auto escaped = escape_local(raw);
    ASSERT_TRUE(escaped) << raw;
    EXPECT_EQ(unescape_local(*escaped), raw) << raw;
  }
}

TEST(ProxyJid, MapsBareJidIntoComponentDomain) {
  auto proxy = proxy_jid(*Jid::parse("bob@example.org"), "concierge.example.org");
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->full_string(), "bob\\40example.org@concierge.example.org");
  auto user = user_from_proxy(*proxy, "concierge.example.org");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->full_string(), "bob@example.org");
}

TEST(ProxyJid, CarriesResourceBackAndNormalisesComponentDomain) {
  auto proxy = Jid::parse("bob\\40example.org@Concierge.Example.org/desk");
  ASSERT_TRUE(proxy);
  auto user = user_from_proxy(*proxy, "CONCIERGE.example.org.");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->full_string(), "bob@example.org/desk");
}

TEST(ProxyJid, RefusesWhatCannotRoundTrip) {
  EXPECT_FALSE(proxy_jid(*Jid::parse("bob@example.org/phone"), "c.example.org"));
  EXPECT_FALSE(proxy_jid(*Jid::parse("example.org"), "c.example.org"));
  EXPECT_FALSE(proxy_jid(Jid(), "c.example.org"));
  EXPECT_FALSE(proxy_jid(*Jid::parse("bob@example.org"), ""));
  // Escaping grows the localpart beyond 1023 bytes.
  EXPECT_FALSE(proxy_jid(*Jid::parse(std::string(1015, 'a') + "@example.org"), "c.example.org"));
}

TEST(ProxyJid, RoundTripsBackslashesAndUtf8) {
  for (const char* text :
       {"c\\5cx@example.org", "a\\40b@example.org", "j\xC3\xBCrgen@example.org", "x\\y@[::1]"}) {
    auto user = Jid::parse(text);
    ASSERT_TRUE(user) << text;
    auto proxy = proxy_jid(*user, "concierge.example.org");
    ASSERT_TRUE(proxy) << text;
    auto back = user_from_proxy(*proxy, "concierge.example.org");
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, *user) << text;
  }
}

TEST(ProxyJid, ProxyOfAProxyIsComputable) {
  // The caller refuses loops; the mapping itself still works.
  auto inner = *Jid::parse("bob\\40example.org@concierge.example.org");
  auto proxy = proxy_jid(inner, "concierge.example.org");
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->local(), "bob\\5c40example.org\\40concierge.example.org");
  auto back = user_from_proxy(*proxy, "concierge.example.org");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, inner);
}

TEST(UserFromProxy, RejectsForeignDomainAndMissingLocalpart) {
  EXPECT_FALSE(user_from_proxy(*Jid::parse("bob\\40example.org@other.example.org"),
                               "concierge.example.org"));
  EXPECT_FALSE(user_from_proxy(*Jid::parse("concierge.example.org"), "concierge.example.org"));
}

TEST(UserFromProxy, RejectsLocalpartsThatAreNotUserJids) {
  const char* domain = "concierge.example.org";
  auto check = [&](const char* local) {
    auto proxy = Jid::from_parts(local, domain);
    ASSERT_TRUE(proxy) << local;
    EXPECT_FALSE(user_from_proxy(*proxy, domain)) << local;
  };
  check("helpdesk");                   // no '@' after unescaping
  check("\\40example.org");            // empty localpart
  check("bob\\40");                    // empty domain
  check("bob\\40example.org\\2fres");  // would carry a resource
  check("b\\20ob\\40example.org");     // space in the localpart
  check("bob\\40exa\\20mple.org");     // space in the domain
  check("a\\40b\\40example.org");      // '@' in the localpart
}

}  // namespace
}  // namespace concierge::xmpp
