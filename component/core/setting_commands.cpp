// SPDX-License-Identifier: MIT
// The users' commands that set what their schedule is compiled from and who may reach them
// (DESIGN §4, §5, §7): enrol, unenrol, settings, timezone, calendar, upload (or a pasted .ics),
// hours, kind, through, urgent, subscribers. Entries of the CommandTable: they change the
// Directory through its verbs, ask app/ to compile again (Outbox), and ask the Router
// (CommandActions) to enrol, unenrol and unsubscribe.
#include <component/core/command_table.hpp>
#include <component/core/text.hpp>
#include <component/core/texts.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::core {
namespace {

using Answer = std::optional<std::string>;

// A URL as it may be shown: scheme and host only — no user:password@, path or query (URLs are
// secrets, DESIGN §11).
std::string url_for_display(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(a URL)";
  const auto host_end = std::min(url.size(), url.find_first_of("/?#", scheme_end + 3));
  std::string authority = url.substr(scheme_end + 3, host_end - scheme_end - 3);
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  return url.substr(0, scheme_end + 3) + authority + (host_end == url.size() ? "" : "/…");
}

std::string join(const std::set<std::string>& items) {
  std::string text;
  for (const auto& i : items) text += (text.empty() ? "" : ", ") + i;
  return text;
}

std::string unknown_zone(const std::string& zone) {
  return "Unknown time zone \"" + zone.substr(0, 64) +
         "\": use an IANA name such as Europe/Berlin.";
}

// The setting `key` is pinned by the admin: the answer saying so.
Answer pinned(const CommandRooms& r, const Asked& a, const std::string& key) {
  if (r.directory.admin_set(a.user, key)) return "Your " + key + " is set by your admin.";
  return std::nullopt;
}

Answer enrol(CommandRooms& r, Asked& a) {
  if (r.directory.by_config(a.user)) return std::string("You are enrolled by your admin.");
  const std::string zone = a.arg.substr(0, a.arg.find(' '));
  const std::string url =
      a.arg.find(' ') == std::string::npos ? "" : trim(a.arg.substr(a.arg.find(' ') + 1));
  if (!ical::is_valid_zone(zone)) {
    return a.refuse(zone.empty() ? "Say \"enrol Europe/Berlin\" (your time zone), optionally "
                                   "followed by the https URL of your calendar."
                                 : unknown_zone(zone));
  }
  if (auto problem = check_calendar_url(url, r.settings.allow_private_urls)) {
    return a.refuse(*problem);
  }
  const bool again = r.directory.enrolment(a.user) != nullptr;
  r.router.enrol(a.user, zone, url.empty() ? std::nullopt : std::optional<std::string>(url), a.now,
                 a.out);
  std::string text = texts::enrolled(
      again, zone,
      xmpp::proxy_jid(*xmpp::Jid::parse(a.user), r.settings.component_domain)->bare_string(),
      a.form);
  // One answer per change: a calendar being read says so here, and later only if it fails.
  if (r.directory.pending().contains(a.user)) text += " " + texts::reading_calendar(true);
  return text;
}

Answer unenrol(CommandRooms& r, Asked& a) {
  if (r.directory.by_config(a.user)) {
    return std::string("You are enrolled by your admin: ask them to remove you.");
  }
  r.router.unenrol(a.user, a.out);
  return texts::unenrolled();
}

Answer settings(CommandRooms& r, Asked& a) {
  const Directory& d = r.directory;
  const std::string& user = a.user;
  auto s = d.schedule_source(user);
  const std::string* subscribers = d.own_value(user, "subscribers");
  std::string text =
      "Your settings:\n  time zone: " + s->zone + "\n  calendar: " +
      (s->pending                      ? std::string("a new one is being read")
       : d.admin_set(user, "calendar") ? std::string("set by your admin")
       : !s->upload.empty()            ? std::string("uploaded")
       : !s->url.empty()               ? url_for_display(s->url)
       : !s->path.empty()              ? std::string("a file of your admin's")
                                       : std::string("none")) +
      "\n  hours: " + (s->hours.empty() ? "none" : s->hours) +
      "\n  kind: " + (s->personal ? "personal" : "work") + "\n  always through: " +
      (d.always_through(user).empty() ? "nobody" : join(d.always_through(user))) +
      "\n  urgent from: " + (d.urgent_from_anyone(user) ? "anyone" : "your always-through list") +
      "\n  proxy subscribers: " +
      texts::subscribers_meaning(subscribers ? *subscribers : "", xmpp::Jid::parse(user)->domain(),
                                 r.settings.served_domains);
  // What senders learn, a pause, the blocklist (issue 15 point 10).
  text += "\n  privacy: " + texts::privacy_meaning(d.senders().chosen_privacy(user));
  const std::optional<Instant> pause = r.availability.pause_end(user, a.now);
  text += "\n  pause: " +
          (pause ? "until " + r.router.when(*pause, user, user, a.now) : std::string("none"));
  const std::vector<std::string> blocks = d.senders().blocked_by(user);
  text += "\n  blocked: " + (blocks.empty() ? std::string("nobody") : texts::names(blocks));
  return text;
}

Answer timezone(CommandRooms& r, Asked& a) {
  if (auto no = pinned(r, a, "timezone")) return no;
  if (!ical::is_valid_zone(a.arg)) {
    return a.refuse(a.arg.empty() ? std::string("Say \"timezone Europe/Berlin\".")
                                  : unknown_zone(a.arg));
  }
  r.directory.set_zone(a.user, a.arg);
  ask_to_compile(r.directory, a.user, a.out);
  return "Time zone set to " + a.arg + ".";
}

Answer calendar(CommandRooms& r, Asked& a, bool upload) {
  if (auto no = pinned(r, a, "calendar")) return no;
  PendingCalendar p;
  if (!upload) {
    if (a.arg.empty()) {
      return a.refuse(
          "Say \"calendar https://…/work.ics\" (your calendar's address), "
          "\"calendar none\", or paste the .ics text as a message.");
    }
    if (a.arg == "none") {
      r.directory.remove_calendar(a.user);
      ask_to_compile(r.directory, a.user, a.out);
      return std::string("Your calendar is removed.");
    }
    if (auto problem = check_calendar_url(a.arg, r.settings.allow_private_urls)) {
      return a.refuse(*problem);
    }
    p.url = a.arg;
  } else {
    if (a.arg.find("BEGIN:VCALENDAR") == std::string::npos) {
      return a.refuse("Paste the text of your .ics file (it starts with BEGIN:VCALENDAR).");
    }
    p.upload = a.arg;
  }
  r.directory.pending().give(a.user, std::move(p));
  ask_to_compile(r.directory, a.user, a.out);
  return texts::reading_calendar(!upload);
}

Answer hours(CommandRooms& r, Asked& a) {
  if (auto no = pinned(r, a, "hours")) return no;
  if (a.arg.empty()) return a.refuse("Say e.g. \"hours Mon-Fri 09:00-17:00\", or \"hours none\".");
  const std::string hours = a.arg == "none" ? std::string() : a.arg;
  if (!hours.empty()) {
    auto parsed = ical::parse_hours(hours);
    if (!parsed.ok()) return a.refuse("Those hours cannot be read: " + parsed.error());
  }
  r.directory.set_own(a.user, "hours", hours);
  ask_to_compile(r.directory, a.user, a.out);
  return hours.empty() ? std::string("Your weekly hours are removed.")
                       : "Your weekly hours are " + hours + ".";
}

Answer kind(CommandRooms& r, Asked& a) {
  if (auto no = pinned(r, a, "calendar_kind")) return no;
  const std::string kind = lower(a.arg);
  if (kind != "work" && kind != "personal") {
    return a.refuse(
        "Say \"kind work\" (your calendar lists working time) or \"kind "
        "personal\" (it lists appointments; hours give working time).");
  }
  r.directory.set_own(a.user, "calendar_kind", kind);
  ask_to_compile(r.directory, a.user, a.out);
  return "Your calendar now counts as a " + kind + " calendar.";
}

Answer through(CommandRooms& r, Asked& a) {
  if (auto no = pinned(r, a, "always_through")) return no;
  if (a.arg.empty()) {
    const auto list = r.directory.always_through(a.user);
    return list.empty() ? std::string(
                              "Nobody is on your always-through list. Say \"through "
                              "a@example.org, b@example.org\" to set it.")
                        : "Always through: " + join(list) + ".";
  }
  std::string bad;
  auto list = lower(a.arg) == "none" ? std::optional<std::set<std::string>>(std::set<std::string>{})
                                     : parse_jid_list(a.arg, bad);
  if (!list) {
    auto own = xmpp::Jid::parse(a.user);
    auto guess = own && bad.find('@') == std::string::npos
                     ? xmpp::Jid::parse(bad + "@" + own->domain())
                     : std::nullopt;
    return a.refuse(texts::not_an_address(
        bad, guess && guess->has_local() && !guess->has_resource() ? guess->bare_string() : ""));
  }
  r.directory.set_own(a.user, "always_through", join(*list));
  return list->empty() ? std::string("Your always-through list is empty.")
                       : "Always through: " + join(*list) + ".";
}

Answer urgent(CommandRooms& r, Asked& a) {
  if (auto no = pinned(r, a, "urgent_from")) return no;
  const std::string who = lower(a.arg);
  if (who != "always_through" && who != "anyone") {
    return a.refuse(
        "Say \"urgent always_through\" (only your always-through list may send "
        "urgent) or \"urgent anyone\".");
  }
  r.directory.set_own(a.user, "urgent_from", who);
  return who == "anyone"
             ? std::string("Anyone may now send you urgent messages (at most ") +
                   std::to_string(r.settings.urgent_max_per_hour) + " an hour each)."
             : std::string("Only your always-through list may send you urgent messages.");
}

// subscribers domain|served|nobody|<jids>
Answer subscribers(CommandRooms& r, Asked& a) {
  std::string policy = lower(a.arg);
  if (policy != "domain" && policy != "served" && policy != "nobody") {
    std::string bad;
    auto list = parse_jid_list(a.arg, bad);
    if (a.arg.empty() || !list || list->empty()) {
      return a.refuse(texts::subscribers_choices(a.form));
    }
    policy = join(*list);
  }
  r.directory.set_own(a.user, "subscribers", policy == "domain" ? std::string() : policy);
  // Whoever may no longer see it is unsubscribed.
  const std::size_t dropped = r.router.subscribers_changed(a.user, a.out);
  return texts::subscribers_set(
      texts::subscribers_meaning(policy, xmpp::Jid::parse(a.user)->domain(),
                                 r.settings.served_domains),
      dropped);
}

}  // namespace

