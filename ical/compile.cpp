// SPDX-License-Identifier: MIT
// The calendar compiler (DESIGN §5). The pre-scan (prescan.cpp) screens the text and hands plain
// VEVENTs to the fast text reader (event_text.cpp); libical parses the rest. This file decides
// what the parts mean and compensates what libical 3.0.16 gets wrong (see recurrence.cpp, zone.cpp
// and the notes below).
#include <ical/compile.hpp>

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <libical/ical.h>

#include <ical/event.hpp>
#include <ical/prescan.hpp>
#include <ical/recurrence.hpp>
#include <ical/spans.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::ical {
namespace {

struct ComponentDeleter {
  void operator()(icalcomponent* c) const noexcept { icalcomponent_free(c); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

constexpr std::size_t kMaxWarnings = 20;

// libical keeps one iteration cursor per component: any nested get_first_* on the same component
// (icalcomponent_get_summary, …) restarts an outer loop. Collect first, then walk.
std::vector<icalproperty*> properties(icalcomponent* c, icalproperty_kind kind) {
  std::vector<icalproperty*> out;
  for (icalproperty* p = icalcomponent_get_first_property(c, kind); p != nullptr;
       p = icalcomponent_get_next_property(c, kind)) {
    out.push_back(p);
  }
  return out;
}

std::vector<icalcomponent*> children(icalcomponent* c, icalcomponent_kind kind) {
  std::vector<icalcomponent*> out;
  for (icalcomponent* s = icalcomponent_get_first_component(c, kind); s != nullptr;
       s = icalcomponent_get_next_component(c, kind)) {
    out.push_back(s);
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The value of the first X- property named `name` (case-insensitive), or empty.
std::string x_property(icalcomponent* c, std::string_view name) {
  for (icalproperty* p : properties(c, ICAL_X_PROPERTY)) {
    const char* n = icalproperty_get_x_name(p);
    if (n != nullptr && lowercase(n) == lowercase(name)) {
      const char* v = icalproperty_get_x(p);
      return v != nullptr ? trim(v) : std::string();
    }
  }
  return {};
}

bool is_cancelled(icalcomponent* c) {
  icalproperty* p = icalcomponent_get_first_property(c, ICAL_STATUS_PROPERTY);
  return p != nullptr && icalproperty_get_status(p) == ICAL_STATUS_CANCELLED;
}

bool is_out_of_office(icalcomponent* c) {
  const std::string busy = lowercase(x_property(c, "X-MICROSOFT-CDO-BUSYSTATUS"));
  if (busy == "oof") return true;
  if (lowercase(x_property(c, "X-MICROSOFT-CDO-INTENDEDSTATUS")) == "oof") return true;
  for (icalproperty* p : properties(c, ICAL_CATEGORIES_PROPERTY)) {
    const char* v = icalproperty_get_categories(p);
    if (v == nullptr) continue;
    std::string_view rest(v);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      if (is_out_of_office_word(rest.substr(0, comma))) return true;  // the text reader's words
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

bool is_transparent(icalcomponent* c) {
  if (lowercase(x_property(c, "X-MICROSOFT-CDO-BUSYSTATUS")) == "free") return true;
  icalproperty* p = icalcomponent_get_first_property(c, ICAL_TRANSP_PROPERTY);
  if (p == nullptr) return false;  // RFC 5545: OPAQUE by default
  const icalproperty_transp t = icalproperty_get_transp(p);
  return t == ICAL_TRANSP_TRANSPARENT || t == ICAL_TRANSP_TRANSPARENTNOCONFLICT;
}

Spans clip(Spans s, UtcSeconds from, UtcSeconds to) {
  for (Span& x : s) {
    x.from = std::max(x.from, from);
    x.to = std::min(x.to, to);
  }
  return normalized(std::move(s));
}

class Compiler {
 public:
  Compiler(const CompileRequest& request, std::shared_ptr<const Zone> user_zone)
      : request_(request), user_zone_(std::move(user_zone)), floating_zone_(user_zone_) {}

  Result<Schedule> run(Prescan& scan) {
    auto hours = parse_hours(request_.hours);
    if (!hours) return Error{hours.error()};
    hours_ = std::move(hours.value());
    if (!scan.x_wr_timezone.empty()) {
      if (auto z = find_zone(scan.x_wr_timezone)) {
        floating_zone_ = z;
      } else {
        warn("the calendar names an unknown time zone '" + scan.x_wr_timezone.substr(0, 64) +
             "' (X-WR-TIMEZONE); all-day and floating times were read in " + user_zone_->name());
      }
    }
    if (!request_.calendar.empty()) {
      icalerror_clear_errno();
      if (scan.had_bare_components) {
        warn("the file has entries outside any VCALENDAR; they were read anyway");
      }
      for (std::string& w : scan.warnings) warn(std::move(w));
      if (scan.more_warnings != 0) {
        warn("… and " + std::to_string(scan.more_warnings) + " more broken entries were skipped");
      }
      ComponentPtr root(icalparser_parse_string(scan.rewritten.c_str()));
      icalerror_clear_errno();
      if (!root) return Error{"the calendar could not be read (it is incomplete or not iCalendar)"};
      if (icalcomponent_isa(root.get()) == ICAL_VCALENDAR_COMPONENT) {
        calendars_.push_back(root.get());
      } else {
        calendars_ = children(root.get(), ICAL_VCALENDAR_COMPONENT);
      }
      if (calendars_.empty()) return Error{"this is not an iCalendar file (no VCALENDAR inside)"};
      for (icalcomponent* c : calendars_) process_calendar(c);
      events_.insert(events_.end(), std::make_move_iterator(scan.events.begin()),
                     std::make_move_iterator(scan.events.end()));
      process_events();
      calendars_.clear();
    }
    return assemble();
  }

 private:
  // ---- time reading ------------------------------------------------------------------------
  struct When {
    LocalSeconds local = 0;
    const Zone* zone = nullptr;
    std::string zone_key;  // equal keys: same wall clock (nominal durations apply)
    bool is_date = false;
  };

  const Zone* zone_for_tzid(const std::string& tzid) {
    if (auto it = tzids_.find(tzid); it != tzids_.end()) return it->second.get();
    std::shared_ptr<const Zone> zone = find_zone(tzid);
    for (std::size_t i = 0; !zone && i < calendars_.size(); ++i) {
      if (icaltimezone* own = icalcomponent_get_timezone(calendars_[i], tzid.c_str())) {
        // A VTIMEZONE under a name nobody knows: trust its rules around the window.
        zone = Zone::sampled(tzid, request_.window_from - 40 * kSecondsPerDay,
                             request_.window_to + 40 * kSecondsPerDay, [own](UtcSeconds t) {
                               icaltimetype u = icaltime_from_timet_with_zone(
                                   static_cast<time_t>(t), 0, icaltimezone_get_utc_timezone());
                               int is_daylight = 0;
                               return static_cast<std::int32_t>(
                                   icaltimezone_get_utc_offset_of_utc_time(own, &u, &is_daylight));
                             });
      }
    }
    if (!zone) {
      warn("unknown time zone '" + tzid.substr(0, 64) + "'; its times were read in " +
           user_zone_->name());
      zone = user_zone_;
    }
    return tzids_.emplace(tzid, zone).first->second.get();
  }

  std::optional<When> read_time(const TimeValue& t) {
    When w;
    w.is_date = t.is_date;
    w.local = t.local;
    if (t.is_date) {
      // libical makes all-day events UTC-midnight spans; they are days in the user's zone.
      w.zone = floating_zone_.get();
      w.zone_key = "date";
    } else if (t.is_utc) {
      w.zone = Zone::utc().get();
      w.zone_key = "UTC";
    } else if (!t.tzid.empty()) {
      w.zone = zone_for_tzid(t.tzid);
      w.zone_key = "tz:" + w.zone->name();
    } else {
      w.zone = floating_zone_.get();  // floating: X-WR-TIMEZONE, else the user's zone
      w.zone_key = "floating";
    }
    return w;
  }

  static std::optional<TimeValue> to_value(icalproperty* prop, const icaltimetype& t) {
    if (icaltime_is_null_time(t) || t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12 ||
        t.day < 1 || t.day > 31)
      return std::nullopt;
    TimeValue v;
    v.is_date = t.is_date != 0;
    v.local = seconds_from_civil(t.year, t.month, t.day, v.is_date ? 0 : t.hour,
                                 v.is_date ? 0 : t.minute, v.is_date ? 0 : t.second);
    v.is_utc = !v.is_date && icaltime_is_utc(t);
    icalparameter* tzid =
        prop != nullptr ? icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER) : nullptr;
    if (!v.is_utc && tzid != nullptr && icalparameter_get_tzid(tzid) != nullptr) {
      v.tzid = icalparameter_get_tzid(tzid);
    }
    return v;
  }

  std::optional<When> read_time(icalproperty* prop, const icaltimetype& t) {
    auto v = to_value(prop, t);
    return v ? read_time(*v) : std::nullopt;
  }

  static DurationValue to_duration(const icaldurationtype& d) {
    DurationValue v;
    v.negative = d.is_neg != 0;
    v.nominal_days = static_cast<std::int64_t>(d.weeks) * 7 + d.days;
    v.exact_seconds = static_cast<std::int64_t>(d.hours) * 3600 + d.minutes * 60 + d.seconds;
    return v;
  }

  // The libical path: what libical read, as the plain values the text reader gives.
  static EventData convert(icalcomponent* c) {
    EventData e;
    if (const char* uid = icalcomponent_get_uid(c)) e.uid = uid;
    if (const char* summary = icalcomponent_get_summary(c)) e.summary = summary;
    if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY)) {
      if (auto v = to_value(p, icalproperty_get_dtstart(p))) {
        e.start = *v;
        e.has_start = true;
      }
    }
    if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY)) {
      if (auto v = to_value(p, icalproperty_get_dtend(p))) {
        e.end = *v;
        e.has_end = true;
      } else {
        e.has_duration = true;  // an unreadable end: the event is skipped
        e.duration.negative = true;
      }
    } else if (icalproperty* d = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY)) {
      e.duration = to_duration(icalproperty_get_duration(d));
      e.has_duration = true;
    }
    for (icalproperty* p : properties(c, ICAL_RRULE_PROPERTY)) {
      icalrecurrencetype r = icalproperty_get_rrule(p);
      if (char* text = icalrecurrencetype_as_string_r(&r)) {
        e.rrules.emplace_back(text);
        icalmemory_free_buffer(text);
      }
    }
    for (icalproperty* p : properties(c, ICAL_RDATE_PROPERTY)) {
      const icaldatetimeperiodtype rd = icalproperty_get_rdate(p);
      EventData::Extra x;
      if (!icaltime_is_null_time(rd.time)) {
        if (auto v = to_value(p, rd.time)) {
          x.start = *v;
          e.rdates.push_back(x);
        }
      } else if (auto v = to_value(p, rd.period.start)) {
        x.start = *v;
        if (auto end = to_value(p, rd.period.end)) {
          x.end = *end;
          x.has_end = true;
        } else {
          x.duration = to_duration(rd.period.duration);
          x.has_duration = true;
        }
        e.rdates.push_back(x);
      }
    }
    for (icalproperty* p : properties(c, ICAL_EXDATE_PROPERTY)) {
      if (auto v = to_value(p, icalproperty_get_exdate(p))) e.exdates.push_back(*v);
    }
    if (icalproperty* rid = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY)) {
      if (auto v = to_value(rid, icalproperty_get_recurrenceid(rid))) {
        e.recurrence_id = *v;
      }
      e.has_recurrence_id = true;
      icalparameter* range = icalproperty_get_first_parameter(rid, ICAL_RANGE_PARAMETER);
      e.this_and_future =
          range != nullptr && icalparameter_get_range(range) == ICAL_RANGE_THISANDFUTURE;
    }
    e.cancelled = is_cancelled(c);
    e.out_of_office = is_out_of_office(c);
    e.transparent = is_transparent(c);
    return e;
  }

