// SPDX-License-Identifier: MIT
#pragma once
// What the transparent way's tests share: bob (enrolled, working, present) on a router on a
// MemoryStore, a TransparentWay beside it, and the extension of example.org diverting to him.
// Fake clock, plain values.

#include <set>
#include <string>
#include <vector>

#include <component/core/transparent_way.hpp>
#include <tests/unit/core/scheduler_fixture.hpp>

namespace concierge::core::testing {

namespace divert = xmpp::divert;

inline Settings transparent_settings(bool open = true) {
  Settings s = scheduler_settings();
  s.transparent_way = open;
  return s;
}

class TransparentTest : public CoreTest {
 protected:
  TransparentTest() : TransparentTest(true) {}
  explicit TransparentTest(bool open) : TransparentTest(transparent_settings(open)) {}
  explicit TransparentTest(Settings settings)
      : CoreTest(std::move(settings), kMonday0800Utc + 1h), way(router->settings()) {}

  void SetUp() override {
    router->connected(now, out);
    out.clear();
    router->set_schedule("bob@example.org", office_hours(now), now, out);
    router->handle(xml("<presence from=\"bob@example.org\" to=\"sched.example.org\" "
                       "type=\"subscribed\"/>"), now, out);
    router->handle(xml("<presence from=\"bob@example.org/desk\" to=\"sched.example.org\"/>"),
                   now, out);
    out.clear();
  }

  // The extension diverts `body` from `from` (a full JID) to bob@example.org as divert `id`.
  void divert_to_bob(const std::string& from, const std::string& id, const std::string& body,
                     const std::string& extra = "") {
    divert_content_to_bob(from, id, "<body>" + body + "</body>" + extra);
  }
  // The same with `content` (children of the message) as it is, a body or none.
  void divert_content_to_bob(const std::string& from, const std::string& id,
                             const std::string& content) {
    divert_content("example.org", from, "bob@example.org", id, content);
  }
  // The extension of `extension` (a served domain) diverts `content` from `from` to `to`.
  void divert_content(const std::string& extension, const std::string& from,
                      const std::string& to, const std::string& id, const std::string& content) {
    xmpp::Element m = xml("<message xmlns=\"jabber:client\" from=\"" + from + "\" to=\"" + to +
                          "\" type=\"chat\" id=\"m-" + id + "\">" + content + "</message>");
    pass(divert::encode(divert::Divert{{extension, "sched.example.org", "cd-" + id}, id,
                                       "token-" + id, "2026-11-30T09:00:00Z", m}));
  }
  // `stanza` from the server, through the adapter (and the Router when not its own).
  // As app/ wires it: the passes a stanza the Router took may have ended are rechecked, and
  // every outbox is rechecked and rewritten before it goes.
  void pass(const xmpp::Element& stanza) {
    out.clear();
    if (!way.handle(stanza, now, *router, out)) {
      router->handle(stanza, now, out);
      way.touched(stanza, now, *router, out, 0);
    }
    way.recheck_passes(now, *router, out);
    withdrawn = way.rewrite(out);
  }
  void tick_to(Instant t) {
    now = t;
    out.clear();
    router->tick(now, out);
    way.recheck_passes(now, *router, out);
    way.rewrite(out);
  }
  // The verdicts in `stanzas`.
  static std::vector<divert::Verdict> verdicts(const std::vector<xmpp::Element>& stanzas) {
    std::vector<divert::Verdict> v;
    for (const auto& s : stanzas) {
      if (auto d = divert::decode_verdict(s)) v.push_back(*d);
    }
    return v;
  }
  std::vector<std::string> bodies_to(const std::vector<xmpp::Element>& stanzas,
                                     const std::string& to) {
    std::vector<std::string> b;
    for (const auto& s : stanzas) {
      if (s.name == "message" && s.attr("to").starts_with(to)) {
        b.push_back(std::string(s.attr("from")) + ": " + s.child_text("body").value_or(""));
      }
    }
    return b;
  }

  TransparentWay way;
  std::set<std::string> withdrawn;
};

}  // namespace concierge::core::testing
