// SPDX-License-Identifier: MIT
// Reading libical's tree into the plain values of event.hpp (see libical_tree.hpp).
#include <ical/libical_tree.hpp>

#include <cctype>
#include <cstdint>

namespace concierge::ical {
namespace {

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

DurationValue to_duration(const icaldurationtype& d) {
  DurationValue v;
  v.negative = d.is_neg != 0;
  v.nominal_days = static_cast<std::int64_t>(d.weeks) * 7 + d.days;
  v.exact_seconds = static_cast<std::int64_t>(d.hours) * 3600 + d.minutes * 60 + d.seconds;
  return v;
}

}  // namespace

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

std::optional<TimeValue> to_value(icalproperty* prop, const icaltimetype& t) {
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

// The libical path: what libical read, as the plain values the text reader gives.
EventData read_component(icalcomponent* c) {
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

std::string describe_event(std::string_view summary) {
  std::string name = trim(summary);
  if (name.empty()) return "an event";
  if (name.size() > 40) name = name.substr(0, 40) + "…";
  return "'" + name + "'";
}

std::string describe_event(icalcomponent* c) {
  const char* s = icalcomponent_get_summary(c);
  return describe_event(s != nullptr ? std::string_view(s) : std::string_view());
}

}  // namespace concierge::ical