  // ---- events --------------------------------------------------------------------------------
  static std::string describe(std::string_view summary) {
    std::string name = trim(summary);
    if (name.empty()) return "an event";
    if (name.size() > 40) name = name.substr(0, 40) + "…";
    return "'" + name + "'";
  }
  static std::string describe(icalcomponent* c) {
    const char* s = icalcomponent_get_summary(c);
    return describe(s != nullptr ? std::string_view(s) : std::string_view());
  }

  // The occurrences of one event (its RRULE/RDATE/EXDATE), minus the instants listed in
  // `replaced` (RECURRENCE-IDs of overrides, as UTC), over the window.
  Spans occurrences(const EventData& e, const std::set<UtcSeconds>& replaced) {
    if (!e.has_start) return {};
    const auto start = read_time(e.start);
    if (!start) return {};
    EventShape shape;
    shape.start_local = start->local;
    shape.is_date = start->is_date;
    shape.zone = start->zone;
    if (!read_end(e, *start, shape)) return {};

    RecurrenceInput in;
    in.window_from = request_.window_from;
    in.window_to = request_.window_to;
    in.limits = &request_.limits;
    in.steps_left = &steps_left_;
    std::vector<icalrecurrencetype> rules;
    for (const std::string& text : e.rrules) {
      icalerror_clear_errno();
      icalrecurrencetype r = icalrecurrencetype_from_string(text.c_str());
      icalerror_clear_errno();
      if (r.freq == ICAL_NO_RECURRENCE) {
        warn("the repeat rule (RRULE) of " + describe(e.summary) +
             " was invalid; the event was read as a single occurrence");
      } else {
        rules.push_back(r);
      }
    }
    for (const auto& r : rules) in.rules.push_back(&r);
    for (const EventData::Extra& x : e.rdates) {
      auto w = read_time(x.start);
      if (!w) continue;
      const UtcSeconds from = w->zone->to_utc(w->local);
      if (x.has_end) {
        // RDATE;VALUE=PERIOD — libical's iterator ignores these; each is its own span.
        auto end = read_time(x.end);
        in.rdates.push_back({from, end ? end->zone->to_utc(end->local) : from});
      } else if (x.has_duration) {
        in.rdates.push_back(
            {from, w->zone->to_utc(w->local + x.duration.nominal_days * kSecondsPerDay) +
                       x.duration.exact_seconds});
      } else {
        in.rdates.push_back({from, std::nullopt});
      }
    }
    for (const TimeValue& t : e.exdates) {
      auto w = read_time(t);
      if (!w) continue;
      if (w->is_date && !shape.is_date) {
        in.exdate_days.insert(floor_days(w->local));
      } else {
        in.exdates.insert(w->zone->to_utc(w->local));
      }
    }
    in.replaced = &replaced;
    RecurrenceOutput out = expand_recurrence(shape, in);
    for (auto& r : rules) {
      if (r.rscale != nullptr) icalmemory_free_buffer(r.rscale);
    }
    for (const auto& problem : out.problems) {
      warn("the repeat rule of " + describe(e.summary) + " " + problem);
    }
    if (out.spans.size() > occurrences_left_) {
      warn("the calendar has too many occurrences; only the first " +
           std::to_string(request_.limits.max_occurrences) + " were used");
      out.spans.resize(occurrences_left_);
    }
    occurrences_left_ -= out.spans.size();
    return out.spans;
  }

