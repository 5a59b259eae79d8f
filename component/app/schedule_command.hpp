// SPDX-License-Identifier: MIT
#pragma once
// `concierge schedule FILE.ics [--zone TZ] [--kind work|personal] [--hours PATTERN]
//  [--from YYYY-MM-DD] [--days N] [--at TIMESTAMP]` (DESIGN §12): what a calendar means.
//
// Without --at: a grid of N days (default 7) from --from (default: today in the zone) — one row per
// local day, one cell per 30 minutes: '#' working, '.' off, 'A' away, 'b' busy (coloured when `out`
// is a terminal and NO_COLOR is unset) — then every change with its local and UTC time.
// With --at: exactly one line, "STATUS until NEXT" (NEXT in UTC ISO 8601, or "never").
// --zone defaults to the calendar's X-WR-TIMEZONE, else UTC (never the host's zone). The window is
// compiled around --from/--at, in the calendar worker (limits: 5 s, 2 CPU s, 512 MiB).
// Exit 0; 2 on bad arguments or an unusable calendar, with the reason on `err`; warnings go to
// `err` too.
#include <ostream>

namespace concierge::app {

// argv[0] is "schedule"; the rest are the arguments above.
int run_schedule_command(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace concierge::app
