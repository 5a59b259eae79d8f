// SPDX-License-Identifier: MIT
// The calendar compiler (DESIGN §5). The pre-scan (prescan.cpp) screens the text and hands plain
// VEVENTs to the fast text reader (event_text.cpp); libical parses the rest and libical_tree.cpp
// turns its tree into the same plain values. This file decides what the parts mean — time zones,
// series and their changed occurrences, free/busy, availability — and compensates what libical
// 3.0.16 gets wrong (see recurrence.cpp, zone.cpp and the notes below); timeline.cpp turns the
// resulting span sets into the Schedule.
#include <ical/compile.hpp>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <libical/ical.h>

#include <ical/event.hpp>
#include <ical/libical_tree.hpp>
#include <ical/prescan.hpp>
#include <ical/recurrence.hpp>
#include <ical/spans.hpp>
#include <ical/time_reader.hpp>
#include <ical/timeline.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::ical {
namespace {

class Compiler {
 public:
  Compiler(const CompileRequest& request, std::shared_ptr<const Zone> user_zone)
      : request_(request),
        user_zone_(std::move(user_zone)),
        time_(user_zone_, request.window_from, request.window_to, warnings_) {}

  Result<Schedule> run(Prescan& scan) {
    auto hours = parse_hours(request_.hours);
    if (!hours) return Error{hours.error()};
    hours_ = std::move(hours.value());
    if (!scan.x_wr_timezone.empty()) {
      if (auto z = find_zone(scan.x_wr_timezone)) {
        time_.set_floating_zone(z);
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
      time_.set_calendars(calendars_);
      for (icalcomponent* c : calendars_) process_calendar(c);
      events_.insert(events_.end(), std::make_move_iterator(scan.events.begin()),
                     std::make_move_iterator(scan.events.end()));
      process_events();
      time_.set_calendars({});
      calendars_.clear();
    }
    return assemble();
  }

 private:
  // ---- events --------------------------------------------------------------------------------

  // The occurrences of one event (its RRULE/RDATE/EXDATE), minus the instants listed in
  // `replaced` (RECURRENCE-IDs of overrides, as UTC), over the window.
  Spans occurrences(const EventData& e, const std::set<UtcSeconds>& replaced) {
    if (!e.has_start) return {};
    const auto start = time_.read(e.start);
    if (!start) return {};
    EventShape shape;
    shape.start_local = start->local;
    shape.is_date = start->is_date;
    shape.zone = start->zone;
    if (!time_.read_end(e, *start, shape)) return {};

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
        warn("the repeat rule (RRULE) of " + describe_event(e.summary) +
             " was invalid; the event was read as a single occurrence");
      } else {
        rules.push_back(r);
      }
    }
    for (const auto& r : rules) in.rules.push_back(&r);
    for (const EventData::Extra& x : e.rdates) {
      auto w = time_.read(x.start);
      if (!w) continue;
      const UtcSeconds from = w->zone->to_utc(w->local);
      if (x.has_end) {
        // RDATE;VALUE=PERIOD — libical's iterator ignores these; each is its own span.
        auto end = time_.read(x.end);
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
      auto w = time_.read(t);
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
      warn("the repeat rule of " + describe_event(e.summary) + " " + problem);
    }
    if (out.spans.size() > occurrences_left_) {
      warn("the calendar has too many occurrences; only the first " +
           std::to_string(request_.limits.max_occurrences) + " were used");
      out.spans.resize(occurrences_left_);
    }
    occurrences_left_ -= out.spans.size();
    return out.spans;
  }

  std::set<UtcSeconds> replaced_by(const std::vector<const EventData*>& overrides) {
    std::set<UtcSeconds> replaced;
    for (const EventData* o : overrides) {
      if (auto w = time_.read(o->recurrence_id)) replaced.insert(w->zone->to_utc(w->local));
    }
    return replaced;
  }

