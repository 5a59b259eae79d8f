// SPDX-License-Identifier: MIT
#pragma once
// What the core's tests share: settings for the component sched.example.org serving
// example.org, built up per test, and a router on a MemoryStore driven with stanzas written as
// XML at a fake instant (no clock, no socket).

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <component/core/router.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core::testing {

// The component sched.example.org, serving `served` (example.org by default); nobody enrolled.
inline Settings base_settings(std::initializer_list<const char*> served = {"example.org"}) {
  Settings s;
  s.component_domain = "sched.example.org";
  for (const char* domain : served) s.served_domains.insert(domain);
  return s;
}

// `users` enrolled by the config ([users]); with their `zone` and weekly `hours` when given.
inline Settings& enrol(Settings& s, std::initializer_list<const char*> users,
                       const char* zone = nullptr, const char* hours = nullptr) {
  for (const char* u : users) {
    s.enrolled.insert(u);
    if (zone) s.users[u].timezone = zone;
    if (hours) s.users[u].hours = hours;
  }
  return s;
}

// A router on a MemoryStore, an outbox and the instant the test is at.
class CoreTest : public ::testing::Test {
 protected:
  CoreTest(Settings settings, Instant at)
      : router(std::make_unique<Router>(std::move(settings), store)), now(at) {}

  MemoryStore store;
  std::unique_ptr<Router> router;
  Outbox out;
  Instant now;

  // A new router on the same store (a restart), with `settings`.
  void restart(Settings settings) { router = std::make_unique<Router>(std::move(settings), store); }
  // `text` handed to the router at `now`; what it did is in `out`.
  void in(const std::string& text) {
    out.clear();
    router->handle(xml(text), now, out);
  }
  // The same; the stanzas it sent.
  std::vector<xmpp::Element> handle(std::string_view text) {
    out.clear();
    router->handle(xml(text), now, out);
    return out.stanzas;
  }
  // A chat command from `who` to the component; the component's answer.
  std::string say(const std::string& who, const std::string& text) {
    in("<message from=\"" + who + "/r\" to=\"sched.example.org\" type=\"chat\"><body>" + text +
       "</body></message>");
    for (const auto& s : out.stanzas) {
      if (s.name == "message" && s.attr("from") == "sched.example.org" && s.attr("to") == who + "/r") {
        return s.child_text("body").value_or("");
      }
    }
    return "<no answer>";
  }
};

}  // namespace concierge::core::testing
