// SPDX-License-Identifier: MIT
#include <component/app/schedule_command.hpp>

#include <component/app/calendar_file.hpp>

#include <unistd.h>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <component/app/calendar_worker.hpp>
#include <ical/compile.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::app {
namespace {

using ical::UtcSeconds;

constexpr const char* kUsage =
    "usage: concierge schedule FILE.ics [--zone TZ] [--kind work|personal] [--hours PATTERN]\n"
    "                          [--from YYYY-MM-DD] [--days N] [--at TIMESTAMP]\n";

struct Args {
  std::string file;
  std::string zone;
  ical::CalendarKind kind = ical::CalendarKind::work;
  std::string hours;
  std::optional<std::int64_t> from_day;  // days since 1970-01-01, local
  int days = 7;
  std::optional<UtcSeconds> at;
};

// Parses argv into `args`; returns an error message or empty.
std::string parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const bool is_option = arg.rfind("--", 0) == 0;
    if (is_option) {
      if (const auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else if (arg == "--zone" || arg == "--kind" || arg == "--hours" || arg == "--from" ||
                 arg == "--days" || arg == "--at") {
        if (i + 1 >= argc) return arg + " needs a value";
        value = argv[++i];
      }
    }
    if (!is_option) {
      if (!args.file.empty()) return "only one calendar file, please ('" + arg + "')";
      args.file = arg;
    } else if (arg == "--zone") {
      args.zone = value;
    } else if (arg == "--kind") {
      if (value == "work") {
        args.kind = ical::CalendarKind::work;
      } else if (value == "personal") {
        args.kind = ical::CalendarKind::personal;
      } else {
        return "--kind is 'work' or 'personal', not '" + value + "'";
      }
    } else if (arg == "--hours") {
      args.hours = value;
    } else if (arg == "--from") {
      std::int64_t day = 0;
      if (!ical::parse_iso_date(value, day))
        return "--from wants a date like 2026-03-30, not '" + value + "'";
      args.from_day = day;
    } else if (arg == "--days") {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 366)
        return "--days wants a number from 1 to 366";
      args.days = static_cast<int>(n);
    } else if (arg == "--at") {
      UtcSeconds t = 0;
      if (!ical::parse_iso_instant(value, t))
        return "--at wants an ISO 8601 time with a zone, like 2026-03-29T01:30:00Z, not '" + value +
               "'";
      args.at = t;
    } else {
      return "unknown option " + arg;
    }
  }
  if (args.file.empty()) return "which calendar? (a FILE.ics is missing)";
  return {};
}

char cell(ical::Status s) {
  switch (s) {
    case ical::Status::working:
      return '#';
    case ical::Status::away:
      return 'A';
    case ical::Status::busy:
      return 'b';
    case ical::Status::off_hours:
      break;
  }
  return '.';
}

const char* colour(ical::Status s) {
  switch (s) {
    case ical::Status::working:
      return "\033[42;30m";
    case ical::Status::away:
      return "\033[44;37m";
    case ical::Status::busy:
      return "\033[43;30m";
    case ical::Status::off_hours:
      break;
  }
  return "\033[2m";
}

std::string offset_text(std::int32_t offset) {
  char buf[16];
  const int a = offset < 0 ? -offset : offset;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return buf;
}

const char* weekday_name(std::int64_t day) {
  static const char* kNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  return kNames[ical::weekday_from_days(day)];
}