  void process_event(const EventData* master, const std::vector<const EventData*>& overrides) {
    for (const EventData* o : overrides) {
      if (o->this_and_future) {
        warn("a change to " + describe_event(o->summary) +
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
      append(parts_.away, spans);
      return;
    }
    if (e.transparent) return;
    if (request_.kind == CalendarKind::work) {
      if (!e.start.is_date) append(parts_.working_events, spans);  // all-day counts only as OOF
    } else {
      append(parts_.busy_events, spans);
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
      auto w = time_.read(p, period.start);
      if (!w) continue;
      const UtcSeconds from = w->zone->to_utc(w->local);
      UtcSeconds to = from;
      if (!icaltime_is_null_time(period.end)) {
        if (auto e = time_.read(p, period.end)) to = e->zone->to_utc(e->local);
      } else {
        to = from + icaldurationtype_as_int(period.duration);
      }
      icalparameter* fb = icalproperty_get_first_parameter(p, ICAL_FBTYPE_PARAMETER);
      const icalparameter_fbtype type =
          fb != nullptr ? icalparameter_get_fbtype(fb) : ICAL_FBTYPE_BUSY;
      if (type == ICAL_FBTYPE_BUSYUNAVAILABLE) {
        parts_.explicit_off.push_back({from, to});
      } else if (type == ICAL_FBTYPE_BUSY || type == ICAL_FBTYPE_BUSYTENTATIVE) {
        // Busy time published as free/busy means what an opaque event means.
        (request_.kind == CalendarKind::work ? parts_.working_events : parts_.busy_events)
            .push_back({from, to});
      }
    }
  }

  void process_availability(icalcomponent* c) {
    AvailabilityLayer a;
    a.order = parts_.availabilities.size();
    a.range = {request_.window_from - kSecondsPerDay, request_.window_to + kSecondsPerDay};
    const EventData self = read_component(c);
    if (self.has_start) {
      if (auto w = time_.read(self.start)) {
        a.range.from = w->zone->to_utc(w->local);
        EventShape shape;
        shape.start_local = w->local;
        shape.zone = w->zone;
        if ((self.has_end || self.has_duration) && time_.read_end(self, *w, shape)) {
          a.range.to =
              shape.zone->to_utc(shape.start_local + shape.nominal_seconds) + shape.exact_seconds;
        }
      }
    }
    if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_BUSYTYPE_PROPERTY)) {
      const icalproperty_busytype busytype = icalproperty_get_busytype(p);
      a.busy_outside = busytype == ICAL_BUSYTYPE_BUSY || busytype == ICAL_BUSYTYPE_BUSYTENTATIVE;
    }
    if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_PRIORITY_PROPERTY)) {
      const int prio = icalproperty_get_priority(p);
      a.strength = prio >= 1 && prio <= 9 ? 10 - prio : 0;
    }
    std::vector<EventData> slots;
    for (icalcomponent* s : children(c, ICAL_XAVAILABLE_COMPONENT))
      slots.push_back(read_component(s));
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
    parts_.availabilities.push_back(std::move(a));
  }

  // ---- calendar walk -------------------------------------------------------------------------
  void process_calendar(icalcomponent* calendar) {
    collect_parse_errors(calendar);
    for (icalcomponent* c : children(calendar, ICAL_VEVENT_COMPONENT)) {
      events_.push_back(read_component(c));
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
        warn("the repeat rule (RRULE) of " + describe_event(c) +
             " was invalid; the event was read as a single occurrence");
      } else {
        warn("a line the calendar could not read was skipped (" + t.substr(0, 80) + ")");
      }
    }
    for (icalcomponent* s : children(c, ICAL_ANY_COMPONENT)) {
      collect_parse_errors(s);
    }
  }

  // ---- the final timeline --------------------------------------------------------------------
  Result<Schedule> assemble() {
    parts_.hours =
        weekly_hours_spans(hours_, *user_zone_, request_.window_from, request_.window_to);
    return assemble_schedule(std::move(parts_), request_, user_zone_->name(), warnings_.take());
  }

  void warn(std::string text) { warnings_.add(std::move(text)); }

  const CompileRequest& request_;
  std::shared_ptr<const Zone> user_zone_;
  WarningList warnings_;
  TimeReader time_;                        // reports unknown zones into warnings_
  std::vector<icalcomponent*> calendars_;  // parsed, alive while events are processed
  std::deque<EventData> events_;
  WeeklyHours hours_;
  std::size_t occurrences_left_ = request_.limits.max_occurrences;
  std::size_t steps_left_ = request_.limits.max_total_steps;
  TimelineParts parts_;  // what the events mean, gathered for assemble()
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
