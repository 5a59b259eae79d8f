// SPDX-License-Identifier: MIT
#pragma once
// What the tests of users' own settings and their commands share: bob is enrolled by the
// config (zone and hours pinned by the admin), admin@example.org is an admin; a calendar and its
// compile.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <component/core/router.hpp>
#include <ical/compile.hpp>
#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core::testing {

using namespace std::chrono_literals;

// Mon 2026-11-30, 09:00 UTC = 10:00 Berlin.
inline const Instant kMonday0900Utc = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 9h;

inline const char* kIcs =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
    "DTSTAMP:20261101T000000Z\r\nDTSTART:20261130T080000Z\r\nDTEND:20261130T160000Z\r\n"
    "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

inline Settings profile_settings() {
  Settings s = testing::base_settings({"example.org", "other.org"});
  testing::enrol(s, {"bob@example.org"}, "Europe/Berlin", "Mon-Fri 09:00-17:00");
  s.users["bob@example.org"].admin_keys = {"timezone", "hours"};
  s.admins = {"admin@example.org"};
  return s;
}

inline std::shared_ptr<const ical::Schedule> compiled(const ScheduleSource& source, Instant around) {
  ical::CompileRequest r;
  r.zone = source.zone;
  r.hours = source.hours;
  r.calendar = source.upload;
  r.kind = source.personal ? ical::CalendarKind::personal : ical::CalendarKind::work;
  ical::set_window_around(r, to_utc_seconds(around), 20);
  auto s = ical::compile(r);
  EXPECT_TRUE(s.ok()) << s.error();
  return std::make_shared<const ical::Schedule>(s.value());
}

class SettingsTest : public CoreTest {
 protected:
  SettingsTest() : CoreTest(profile_settings(), kMonday0900Utc) {}

  void SetUp() override {
    router->connected(now, out);
    out.clear();
  }
  // An ad-hoc command submitted with `fields` (var → values); the completed note, or the
  // status when it did not complete.
  std::string submit(const std::string& who, const std::string& node,
                     const std::vector<std::pair<std::string, std::vector<std::string>>>& fields) {
    std::string form = "<x xmlns=\"jabber:x:data\" type=\"submit\">";
    for (const auto& [var, values] : fields) {
      form += "<field var=\"" + var + "\">";
      for (const auto& v : values) form += "<value>" + v + "</value>";
      form += "</field>";
    }
    form += "</x>";
    out.clear();
    router->handle(xml("<iq type=\"set\" id=\"c\" from=\"" + who + "/r\" to=\"sched.example.org\">"
                       "<command xmlns=\"http://jabber.org/protocol/commands\" node=\"" + node +
                       "\" sessionid=\"s1\">" + form + "</command></iq>"),
                   now, out);
    const xmpp::Element* iq = nullptr;
    for (const auto& s : out.stanzas) {
      if (s.name == "iq" && s.attr("id") == "c") iq = &s;
    }
    if (!iq) return "<no answer>";
    const auto* command = iq->child("command");
    if (!command) return "<" + std::string(iq->attr("type")) + ">";
    if (command->attr("status") != "completed") return "<" + std::string(command->attr("status")) + ">";
    return command->child_text("note").value_or("");
  }
  bool asked_to_compile(const std::string& who) const {
    return std::find(out.schedule_changed.begin(), out.schedule_changed.end(), who) !=
           out.schedule_changed.end();
  }
};

}  // namespace concierge::core::testing
