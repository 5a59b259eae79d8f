// SPDX-License-Identifier: MIT
// From span sets that say what they mean to the Schedule's list of changes (see timeline.hpp).
#include <ical/timeline.hpp>

#include <algorithm>
#include <utility>

namespace concierge::ical {

Spans clip(Spans s, UtcSeconds from, UtcSeconds to) {
  for (Span& x : s) {
    x.from = std::max(x.from, from);
    x.to = std::min(x.to, to);
  }
  return normalized(std::move(s));
}

Spans weekly_hours_spans(const WeeklyHours& hours, const Zone& zone, UtcSeconds from,
                         UtcSeconds to) {
  Spans out;
  if (hours.empty()) return out;
  const std::int64_t first = floor_days(zone.to_local(from)) - 1;
  const std::int64_t last = floor_days(zone.to_local(to)) + 1;
  for (std::int64_t day = first; day <= last; ++day) {
    const int wd = weekday_from_days(day);
    for (const auto& r : hours.ranges) {
      if (r.weekday != wd) continue;
      const LocalSeconds base = day * kSecondsPerDay;
      out.push_back(
          {zone.to_utc(base + r.start_minute * 60), zone.to_utc(base + r.end_minute * 60)});
    }
  }
  return normalized(std::move(out));
}

Schedule assemble_schedule(TimelineParts parts, const CompileRequest& request,
                           const std::string& zone_name, std::vector<std::string> warnings) {
  const UtcSeconds from = request.window_from, to = request.window_to;
  const Spans window{{from, to}};
  Spans away = clip(std::move(parts.away), from, to);
  Spans off = clip(std::move(parts.explicit_off), from, to);
  Spans busy;
  Spans hours = clip(std::move(parts.hours), from, to);

  // Availability painted weakest first, so stronger ones overwrite (RFC 7953 PRIORITY).
  std::stable_sort(parts.availabilities.begin(), parts.availabilities.end(),
                   [](const AvailabilityLayer& a, const AvailabilityLayer& b) {
                     return a.strength < b.strength;
                   });
  Spans covered, avail_working, avail_off, avail_busy;
  for (const AvailabilityLayer& a : parts.availabilities) {
    const Spans range = clip(Spans{a.range}, from, to);
    const Spans avail = clip(a.available, from, to);
    const Spans rest = subtract(range, avail);
    avail_working = unite(subtract(avail_working, range), avail);
    avail_off = subtract(avail_off, range);
    avail_busy = subtract(avail_busy, range);
    if (a.busy_outside) {
      avail_busy = unite(avail_busy, rest);
    } else {
      avail_off = unite(avail_off, rest);
    }
    covered = unite(covered, range);
  }
  off = unite(off, avail_off);

  Spans working;
  if (request.kind == CalendarKind::work) {
    working = unite(hours, clip(std::move(parts.working_events), from, to));
    busy = avail_busy;
  } else {
    working = unite(avail_working, subtract(hours, covered));
    const Spans events = clip(std::move(parts.busy_events), from, to);
    busy = unite(working.empty() ? events : intersect(events, working), avail_busy);
  }
  const bool has_working = !working.empty();

  const Spans away_or_off = unite(away, off);
  const Spans blocked = unite(away_or_off, busy);
  std::vector<std::pair<Span, Status>> labeled;
  for (const Span& s : away) labeled.push_back({s, Status::away});
  for (const Span& s : subtract(off, away)) labeled.push_back({s, Status::off_hours});
  for (const Span& s : subtract(busy, away_or_off)) labeled.push_back({s, Status::busy});
  for (const Span& s : subtract(working, blocked)) labeled.push_back({s, Status::working});
  if (!has_working && request.unknown_fill) {
    for (const Span& s : subtract(window, blocked)) labeled.push_back({s, *request.unknown_fill});
  }
  std::sort(labeled.begin(), labeled.end(),
            [](const auto& a, const auto& b) { return a.first.from < b.first.from; });
  std::vector<Schedule::Change> changes;
  changes.reserve(labeled.size() * 2 + 1);
  UtcSeconds cur = from;
  for (const auto& [span, status] : labeled) {
    if (span.from > cur) changes.push_back({cur, Status::off_hours});
    changes.push_back({span.from, status});
    cur = span.to;
  }
  if (cur < to) changes.push_back({cur, Status::off_hours});
  return Schedule(zone_name, from, to, std::move(changes), has_working, std::move(warnings));
}

}  // namespace concierge::ical
