// SPDX-License-Identifier: MIT
#pragma once
// Stanzas written as XML in the core's tests.

#include <gtest/gtest.h>

#include <string_view>

#include <xmpp/element.hpp>

namespace concierge::core::testing {

// The element `text` parses to; a test failure (and an empty element) when it does not parse.
inline xmpp::Element xml(std::string_view text) {
  std::string error;
  auto e = xmpp::parse_xml(text, &error);
  EXPECT_TRUE(e) << error << " in " << text;
  return e ? *e : xmpp::Element{};
}

}  // namespace concierge::core::testing
