// SPDX-License-Identifier: MIT
// Router: the chat commands (and, through adhoc.cpp, the forms) with which users set what
// profile.cpp merges — enrol, unenrol, settings, timezone, calendar, upload (or a pasted .ics),
// hours, kind, through, urgent, subscribers.
#include <component/core/router.hpp>
#include <component/core/text.hpp>
#include <component/core/texts.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::core {
namespace {

std::string_view first_word(std::string_view command) {
  return command.substr(0, command.find_first_of(" \t\r\n"));
}

std::string rest_of(std::string_view command) {
  const auto space = command.find_first_of(" \t\r\n");
  return space == std::string_view::npos ? std::string() : trim(command.substr(space + 1));
}

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

}  // namespace

std::optional<std::string> Router::profile_command(const std::string& user,
                                                   std::string_view command, Instant now,
                                                   Outbox& out) {
  // An .ics pasted as a chat message is an upload.
  const bool pasted = command.starts_with("BEGIN:VCALENDAR");
  const std::string word = pasted ? std::string("upload") : lower(first_word(command));
  static const std::set<std::string> kWords = {"enrol",   "enroll", "unenrol",  "unenroll",
                                               "timezone", "calendar", "upload", "hours",
                                               "kind",    "through", "urgent", "subscribers",
                                               "settings"};
  if (!kWords.count(word)) return std::nullopt;
  const std::string arg = pasted ? std::string(command) : rest_of(command);
  const bool by_config = directory_.by_config(user);
  const bool form = asking_.form;
  if (word == "enrol" || word == "enroll") {
    if (by_config) return std::string("You are enrolled by your admin.");
    const std::string zone = arg.substr(0, arg.find(' '));
    const std::string url = arg.find(' ') == std::string::npos ? "" : trim(arg.substr(arg.find(' ') + 1));
    if (!ical::is_valid_zone(zone)) {
      return refused_input(zone.empty() ? "Say \"enrol Europe/Berlin\" (your time zone), optionally "
                                          "followed by the https URL of your calendar."
                                        : "Unknown time zone \"" + zone.substr(0, 64) +
                                              "\": use an IANA name such as Europe/Berlin.");
    }
    if (auto problem = check_calendar_url(url, settings_.allow_private_urls)) {
      return refused_input(*problem);
    }
    const bool again = directory_.enrolment(user) != nullptr;
    enrol(user, zone, url.empty() ? std::nullopt : std::optional<std::string>(url), now, out);
    std::string text = texts::enrolled(
        again, zone,
        xmpp::proxy_jid(*xmpp::Jid::parse(user), settings_.component_domain)->bare_string(), form);
    // One answer per change: a calendar being read says so here, and later only if it fails.
    if (directory_.calendar_pending(user)) text += " " + texts::reading_calendar(true);
    return text;
  }
  if (!enrolled(user)) return texts::not_enrolled(form);
  auto refused_by_admin = [&](const std::string& key) -> std::optional<std::string> {
    if (directory_.admin_set(user, key)) return "Your " + key + " is set by your admin.";
    return std::nullopt;
  };
  if (word == "unenrol" || word == "unenroll") {
    if (by_config) return std::string("You are enrolled by your admin: ask them to remove you.");
    unenrol(user, out);
    return texts::unenrolled();
  }
  if (word == "settings") {
    auto s = schedule_source(user);
    std::string text = "Your settings:\n  time zone: " + s->zone +
                       "\n  calendar: " +
                       (s->pending ? std::string("a new one is being read")
                        : directory_.admin_set(user, "calendar") ? std::string("set by your admin")
                        : !s->upload.empty() ? std::string("uploaded")
                        : !s->url.empty()    ? url_for_display(s->url)
                        : !s->path.empty()   ? std::string("a file of your admin's")
                                             : std::string("none")) +
                       "\n  hours: " + (s->hours.empty() ? "none" : s->hours) +
                       "\n  kind: " + (s->personal ? "personal" : "work") +
                       "\n  always through: " + (always_through(user).empty() ? "nobody" : join(always_through(user))) +
                       "\n  urgent from: " +
                       (urgent_from_anyone(user) ? "anyone" : "your always-through list") +
                       "\n  proxy subscribers: " +
                       texts::subscribers_meaning(
                           directory_.own_value(user, "subscribers") ? *directory_.own_value(user, "subscribers") : "",
                           xmpp::Jid::parse(user)->domain(), settings_.served_domains);
    // What senders learn, a pause, the blocklist (issue 15 point 10).
    text += "\n  privacy: " + texts::privacy_meaning(directory_.senders().chosen_privacy(user));
    const std::optional<Instant> pause = availability_.pause_end(user, now);
    now_hint_ = now;
    text += "\n  pause: " + (pause ? "until " + when_text(*pause, user, user)
                                 : std::string("none"));
    const std::vector<std::string> blocks = directory_.senders().blocked_by(user);
    text += "\n  blocked: " + (blocks.empty() ? std::string("nobody") : texts::names(blocks));
    return text;
  }
  if (word == "timezone") {
    if (auto r = refused_by_admin("timezone")) return r;
    if (!ical::is_valid_zone(arg)) {
      return refused_input(arg.empty() ? std::string("Say \"timezone Europe/Berlin\".")
                                       : "Unknown time zone \"" + arg.substr(0, 64) +
                                             "\": use an IANA name such as Europe/Berlin.");
    }
    directory_.set_zone(user, arg);
    recompile(user, out);
    return "Time zone set to " + arg + ".";
  }
  if (word == "calendar" || word == "upload") {
    if (auto r = refused_by_admin("calendar")) return r;
    if (word == "calendar" && (arg == "none" || arg.empty())) {
      if (arg.empty()) {
        return refused_input("Say \"calendar https://…/work.ics\" (your calendar's address), "
                             "\"calendar none\", or paste the .ics text as a message.");
      }
      directory_.remove_calendar(user);
      recompile(user, out);
      return std::string("Your calendar is removed.");
    }
    PendingCalendar p;
    if (word == "calendar") {
      if (auto problem = check_calendar_url(arg, settings_.allow_private_urls)) {
        return refused_input(*problem);
      }
      p.url = arg;
    } else {
      if (arg.find("BEGIN:VCALENDAR") == std::string::npos) {
        return refused_input("Paste the text of your .ics file (it starts with BEGIN:VCALENDAR).");
      }
      p.upload = arg;
    }
    directory_.give_calendar(user, std::move(p));
    recompile(user, out);
    return texts::reading_calendar(word == "calendar");
  }
  if (word == "hours") {
    if (auto r = refused_by_admin("hours")) return r;
    const std::string hours = arg == "none" ? std::string() : arg;
    if (arg.empty()) {
      return refused_input("Say e.g. \"hours Mon-Fri 09:00-17:00\", or \"hours none\".");
    }
    if (!hours.empty()) {
      auto parsed = ical::parse_hours(hours);
      if (!parsed.ok()) return refused_input("Those hours cannot be read: " + parsed.error());
    }
    directory_.set_own(user, "hours", hours);
    recompile(user, out);
    return hours.empty() ? std::string("Your weekly hours are removed.")
                         : "Your weekly hours are " + hours + ".";
  }
  if (word == "kind") {
    if (auto r = refused_by_admin("calendar_kind")) return r;
    const std::string kind = lower(arg);
    if (kind != "work" && kind != "personal") {
      return refused_input("Say \"kind work\" (your calendar lists working time) or \"kind "
                           "personal\" (it lists appointments; hours give working time).");
    }
    directory_.set_own(user, "calendar_kind", kind);
    recompile(user, out);
    return "Your calendar now counts as a " + kind + " calendar.";
  }
  if (word == "through") {
    if (auto r = refused_by_admin("always_through")) return r;
    if (arg.empty()) {
      const auto list = always_through(user);
      return list.empty() ? std::string("Nobody is on your always-through list. Say \"through "
                                        "a@example.org, b@example.org\" to set it.")
                          : "Always through: " + join(list) + ".";
    }
    std::string bad;
    auto list = lower(arg) == "none" ? std::optional<std::set<std::string>>(std::set<std::string>{})
                                     : parse_jid_list(arg, bad);
    if (!list) {
      auto own = xmpp::Jid::parse(user);
      auto guess = own && bad.find('@') == std::string::npos
                       ? xmpp::Jid::parse(bad + "@" + own->domain())
                       : std::nullopt;
      return refused_input(texts::not_an_address(
          bad, guess && guess->has_local() && !guess->has_resource() ? guess->bare_string() : ""));
    }
    directory_.set_own(user, "always_through", join(*list));
    return list->empty() ? std::string("Your always-through list is empty.")
                         : "Always through: " + join(*list) + ".";
  }
  if (word == "urgent") {
    if (auto r = refused_by_admin("urgent_from")) return r;
    const std::string who = lower(arg);
    if (who != "always_through" && who != "anyone") {
      return refused_input("Say \"urgent always_through\" (only your always-through list may send "
                           "urgent) or \"urgent anyone\".");
    }
    directory_.set_own(user, "urgent_from", who);
    return who == "anyone" ? std::string("Anyone may now send you urgent messages (at most ") +
                                 std::to_string(settings_.urgent_max_per_hour) + " an hour each)."
                           : std::string("Only your always-through list may send you urgent messages.");
  }
  // subscribers domain|served|nobody|<jids>
  std::string policy = lower(arg);
  if (policy != "domain" && policy != "served" && policy != "nobody") {
    std::string bad;
    auto list = parse_jid_list(arg, bad);
    if (arg.empty() || !list || list->empty()) {
      return refused_input(texts::subscribers_choices(form));
    }
    policy = join(*list);
  }
  directory_.set_own(user, "subscribers", policy == "domain" ? std::string() : policy);
  // Whoever may no longer see it is unsubscribed.
  std::size_t dropped = 0;
  if (auto subs = proxy_subscribers_.find(user); subs != proxy_subscribers_.end()) {
    auto proxy = xmpp::proxy_jid(*xmpp::Jid::parse(user), settings_.component_domain);
    for (const auto& subscriber : std::set<std::string>(subs->second)) {
      if (may_subscribe(user, subscriber)) continue;
      for (const char* type : {"unavailable", "unsubscribed"}) {
        xmpp::Element p("presence");
        p.set_attr("from", proxy->bare_string());
        p.set_attr("to", subscriber);
        p.set_attr("type", type);
        out.send(std::move(p));
      }
      subs->second.erase(subscriber);
      store_.remove_proxy_subscription({user, subscriber});
      ++dropped;
    }
    if (subs->second.empty()) proxy_subscribers_.erase(subs);
    wake_dirty_ = true;
  }
  return texts::subscribers_set(
      texts::subscribers_meaning(policy, xmpp::Jid::parse(user)->domain(), settings_.served_domains),
      dropped);
}

}  // namespace concierge::core