  // DTEND vs DURATION vs neither (RFC 5545 §3.6.1), nominal where the wall clock is the same.
  bool read_end(const EventData& e, const When& start, EventShape& shape) {
    if (e.has_end) {
      auto end = read_time(e.end);
      if (!end) return false;
      if (end->zone_key == start.zone_key) {
        shape.nominal_seconds = end->local - start.local;
      } else {
        shape.nominal_seconds = 0;
        shape.exact_seconds = end->zone->to_utc(end->local) - start.zone->to_utc(start.local);
      }
    } else if (e.has_duration) {
      if (e.duration.negative) return false;
      shape.nominal_seconds = e.duration.nominal_days * kSecondsPerDay;
      shape.exact_seconds = e.duration.exact_seconds;
    } else {
      shape.nominal_seconds = start.is_date ? kSecondsPerDay : 0;
    }
    return shape.nominal_seconds + shape.exact_seconds > 0;
  }

  std::set<UtcSeconds> replaced_by(const std::vector<const EventData*>& overrides) {
    std::set<UtcSeconds> replaced;
    for (const EventData* o : overrides) {
      if (auto w = read_time(o->recurrence_id)) replaced.insert(w->zone->to_utc(w->local));
    }
    return replaced;
  }

  void process_event(const EventData* master, const std::vector<const EventData*>& overrides) {
    for (const EventData* o : overrides) {
      if (o->this_and_future) {
        warn("a change to " + describe(o->summary) +
             " applies to 'this and future' occurrences; only the one occurrence was changed");
      }
    }
    static const std::set<UtcSeconds> kNone;
    if (master != nullptr) classify(*master, occurrences(*master, replaced_by(overrides)));
    for (const EventData* o : overrides) classify(*o, occurrences(*o, kNone));
  }

