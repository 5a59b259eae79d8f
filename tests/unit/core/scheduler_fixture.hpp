// SPDX-License-Identifier: MIT
#pragma once
// What the scheduler's tests share: bob works Mon-Fri 09:00-17:00 Berlin and is present at
// 10:00 on Monday; alice, carol and boss are enrolled too (boss is always through for bob).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <component/core/router.hpp>
#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/office_hours.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core::testing {

using namespace std::chrono_literals;

// Mon 2026-11-30 is a Monday. Bob works Mon-Fri 09:00-17:00 Europe/Berlin (UTC+1 in winter).
inline const Instant kMonday0800Utc = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 8h;

inline Settings scheduler_settings() {
  Settings s = testing::base_settings();
  testing::enrol(s, {"bob@example.org", "alice@example.org", "carol@example.org"}, "Europe/Berlin");
  testing::enrol(s, {"boss@example.org"});
  s.users["bob@example.org"].always_through = {"boss@example.org"};
  return s;
}

inline std::string chat(const std::string& from, const std::string& to_local, const std::string& id,
                 const std::string& body, const std::string& extra = "") {
  return "<message from=\"" + from + "/r\" to=\"" + to_local +
         "\\40example.org@sched.example.org\" type=\"chat\" id=\"" + id + "\"><body>" + body +
         "</body>" + extra + "</message>";
}

class SchedulerTest : public CoreTest {
 protected:
  SchedulerTest() : CoreTest(scheduler_settings(), kMonday0800Utc + 1h) {}  // 10:00 Berlin: bob is working

  void SetUp() override {
    router->connected(now, out);
    out.clear();
    router->set_schedule("bob@example.org", office_hours(now), now, out);
    present("bob@example.org");
    out.clear();
  }
  // `who` granted the component's subscription request: their presence counts (DESIGN §4).
  void grant(const std::string& who) {
    router->handle(xml("<presence from=\"" + who + "\" to=\"sched.example.org\" type=\"subscribed\"/>"),
                   now, out);
  }
  void present(const std::string& who, const std::string& show = "") {
    grant(who);
    router->handle(xml("<presence from=\"" + who + "/desk\" to=\"sched.example.org\">" +
                       (show.empty() ? "" : "<show>" + show + "</show>") + "</presence>"),
                   now, out);
  }
  void gone(const std::string& who) {
    grant(who);
    router->handle(xml("<presence from=\"" + who + "/desk\" to=\"sched.example.org\" type=\"unavailable\"/>"),
                   now, out);
  }
  std::vector<std::string> bodies(const std::vector<xmpp::Element>& stanzas, const std::string& to) {
    std::vector<std::string> b;
    for (const auto& s : stanzas) {
      if (s.attr("to").starts_with(to)) b.push_back(s.child_text("body").value_or("<none>"));
    }
    return b;
  }
  std::vector<std::string> released_bodies() {
    std::vector<std::string> b;
    for (const auto& r : out.releases) b.push_back(r.stanza.child_text("body").value_or(""));
    return b;
  }
  void tick_to(Instant t) {
    now = t;
    out.clear();
    router->tick(now, out);
  }
  void converse(const std::string& a, const std::string& b_local) {
    in(chat(a, b_local, "x1", "hi"));
    in(chat(b_local + "@example.org", a.substr(0, a.find('@')), "x2", "hi back"));
  }
};

// The rooms a Scheduler works over, built by hand from scheduler_settings() (no Router): for
// tests that drive one room alone. A test fixture derives from it and adds its room(s) after.
struct HandBuiltRooms {
  Settings settings = scheduler_settings();
  MemoryStore store;
  Directory directory{settings, store};
  Availability availability{settings};
  PresenceBook presence;
  SessionBook sessions{settings.idle_after};
  ProxyAddressing proxy{settings.component_domain};
  Subscriptions subscriptions{store};
  RateLimiter limiter{settings.messages_per_sender_per_minute};
  RouterStats stats;
  SchedulerRooms rooms{settings, store, directory,     availability, presence,
                       sessions, proxy, subscriptions, limiter,      stats};
};

// The hold ids of the releases in `o`.
inline std::vector<std::int64_t> ids_of(const Outbox& o) {
  std::vector<std::int64_t> v;
  for (const auto& r : o.releases) v.push_back(r.hold_id);
  return v;
}

}  // namespace concierge::core::testing
