// SPDX-License-Identifier: MIT
#pragma once
// Internal to ical/: reading libical's parsed tree. Owns the component handle (ComponentPtr) and
// the translation of libical's structs into the plain values of event.hpp — the same values the
// fast text reader gives. It interprets nothing about time (zones, recurrence, the window belong
// to the compiler) and keeps no state.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libical/ical.h>

#include <ical/event.hpp>

namespace concierge::ical {

struct ComponentDeleter {
  void operator()(icalcomponent* c) const noexcept { icalcomponent_free(c); }
};
using ComponentPtr = std::unique_ptr<icalcomponent, ComponentDeleter>;

// libical keeps one iteration cursor per component: any nested get_first_* on the same component
// (icalcomponent_get_summary, …) restarts an outer loop. These collect first; callers then walk.
std::vector<icalproperty*> properties(icalcomponent* c, icalproperty_kind kind);
std::vector<icalcomponent*> children(icalcomponent* c, icalcomponent_kind kind);

// A date or date-time as written; nullopt for a null or out-of-range value. `prop` (may be null)
// carries the TZID parameter.
std::optional<TimeValue> to_value(icalproperty* prop, const icaltimetype& t);

// A VEVENT, AVAILABLE or VAVAILABILITY as the plain values the compiler uses.
EventData read_component(icalcomponent* c);

// How a warning names an event: its quoted, shortened summary, or "an event".
std::string describe_event(std::string_view summary);
std::string describe_event(icalcomponent* c);

}  // namespace concierge::ical
