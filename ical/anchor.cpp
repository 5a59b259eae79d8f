// SPDX-License-Identifier: MIT
namespace concierge::ical { int ical_anchor = 0; }
