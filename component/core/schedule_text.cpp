// SPDX-License-Identifier: MIT
// What a user is told about their own schedule — the week view of `status` and the
// notes of the "in force" answer (the calendar's warnings, and what applies when it gives no
// working time: `schedule.unknown`).
#include <cstdio>
#include <set>

#include <component/core/schedule_text.hpp>
#include <ical/zone.hpp>

namespace concierge::core {
namespace {

constexpr std::size_t kShownWarnings = 5;
constexpr std::size_t kWarningChars = 200;

// One line of at most kWarningChars characters (cut at a UTF-8 boundary).
std::string one_line(std::string_view text) {
  std::string line;
  for (char c : text) line += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (line.size() > kWarningChars) {
    std::size_t cut = kWarningChars;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line.resize(cut);
    line += "…";
  }
  return line;
}

}  // namespace

std::string schedule_notes(const ical::Schedule& schedule, bool unknown_is_working) {
  std::string text;
  if (!schedule.has_working()) {
    text += unknown_is_working
                ? "\nYour calendar gives no working time, so schedule.unknown applies: you count "
                  "as working except when your calendar says busy, away or off."
                : "\nYour calendar gives no working time, so schedule.unknown applies: you count "
                  "as off and messages wait for you. Set weekly hours, e.g. \"hours Mon-Fri "
                  "09:00-17:00\".";
  }
  std::set<std::string> seen;
  std::size_t more = 0;
  for (const auto& warning : schedule.warnings()) {
    std::string line = one_line(warning);
    if (!seen.insert(line).second) continue;
    if (seen.size() > kShownWarnings) {
      ++more;
    } else {
      text += "\nWarning: " + line;
    }
  }
  if (more != 0) {
    text += "\n… and " + std::to_string(more) + (more == 1 ? " more warning" : " more warnings");
  }
  return text;
}

std::string week_view(const ical::Schedule& schedule, const std::string& zone_name, Instant now,
                      bool unknown_is_working) {
  auto zone = ical::find_zone(zone_name);
  if (!zone) zone = ical::Zone::utc();
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto hhmm = [&zone](ical::UtcSeconds t) {
    const ical::LocalSeconds local = zone->to_local(t);
    const std::int64_t secs = local - ical::floor_days(local) * ical::kSecondsPerDay;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60));
    return std::string(buf);
  };
  std::string text = "Working time this week (" + zone->name() + "):";
  if (!schedule.has_working()) {
    // The whole days below are schedule.unknown's doing, not the calendar's: say so.
    text += unknown_is_working
                ? "\n  No working time in your calendar: treated as working all day "
                  "(schedule.unknown)."
                : "\n  No working time in your calendar: treated as off (schedule.unknown).";
  }
  const std::int64_t today = ical::floor_days(zone->to_local(to_utc_seconds(now)));
  for (std::int64_t day = today; day < today + 7; ++day) {
    const ical::UtcSeconds from = zone->to_utc(day * ical::kSecondsPerDay);
    const ical::UtcSeconds to = zone->to_utc((day + 1) * ical::kSecondsPerDay);
    // On duty = working or busy (a meeting inside working time is working time, spent busy).
    std::string on_duty, busy;
    bool away = false, working = false;
    auto add = [&](std::string& list, ical::UtcSeconds a, ical::UtcSeconds b) {
      list += (list.empty() ? "" : ", ") + hhmm(a) + "-" + (b >= to ? "24:00" : hhmm(b));
    };
    std::optional<ical::UtcSeconds> duty_start;
    const auto changes = schedule.changes_between(from, to);
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const ical::UtcSeconds start = std::max(changes[i].at, from);
      const ical::UtcSeconds end = i + 1 < changes.size() ? changes[i + 1].at : to;
      const ical::Status status = changes[i].status;
      const bool duty = status == ical::Status::working || status == ical::Status::busy;
      if (duty && !duty_start) duty_start = start;
      if (!duty && duty_start) {
        add(on_duty, *duty_start, start);
        duty_start.reset();
      }
      if (status == ical::Status::busy) add(busy, start, end);
      away = away || status == ical::Status::away;
      working = working || status == ical::Status::working;
    }
    if (duty_start) add(on_duty, *duty_start, to);
    const ical::CivilDate d = ical::civil_from_days(day);
    char head[32];
    std::snprintf(head, sizeof head, "\n  %s %2d %s:", kDays[ical::weekday_from_days(day)],
                  static_cast<int>(d.day), kMonths[(d.month - 1) % 12]);
    text += head;
    if (on_duty.empty()) {
      text += away ? " away" : " off";
      continue;
    }
    if (!working) {  // only meetings (no working time around them): just say when
      text += " busy " + busy + (away ? " (away part of the day)" : "");
      continue;
    }
    text += " " + on_duty;
    std::string notes = busy.empty() ? "" : "busy " + busy;
    if (away) notes += std::string(notes.empty() ? "" : "; ") + "away part of the day";
    if (!notes.empty()) text += " (" + notes + ")";
  }
  return text;
}

}  // namespace concierge::core
