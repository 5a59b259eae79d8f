// SPDX-License-Identifier: MIT
#include <ical/recurrence.hpp>

#include <algorithm>
#include <iterator>

#include <libical/ical.h>

namespace concierge::ical {
namespace {

icaltimetype to_ical(LocalSeconds local, bool is_date) {
  const std::int64_t days = floor_days(local);
  const std::int64_t sec = local - days * kSecondsPerDay;
  const CivilDate c = civil_from_days(days);
  icaltimetype t = icaltime_null_time();
  t.year = c.year;
  t.month = c.month;
  t.day = c.day;
  t.is_date = is_date ? 1 : 0;
  if (!is_date) {
    t.hour = static_cast<int>(sec / 3600);
    t.minute = static_cast<int>(sec / 60 % 60);
    t.second = static_cast<int>(sec % 60);
  }
  t.zone = nullptr;  // floating: we iterate on the wall clock and convert ourselves
  return t;
}

LocalSeconds from_ical(const icaltimetype& t) {
  return seconds_from_civil(t.year, t.month, t.day, t.is_date ? 0 : t.hour,
                            t.is_date ? 0 : t.minute, t.is_date ? 0 : t.second);
}

template <std::size_t N>
bool all_in(const short (&values)[N], int lo, int hi, bool allow_negative) {
  for (std::size_t i = 0; i < N && values[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
    const int v = values[i];
    const int a = v < 0 && allow_negative ? -v : v;
    if (a < lo || a > hi) return false;
  }
  return true;
}

template <std::size_t N>
bool present(const short (&values)[N]) {
  return N > 0 && values[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

// libical's weekday enum (1 = Sunday … 7 = Saturday) → 0 = Monday … 6 = Sunday.
int to_monday_based(int ical_weekday) {
  return (ical_weekday + 5) % 7;
}

// Occurrence starts (wall clock) of a plain DAILY or WEEKLY rule: no BY-parts other than BYDAY
// without positions. Returns false when the rule is not that simple (then libical iterates).
bool expand_simple(const icalrecurrencetype& r, const EventShape& shape, LocalSeconds lo_local,
                   LocalSeconds hi_local, const std::optional<UtcSeconds>& until,
                   const RecurrenceInput& in, std::set<LocalSeconds>& starts,
                   std::vector<std::string>& problems) {
  if (r.freq != ICAL_DAILY_RECURRENCE && r.freq != ICAL_WEEKLY_RECURRENCE) return false;
  if (present(r.by_second) || present(r.by_minute) || present(r.by_hour) ||
      present(r.by_month_day) || present(r.by_year_day) || present(r.by_week_no) ||
      present(r.by_month) || present(r.by_set_pos)) {
    return false;
  }
  bool days[7] = {false, false, false, false, false, false, false};
  bool any_day = false;
  for (std::size_t i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
    if (icalrecurrencetype_day_position(r.by_day[i]) != 0) return false;
    days[to_monday_based(icalrecurrencetype_day_day_of_week(r.by_day[i]))] = true;
    any_day = true;
  }
  const std::int64_t start_day = floor_days(shape.start_local);
  const LocalSeconds time_of_day = shape.start_local - start_day * kSecondsPerDay;
  if (!any_day) {
    if (r.freq == ICAL_DAILY_RECURRENCE) {
      std::fill(std::begin(days), std::end(days), true);
    } else {
      days[weekday_from_days(start_day)] = true;
    }
  }
  const std::int64_t interval = r.interval;
  const std::int64_t period = r.freq == ICAL_DAILY_RECURRENCE ? interval : 7 * interval;
  // The first day of the period holding DTSTART (WKST-aligned weeks for WEEKLY).
  std::int64_t base = start_day;
  if (r.freq == ICAL_WEEKLY_RECURRENCE) {
    const int wkst = r.week_start == ICAL_NO_WEEKDAY ? 0 : to_monday_based(r.week_start);
    base = start_day - (weekday_from_days(start_day) - wkst + 7) % 7;
  }
  const std::int64_t span = r.freq == ICAL_DAILY_RECURRENCE ? 1 : 7;
  std::int64_t k = 0;
  const std::int64_t lo_day = floor_days(lo_local);
  if (r.count == 0 && lo_day > base) k = (lo_day - base) / period;  // skip ahead: no COUNT
  int produced = 0;
  std::size_t steps = 0;
  for (;; ++k) {
    const std::int64_t first = base + k * period;
    if (first * kSecondsPerDay > hi_local) return true;
    for (std::int64_t d = 0; d < span; ++d) {
      const std::int64_t day = first + d;
      if (day < start_day || !days[weekday_from_days(day)]) continue;
      if (++steps > in.limits->max_steps_per_rule || *in.steps_left == 0) {
        problems.push_back("has too many occurrences to follow; later ones were not used");
        return true;
      }
      --*in.steps_left;
      const LocalSeconds l = day * kSecondsPerDay + time_of_day;
      if (r.count > 0 && ++produced > r.count) return true;
      if (l > hi_local) return true;
      if (until && shape.zone->to_utc(l) > *until) return true;
      if (l >= lo_local) starts.insert(l);
    }
  }
}

constexpr int kMaxDaysInMonth[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

}  // namespace

std::optional<std::string> screen_rule(const icalrecurrencetype& r) {
  if (r.rscale != nullptr) return "uses a non-Gregorian calendar (RSCALE), which is not supported";
  switch (r.freq) {
    case ICAL_SECONDLY_RECURRENCE:
      return "repeats every second, which a schedule cannot use";
    case ICAL_MINUTELY_RECURRENCE:
      return "repeats every minute, which a schedule cannot use";
    case ICAL_NO_RECURRENCE:
      return "has no valid frequency (FREQ)";
    default:
      break;
  }
  if (r.interval < 1) return "has an invalid INTERVAL";
  if (r.count < 0) return "has an invalid COUNT";
  if (!all_in(r.by_second, 0, 60, false) || !all_in(r.by_minute, 0, 59, false) ||
      !all_in(r.by_hour, 0, 23, false))
    return "has an invalid BYHOUR, BYMINUTE or BYSECOND";
  if (!all_in(r.by_month_day, 1, 31, true)) return "has an invalid BYMONTHDAY";
  if (!all_in(r.by_year_day, 1, 366, true)) return "has an invalid BYYEARDAY";
  if (!all_in(r.by_week_no, 1, 53, true)) return "has an invalid BYWEEKNO";
  if (!all_in(r.by_set_pos, 1, 366, true)) return "has an invalid BYSETPOS";
  for (std::size_t i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
    const int dow = icalrecurrencetype_day_day_of_week(r.by_day[i]);
    const int pos = icalrecurrencetype_day_position(r.by_day[i]);
    if (dow < 1 || dow > 7 || pos < -53 || pos > 53) return "has an invalid BYDAY";
    // RFC 5545 §3.3.10: numbered weekdays ("1MO") only with MONTHLY or YEARLY.
    if (pos != 0 && r.freq != ICAL_MONTHLY_RECURRENCE && r.freq != ICAL_YEARLY_RECURRENCE)
      return "numbers a weekday (like 1MO) in a rule that is not monthly or yearly";
  }
  for (std::size_t i = 0; i < ICAL_BY_MONTH_SIZE && r.by_month[i] != ICAL_RECURRENCE_ARRAY_MAX;
       ++i) {
    if (icalrecurrencetype_month_is_leap(r.by_month[i]))
      return "uses leap months, which are not supported";
    const int m = icalrecurrencetype_month_month(r.by_month[i]);
    if (m < 1 || m > 12) return "has an invalid BYMONTH";
  }
  // An impossible day (February 30th) makes libical search forever with HOURLY rules.
  if (present(r.by_month_day) && present(r.by_month)) {
    bool possible = false;
    for (std::size_t i = 0; i < ICAL_BY_MONTH_SIZE && r.by_month[i] != ICAL_RECURRENCE_ARRAY_MAX;
         ++i) {
      const int m = icalrecurrencetype_month_month(r.by_month[i]);
      for (std::size_t j = 0;
           j < ICAL_BY_MONTHDAY_SIZE && r.by_month_day[j] != ICAL_RECURRENCE_ARRAY_MAX; ++j) {
        const int d = r.by_month_day[j] < 0 ? -r.by_month_day[j] : r.by_month_day[j];
        possible = possible || d <= kMaxDaysInMonth[m];
      }
    }
    if (!possible) return "names a day that never exists (such as February 30th)";
  }
  if (r.freq == ICAL_HOURLY_RECURRENCE &&
      (present(r.by_year_day) || present(r.by_week_no) || present(r.by_set_pos))) {
    return "combines an hourly repeat with BYYEARDAY, BYWEEKNO or BYSETPOS, which is not supported";
  }
  return std::nullopt;
}

RecurrenceOutput expand_recurrence(const EventShape& shape, const RecurrenceInput& in) {
  RecurrenceOutput out;
  const Zone& zone = *shape.zone;
  const std::int64_t length =
      std::max<std::int64_t>(shape.nominal_seconds + shape.exact_seconds, 0);
  const LocalSeconds lo_local = zone.to_local(in.window_from) - length - 2 * kSecondsPerDay;
  const LocalSeconds hi_local = zone.to_local(in.window_to) + 2 * kSecondsPerDay;

  std::set<LocalSeconds> starts{shape.start_local};  // DTSTART is always the first instance
  for (const icalrecurrencetype* rule : in.rules) {
    if (auto why = screen_rule(*rule)) {
      out.problems.push_back(*why + "; the event was read as a single occurrence");
      continue;
    }
    icalrecurrencetype r = *rule;
    // UNTIL is compared here, in UTC: libical compares it with floating times field by field.
    std::optional<UtcSeconds> until;
    if (!icaltime_is_null_time(r.until)) {
      const LocalSeconds u = from_ical(r.until);
      if (r.until.is_date) {
        until = zone.to_utc(u + kSecondsPerDay) - 1;
      } else {
        until = icaltime_is_utc(r.until) ? u : zone.to_utc(u);
      }
      r.until = icaltime_null_time();
      if (*until < in.window_from - length - kSecondsPerDay) continue;  // over before the window
    }
    if (in.fast_path &&
        expand_simple(r, shape, lo_local, hi_local, until, in, starts, out.problems)) {
      continue;
    }
    icalrecur_iterator* it = icalrecur_iterator_new(r, to_ical(shape.start_local, shape.is_date));
    if (it == nullptr) {
      out.problems.push_back("could not be used; the event was read as a single occurrence");
      continue;
    }
    // COUNT rules must be walked from DTSTART (libical cannot skip them); others start near the
    // window.
    if (r.count == 0 && lo_local > shape.start_local) {
      icalrecur_iterator_set_start(it, to_ical(lo_local, shape.is_date));
    }
    std::size_t steps = 0;
    while (true) {
      if (steps >= in.limits->max_steps_per_rule || *in.steps_left == 0) {
        out.problems.push_back("has too many occurrences to follow; later ones were not used");
        break;
      }
      ++steps;
      --*in.steps_left;
      const icaltimetype t = icalrecur_iterator_next(it);
      if (icaltime_is_null_time(t)) break;
      const LocalSeconds l = from_ical(t);
      if (l > hi_local) break;
      if (until && zone.to_utc(l) > *until) break;
      if (l >= lo_local) starts.insert(l);
    }
    icalrecur_iterator_free(it);
  }

  auto keep = [&](UtcSeconds start, LocalSeconds local) {
    if (in.exdates.count(start) != 0 || in.exdate_days.count(floor_days(local)) != 0) return false;
    return in.replaced == nullptr || in.replaced->count(start) == 0;
  };
  auto end_of = [&](LocalSeconds local, UtcSeconds start) {
    return (shape.nominal_seconds != 0 ? zone.to_utc(local + shape.nominal_seconds) : start) +
           shape.exact_seconds;
  };
  auto push = [&](UtcSeconds start, UtcSeconds end) {
    if (end > in.window_from && start < in.window_to && end > start)
      out.spans.push_back({start, end});
  };
  for (const LocalSeconds l : starts) {
    const UtcSeconds u = zone.to_utc(l);
    if (keep(u, l)) push(u, end_of(l, u));
  }
  for (const auto& extra : in.rdates) {
    const LocalSeconds l = zone.to_local(extra.start);
    if (starts.count(l) != 0 || !keep(extra.start, l)) continue;
    push(extra.start, extra.end ? *extra.end : end_of(l, extra.start));
  }
  return out;
}

}  // namespace concierge::ical