  void classify(const EventData& e, Spans spans) {
    if (spans.empty() || e.cancelled) return;
    if (e.out_of_office) {  // even when TRANSPARENT, as Outlook and Google export them
      append(away_, spans);
      return;
    }
    if (e.transparent) return;
    if (request_.kind == CalendarKind::work) {
      if (!e.start.is_date) append(working_events_, spans);  // all-day counts only as OOF
    } else {
      append(busy_events_, spans);
    }
  }

  static void append(Spans& to, const Spans& from) {
    to.insert(to.end(), from.begin(), from.end());
  }

  using Groups = std::map<std::string, std::pair<const EventData*, std::vector<const EventData*>>>;

  // Groups an event by UID into (master, overrides); events without UID stand alone.
  static void group(const EventData& e, Groups& by_uid, std::vector<const EventData*>& loose) {
    if (e.uid.empty()) {
      if (!e.has_recurrence_id) loose.push_back(&e);
      return;
    }
    auto& entry = by_uid[e.uid];
    if (e.has_recurrence_id) {
      entry.second.push_back(&e);
    } else if (entry.first == nullptr) {
      entry.first = &e;
    } else {
      loose.push_back(&e);  // a second master with the same UID: keep it as its own event
    }
  }

  // ---- VFREEBUSY and VAVAILABILITY -----------------------------------------------------------
  void process_freebusy(icalcomponent* c) {
    for (icalproperty* p : properties(c, ICAL_FREEBUSY_PROPERTY)) {
      const icalperiodtype period = icalproperty_get_freebusy(p);
      auto w = read_time(p, period.start);
      if (!w) continue;
      const UtcSeconds from = w->zone->to_utc(w->local);
      UtcSeconds to = from;
      if (!icaltime_is_null_time(period.end)) {
        if (auto e = read_time(p, period.end)) to = e->zone->to_utc(e->local);
      } else {
        to = from + icaldurationtype_as_int(period.duration);
      }
      icalparameter* fb = icalproperty_get_first_parameter(p, ICAL_FBTYPE_PARAMETER);
      const icalparameter_fbtype type =
          fb != nullptr ? icalparameter_get_fbtype(fb) : ICAL_FBTYPE_BUSY;
      if (type == ICAL_FBTYPE_BUSYUNAVAILABLE) {
        explicit_off_.push_back({from, to});
      } else if (type == ICAL_FBTYPE_BUSY || type == ICAL_FBTYPE_BUSYTENTATIVE) {
        // Busy time published as free/busy means what an opaque event means.
        (request_.kind == CalendarKind::work ? working_events_ : busy_events_)
            .push_back({from, to});
      }
    }
  }