class ScheduleCommand {
 public:
  ScheduleCommand(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  int run(int argc, char** argv) {
    Args args;
    if (std::string e = parse_args(argc, argv, args); !e.empty()) {
      err_ << "concierge schedule: " << e << "\n" << kUsage;
      return 2;
    }
    ical::CompileRequest request;
    std::string error;
    if (!read_calendar_file(args.file, request.limits.max_bytes, request.calendar, error)) {
      err_ << "concierge schedule: " << error << "\n";
      return 2;
    }
    request.zone = !args.zone.empty() ? args.zone : ical::calendar_zone_hint(request.calendar);
    if (request.zone.empty()) request.zone = "UTC";
    zone_ = ical::find_zone(request.zone);
    if (!zone_) {
      err_ << "concierge schedule: unknown time zone '" << request.zone << "'"
           << (args.zone.empty() ? " (from the calendar's X-WR-TIMEZONE; give --zone)" : "")
           << "\n";
      return 2;
    }
    if (auto hours = ical::parse_hours(args.hours); !hours) {
      err_ << "concierge schedule: " << hours.error() << "\n";
      return 2;
    }
    request.kind = args.kind;
    request.hours = args.hours;
    return args.at ? answer_at(request, *args.at) : print_grid(request, args);
  }

 private:
  std::optional<ical::Schedule> compile(ical::CompileRequest& request, UtcSeconds from,
                                        UtcSeconds to) {
    request.window_from = from;
    request.window_to = to;
    auto result = worker_.compile(request);
    if (!result) {
      err_ << "concierge schedule: "
           << "unusable calendar: " << result.error() << "\n";
      return std::nullopt;
    }
    for (const auto& w : result->warnings()) {
      if (warned_.insert(w).second) err_ << "warning: " << w << "\n";
    }
    return result.value();
  }

  int answer_at(ical::CompileRequest& request, UtcSeconds t) {
    // Grow the window before answering "never" (a long vacation, a sparse shift plan).
    for (const int days : {60, 400, 1830}) {
      auto s = compile(request, t - ical::kSecondsPerDay, t + days * ical::kSecondsPerDay);
      if (!s) return 2;
      const auto next = s->next_change_after(t);
      if (next || days == 1830) {
        out_ << ical::to_string(s->status_at(t)) << " until "
             << (next ? ical::format_utc_iso(*next) : std::string("never")) << "\n";
        return 0;
      }
    }
    return 0;
  }

  int print_grid(ical::CompileRequest& request, const Args& args) {
    const std::int64_t first_day =
        args.from_day ? *args.from_day : ical::floor_days(zone_->to_local(std::time(nullptr)));
    const std::int64_t end_day = first_day + args.days;
    const UtcSeconds from = zone_->to_utc(first_day * ical::kSecondsPerDay);
    const UtcSeconds to = zone_->to_utc(end_day * ical::kSecondsPerDay);
    auto s = compile(request, from - ical::kSecondsPerDay, to + ical::kSecondsPerDay);
    if (!s) return 2;
    const bool colours =
        &out_ == &std::cout && ::isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr &&
        (std::getenv("TERM") == nullptr || std::string_view(std::getenv("TERM")) != "dumb");
    out_ << "Schedule in " << zone_->name() << " ("
         << (request.kind == ical::CalendarKind::work ? "work" : "personal") << " calendar"
         << (request.hours.empty() ? "" : ", hours " + request.hours) << ")\n";
    out_ << "  # working   . off   A away   b busy   (one cell = 30 minutes, local time)\n\n";
    out_ << "               0     3     6     9     12    15    18    21\n";
    for (std::int64_t day = first_day; day < end_day; ++day) {
      const ical::CivilDate c = ical::civil_from_days(day);
      char label[32];
      std::snprintf(label, sizeof label, "%s %04d-%02d-%02d ", weekday_name(day), c.year, c.month,
                    c.day);
      out_ << label;
      for (int slot = 0; slot < 48; ++slot) {
        const UtcSeconds t = zone_->to_utc(day * ical::kSecondsPerDay + slot * 1800);
        const ical::Status st = s->status_at(t);
        if (colours) {
          out_ << colour(st) << cell(st) << "\033[0m";
        } else {
          out_ << cell(st);
        }
      }
      out_ << "\n";
    }
    out_ << "\nChanges (local " << zone_->name() << " / UTC):\n";
    for (const auto& change : s->changes_between(from, to)) {
      const ical::LocalSeconds local = zone_->to_local(change.at);
      out_ << "  " << weekday_name(ical::floor_days(local)) << " " << ical::format_local(local)
           << " " << offset_text(zone_->offset_at(change.at)) << "  "
           << ical::format_utc_iso(change.at) << "  " << ical::to_string(change.status) << "\n";
    }
    if (!s->has_working()) {
      err_ << "note: the calendar and hours give no working time at all here; Concierge then "
              "applies schedule.unknown (default: working) to time that is not away, busy or off\n";
    }
    return 0;
  }

  std::ostream& out_;
  std::ostream& err_;
  std::shared_ptr<const ical::Zone> zone_;
  CalendarWorker worker_{CalendarWorkerLimits{512u << 20, 2, std::chrono::milliseconds(5000)}};
  std::set<std::string> warned_;
};

}  // namespace

int run_schedule_command(int argc, char** argv, std::ostream& out, std::ostream& err) {
  return ScheduleCommand(out, err).run(argc, argv);
}

}  // namespace concierge::app