std::vector<Command> commands::setting_commands(CommandRooms& r) {
  auto bind = [&r](Answer (*handler)(CommandRooms&, Asked&)) {
    return [&r, handler](Asked& a) { return handler(r, a); };
  };
  const FormField zone{"timezone", "text-single", "Time zone (IANA, e.g. Europe/Berlin)", true};
  return {
      {"settings", "My settings", MayRun::enrolled, Arg::text, {}, bind(settings)},
      {"timezone", "Set my time zone", MayRun::enrolled, Arg::text, {zone}, bind(timezone)},
      {"hours",
       "Set my weekly hours",
       MayRun::enrolled,
       Arg::text,
       {{"hours", "text-single", "e.g. Mon-Fri 09:00-17:00; Sat 10:00-12:00 (none: remove)", true}},
       bind(hours)},
      {"calendar",
       "Set my calendar URL",
       MayRun::enrolled,
       Arg::text,
       {{"url", "text-single", "https URL of your .ics (none: remove it)", true}},
       [&r](Asked& a) { return calendar(r, a, false); }},
      {"upload",
       "Upload my calendar (.ics)",
       MayRun::enrolled,
       Arg::text,
       {{"ics", "text-multi", "Paste the .ics text", true}},
       [&r](Asked& a) { return calendar(r, a, true); }},
      {"kind",
       "What my calendar means",
       MayRun::enrolled,
       Arg::text,
       {{"kind", "list-single", "work: it lists working time; personal: appointments", true,
         "work|personal"}},
       bind(kind)},
      {"through",
       "Who may always reach me (urgent)",
       MayRun::enrolled,
       Arg::text,
       {{"jids", "jid-multi", "Addresses (none: nobody)", true}},
       bind(through)},
      {"urgent",
       "Who may send me urgent messages",
       MayRun::enrolled,
       Arg::text,
       {{"from", "list-single", "Who may send urgent", true, "always_through|anyone"}},
       bind(urgent)},
      {"subscribers",
       "Who may see my status",
       MayRun::enrolled,
       Arg::text,
       {{"who", "text-single", "domain, served, nobody, or addresses", true}},
       bind(subscribers)},
      {"enrol",
       "Enrol with Concierge",
       MayRun::anyone,
       Arg::text,
       {zone, {"calendar_url", "text-single", "Calendar (https URL of an .ics; optional)", false}},
       bind(enrol),
       "enroll"},
      // Confirmed in a second step: it sends everything held back (issue 15 point 16).
      {"unenrol",
       "Unenrol (held messages go back to their senders)",
       MayRun::enrolled,
       Arg::text,
       {{"confirm", "boolean", "Yes, unenrol me", false}},
       bind(unenrol),
       "unenroll"},
  };
}

}  // namespace concierge::core