  struct Availability {
    int strength = 0;  // PRIORITY 1 is the strongest, 0 (undefined) the weakest
    std::size_t order = 0;
    Span range;
    icalproperty_busytype busytype = ICAL_BUSYTYPE_BUSYUNAVAILABLE;
    Spans available;
  };

  void process_availability(icalcomponent* c) {
    Availability a;
    a.order = availabilities_.size();
    a.range = {request_.window_from - kSecondsPerDay, request_.window_to + kSecondsPerDay};
    const EventData self = convert(c);
    if (self.has_start) {
      if (auto w = read_time(self.start)) {
        a.range.from = w->zone->to_utc(w->local);
        EventShape shape;
        shape.start_local = w->local;
        shape.zone = w->zone;
        if ((self.has_end || self.has_duration) && read_end(self, *w, shape)) {
          a.range.to =
              shape.zone->to_utc(shape.start_local + shape.nominal_seconds) + shape.exact_seconds;
        }
      }
    }
    if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_BUSYTYPE_PROPERTY)) {
      a.busytype = icalproperty_get_busytype(p);
    }
    if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_PRIORITY_PROPERTY)) {
      const int prio = icalproperty_get_priority(p);
      a.strength = prio >= 1 && prio <= 9 ? 10 - prio : 0;
    }
    std::vector<EventData> slots;
    for (icalcomponent* s : children(c, ICAL_XAVAILABLE_COMPONENT)) slots.push_back(convert(s));
    Groups by_uid;
    std::vector<const EventData*> loose;
    for (const EventData& e : slots) group(e, by_uid, loose);
    Spans avail;
    auto add = [&](const EventData* master, const std::vector<const EventData*>& overrides) {
      static const std::set<UtcSeconds> kNone;
      if (master != nullptr && !master->cancelled) {
        append(avail, occurrences(*master, replaced_by(overrides)));
      }
      for (const EventData* o : overrides) {
        if (!o->cancelled) append(avail, occurrences(*o, kNone));
      }
    };
    for (auto& [uid, entry] : by_uid) add(entry.first, entry.second);
    for (const EventData* e : loose) add(e, {});
    a.available = intersect(normalized(std::move(avail)), Spans{a.range});
    availabilities_.push_back(std::move(a));
  }

  // ---- calendar walk -------------------------------------------------------------------------
  void process_calendar(icalcomponent* calendar) {
    collect_parse_errors(calendar);
    for (icalcomponent* c : children(calendar, ICAL_VEVENT_COMPONENT)) {
      events_.push_back(convert(c));
    }
    for (icalcomponent* c : children(calendar, ICAL_VFREEBUSY_COMPONENT)) {
      process_freebusy(c);
    }
    for (icalcomponent* c : children(calendar, ICAL_VAVAILABILITY_COMPONENT)) {
      process_availability(c);
    }
  }

  // All VEVENTs, from libical and from the text reader together: a series and its changed
  // occurrences may have come through different readers.
  void process_events() {
    Groups by_uid;
    std::vector<const EventData*> loose;
    for (const EventData& e : events_) group(e, by_uid, loose);
    for (auto& [uid, entry] : by_uid) process_event(entry.first, entry.second);
    for (const EventData* e : loose) process_event(e, {});
  }

  // libical marks what it could not read with X-LIC-ERROR properties; an unreadable RRULE is
  // removed, which silently turns a series into a single occurrence — say so.
  void collect_parse_errors(icalcomponent* c) {
    for (icalproperty* p : properties(c, ICAL_XLICERROR_PROPERTY)) {
      const char* text = icalproperty_get_xlicerror(p);
      const std::string t = text != nullptr ? text : "";
      if (t.find("RRULE") != std::string::npos) {
        warn("the repeat rule (RRULE) of " + describe(c) +
             " was invalid; the event was read as a single occurrence");
      } else {
        warn("a line the calendar could not read was skipped (" + t.substr(0, 80) + ")");
      }
    }
    for (icalcomponent* s : children(c, ICAL_ANY_COMPONENT)) {
      collect_parse_errors(s);
    }
  }

  // ---- weekly hours and the final timeline ---------------------------------------------------
  Spans hours_spans() const {
    Spans out;
    if (hours_.empty()) return out;
    const std::int64_t first = floor_days(user_zone_->to_local(request_.window_from)) - 1;
    const std::int64_t last = floor_days(user_zone_->to_local(request_.window_to)) + 1;
    for (std::int64_t day = first; day <= last; ++day) {
      const int wd = weekday_from_days(day);
      for (const auto& r : hours_.ranges) {
        if (r.weekday != wd) continue;
        const LocalSeconds base = day * kSecondsPerDay;
        out.push_back({user_zone_->to_utc(base + r.start_minute * 60),
                       user_zone_->to_utc(base + r.end_minute * 60)});
      }
    }
    return normalized(std::move(out));
  }

  Result<Schedule> assemble() {
    const UtcSeconds from = request_.window_from, to = request_.window_to;
    const Spans window{{from, to}};
    Spans away = clip(std::move(away_), from, to);
    Spans off = clip(std::move(explicit_off_), from, to);
    Spans busy;
    Spans hours = clip(hours_spans(), from, to);

    // Availability painted weakest first, so stronger ones overwrite (RFC 7953 PRIORITY).
    std::stable_sort(
        availabilities_.begin(), availabilities_.end(),
        [](const Availability& a, const Availability& b) { return a.strength < b.strength; });
    Spans covered, avail_working, avail_off, avail_busy;
    for (const Availability& a : availabilities_) {
      const Spans range = clip(Spans{a.range}, from, to);
      const Spans avail = clip(a.available, from, to);
      const Spans rest = subtract(range, avail);
      avail_working = unite(subtract(avail_working, range), avail);
      avail_off = subtract(avail_off, range);
      avail_busy = subtract(avail_busy, range);
      if (a.busytype == ICAL_BUSYTYPE_BUSY || a.busytype == ICAL_BUSYTYPE_BUSYTENTATIVE) {
        avail_busy = unite(avail_busy, rest);
      } else {
        avail_off = unite(avail_off, rest);
      }
      covered = unite(covered, range);
    }
    off = unite(off, avail_off);

    Spans working;
    if (request_.kind == CalendarKind::work) {
      working = unite(hours, clip(std::move(working_events_), from, to));
      busy = avail_busy;
    } else {
      working = unite(avail_working, subtract(hours, covered));
      const Spans events = clip(std::move(busy_events_), from, to);
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
    if (!has_working && request_.unknown_fill) {
      for (const Span& s : subtract(window, blocked))
        labeled.push_back({s, *request_.unknown_fill});
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
    if (warnings_.size() > kMaxWarnings) {
      const std::size_t more = warnings_.size() - kMaxWarnings;
      warnings_.resize(kMaxWarnings);
      warnings_.push_back("… and " + std::to_string(more) + " more problems");
    }
    return Schedule(user_zone_->name(), from, to, std::move(changes), has_working,
                    std::move(warnings_));
  }

  void warn(std::string text) {
    if (warned_.insert(text).second) warnings_.push_back(std::move(text));
  }

  const CompileRequest& request_;
  std::shared_ptr<const Zone> user_zone_;
  std::shared_ptr<const Zone> floating_zone_;
  std::vector<icalcomponent*> calendars_;  // parsed, alive while events are processed
  std::deque<EventData> events_;
  WeeklyHours hours_;
  std::map<std::string, std::shared_ptr<const Zone>> tzids_;
  std::size_t occurrences_left_ = request_.limits.max_occurrences;
  std::size_t steps_left_ = request_.limits.max_total_steps;
  Spans away_, explicit_off_, working_events_, busy_events_;
  std::vector<Availability> availabilities_;
  std::vector<std::string> warnings_;
  std::set<std::string> warned_;
};

}  // namespace

Result<Schedule> compile(const CompileRequest& request) {
  static std::once_flag once;
  std::call_once(once, [] { icalerror_set_errors_are_fatal(0); });
  if (request.window_to <= request.window_from) return Error{"the time window to compile is empty"};
  std::shared_ptr<const Zone> user_zone =
      request.zone.empty() ? Zone::utc() : find_zone(request.zone);
  if (!user_zone) return Error{"unknown time zone '" + request.zone.substr(0, 64) + "'"};
  Prescan scan;
  if (!request.calendar.empty()) {
    auto checked =
        prescan(request.calendar, request.limits, request.window_from, request.window_to);
    if (!checked) return Error{checked.error()};
    scan = std::move(checked).value();  // no copy of the rewritten text and its events
  }
  return Compiler(request, std::move(user_zone)).run(scan);
}

}  // namespace concierge::ical
