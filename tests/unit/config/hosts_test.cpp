// SPDX-License-Identifier: MIT
// component.hosts (DESIGN §12): a cluster's nodes instead of host/port, exactly one of the two.
#include <config/config.hpp>
#include <config/endpoint.hpp>

#include <string>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace concierge::config {
namespace {

using testing::ElementsAre;

constexpr std::string_view kFile = "hosts.toml";

std::vector<std::string> errors_of(const std::string& text) {
  std::vector<std::string> messages;
  ParseResult result = parse(text, kFile);
  if (const auto* errors = std::get_if<std::vector<Error>>(&result)) {
    for (const Error& error : *errors) messages.push_back(error.to_string());
  }
  return messages;
}

std::string file(const std::string& component_lines) {
  return "[component]\njid = \"c.example.org\"\nsecret = \"x\"\n" + component_lines +
         "[served]\ndomains = [\"example.org\"]\n";
}

TEST(ComponentHosts, AListOfNodesIsTriedInTheOrderWritten) {
  ParseResult result = parse(file("hosts = [\"xmpp1.example.org:5347\", \"[::1]:5348\"]\n"), kFile);
  ASSERT_TRUE(std::holds_alternative<Config>(result)) << errors_of(file("")).size();
  const Config& c = std::get<Config>(result);
  EXPECT_THAT(c.component.endpoints(),
              ElementsAre(Component::Endpoint{"xmpp1.example.org", 5347},
                          Component::Endpoint{"::1", 5348}));
  const std::string printed = to_toml(c);
  EXPECT_NE(printed.find("hosts = [\"xmpp1.example.org:5347\", \"[::1]:5348\"]"), std::string::npos)
      << printed;
  EXPECT_EQ(printed.find("\nport = "), std::string::npos) << "host/port are not printed beside";
}

TEST(ComponentHosts, WithoutHostsHostAndPortAreTheOneEndpoint) {
  ParseResult result = parse(file("host = \"10.0.0.1\"\nport = 5400\n"), kFile);
  ASSERT_TRUE(std::holds_alternative<Config>(result));
  EXPECT_THAT(std::get<Config>(result).component.endpoints(),
              ElementsAre(Component::Endpoint{"10.0.0.1", 5400}));
}

TEST(ComponentHosts, HostsBesideHostOrPortIsAnError) {
  EXPECT_THAT(errors_of(file("host = \"a\"\nhosts = [\"b:1\"]\n")),
              ElementsAre(std::string(kFile) + ":5: component.hosts: set either component.host and "
                          "component.port or component.hosts, not both"));
  EXPECT_EQ(errors_of(file("port = 5347\nhosts = [\"b:1\"]\n")).size(), 1u);
}

TEST(ComponentHosts, EachBadEntryIsNamedWithItsLine) {
  const auto errors = errors_of(file("hosts = [\n  \"ok:1\",\n  \"noport\",\n  \"x:0\",\n"
                                     "  \"::1:5\",\n  \"a b:5\"\n]\n"));
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0], std::string(kFile) +
                           ":6: component.hosts: not a \"host:port\" (port 1-65535, \"[v6]:port\" "
                           "for IPv6): \"noport\"");
  EXPECT_NE(errors[1].find(":7: component.hosts"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("\"::1:5\""), std::string::npos) << errors[2];
  EXPECT_NE(errors[3].find("\"a b:5\""), std::string::npos) << errors[3];
  EXPECT_THAT(errors_of(file("hosts = []\n")),
              ElementsAre(std::string(kFile) + ":4: component.hosts: must list at least one \"host:port\""));
}

TEST(ComponentHosts, EndpointsRoundTripThroughText) {
  for (const std::string text : {"a.example:1", "[2001:db8::1]:65535", "127.0.0.1:5347"}) {
    const auto e = parse_endpoint(text);
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(to_string(*e), text);
  }
  EXPECT_FALSE(parse_endpoint("a.example:65536"));
  EXPECT_FALSE(parse_endpoint(":5"));
  EXPECT_FALSE(parse_endpoint("[]:5"));
}

}  // namespace
}  // namespace concierge::config
