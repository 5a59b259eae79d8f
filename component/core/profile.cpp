// SPDX-License-Identifier: MIT
// Router: what a user set for themselves (DESIGN §4, §5, §7) — time zone, calendar (an https URL
// or an upload), weekly hours, calendar kind, always-through list, urgent policy, who may
// subscribe to their proxy presence — merged with the config's [users] keys (those win), and
// the chat commands that change them. A new calendar is only *pending* until it compiles: a
// bad one leaves the previous schedule (and its source) in force and the user is told why.
#include <algorithm>

#include <component/core/router.hpp>
#include <component/core/text.hpp>
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

// "a@x, b@y c@z" → bare JIDs, lower-case; nullopt names the first bad one in `bad`.
std::optional<std::set<std::string>> parse_jid_list(std::string_view text, std::string& bad) {
  std::set<std::string> jids;
  std::string item;
  auto take = [&]() -> bool {
    if (item.empty()) return true;
    auto jid = xmpp::Jid::parse(item);
    if (!jid || !jid->has_local() || jid->has_resource()) {
      bad = item.substr(0, 64);
      return false;
    }
    jids.insert(lower(jid->bare_string()));
    item.clear();
    return true;
  };
  for (char c : text) {
    if (c == ',' || c == ' ' || c == ';' || c == '\n' || c == '\r' || c == '\t') {
      if (!take()) return std::nullopt;
    } else {
      item += c;
    }
  }
  if (!take()) return std::nullopt;
  return jids;
}

// A URL as it may be shown: scheme and host only (URLs are secrets, DESIGN §11).
std::string url_for_display(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "(a URL)";
  const auto host_end = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, host_end) + (host_end == std::string::npos ? "" : "/…");
}

std::string join(const std::set<std::string>& items) {
  std::string text;
  for (const auto& i : items) text += (text.empty() ? "" : ", ") + i;
  return text;
}

}  // namespace

void Router::load_own_setting(const UserSetting& setting) {
  if (setting.key == "privacy") {
    privacy_[setting.jid] = setting.value == "exact"  ? Settings::Privacy::exact
                            : setting.value == "none" ? Settings::Privacy::none
                                                      : Settings::Privacy::wait;
  } else if (setting.key.starts_with("block:")) {
    blocked_.insert({setting.jid, setting.key.substr(6)});
  } else {
    own_[setting.jid][setting.key] = setting.value;
  }
}

bool Router::admin_set(const std::string& bare, const std::string& key) const {
  auto user = settings_.users.find(bare);
  return user != settings_.users.end() && user->second.admin_keys.count(key) != 0;
}

const std::string* Router::own_value(const std::string& bare, const std::string& key) const {
  auto user = own_.find(bare);
  if (user == own_.end()) return nullptr;
  auto value = user->second.find(key);
  return value == user->second.end() ? nullptr : &value->second;
}

void Router::set_own(const std::string& bare, const std::string& key, const std::string& value) {
  if (value.empty()) {
    auto user = own_.find(bare);
    if (user != own_.end()) {
      user->second.erase(key);
      if (user->second.empty()) own_.erase(user);
    }
    store_.remove_setting(bare, key);
  } else {
    own_[bare][key] = value;
    store_.put_setting({bare, key, value});
  }
}

std::string Router::zone_of(const std::string& bare) const {
  if (auto user = settings_.users.find(bare); user != settings_.users.end()) {
    if (!user->second.admin_keys.count("timezone")) {
      if (const auto* own = own_value(bare, "timezone")) return *own;
    }
    return user->second.timezone;
  }
  if (auto e = self_enrolled_.find(bare); e != self_enrolled_.end()) return e->second.timezone;
  return {};
}

std::set<std::string> Router::always_through(const std::string& target) const {
  auto user = settings_.users.find(target);
  if (admin_set(target, "always_through")) return user->second.always_through;
  if (const auto* own = own_value(target, "always_through")) {
    std::string bad;
    return parse_jid_list(*own, bad).value_or(std::set<std::string>{});
  }
  return user != settings_.users.end() ? user->second.always_through : std::set<std::string>{};
}

bool Router::urgent_from_anyone(const std::string& target) const {
  auto user = settings_.users.find(target);
  if (admin_set(target, "urgent_from")) return user->second.urgent_from_anyone;
  if (const auto* own = own_value(target, "urgent_from")) return *own == "anyone";
  return user != settings_.users.end() && user->second.urgent_from_anyone;
}

bool Router::may_subscribe(const std::string& target, const std::string& subscriber) const {
  if (subscriber == target) return false;
  auto tj = xmpp::Jid::parse(target);
  auto sj = xmpp::Jid::parse(subscriber);
  if (!tj || !sj) return false;
  const std::string* own = own_value(target, "subscribers");
  const std::string policy = own ? *own : "domain";
  if (policy == "domain") return sj->domain() == tj->domain();
  if (policy == "served") return served(*sj);
  if (policy == "nobody") return false;
  std::string bad;
  auto list = parse_jid_list(policy, bad);
  return list && list->count(subscriber) != 0;
}

std::optional<ScheduleSource> Router::schedule_source(const std::string& bare) const {
  if (!enrolled(bare)) return std::nullopt;
  ScheduleSource s;
  s.zone = zone_of(bare);
  auto user = settings_.users.find(bare);
  const bool config = user != settings_.users.end();
  auto pick = [&](const std::string& key, const std::string& from_config) -> std::string {
    if (admin_set(bare, key)) return from_config;
    if (const auto* own = own_value(bare, key)) return *own;
    return from_config;
  };
  s.hours = pick("hours", config ? user->second.hours : std::string());
  s.personal = admin_set(bare, "calendar_kind") ? user->second.personal
               : own_value(bare, "calendar_kind")
                   ? *own_value(bare, "calendar_kind") == "personal"
                   : config && user->second.personal;
  if (admin_set(bare, "calendar")) {
    const std::string& c = user->second.calendar;
    (c.find("://") != std::string::npos ? s.url : s.path) = c;
  } else if (auto p = pending_calendar_.find(bare); p != pending_calendar_.end()) {
    s.url = p->second.url;
    s.upload = p->second.upload;
    s.pending = true;
  } else if (const auto* upload = own_value(bare, "calendar_upload")) {
    s.upload = *upload;
  } else if (const auto* url = own_value(bare, "calendar_url")) {
    s.url = *url;
  } else if (auto e = self_enrolled_.find(bare); e != self_enrolled_.end()) {
    s.url = e->second.calendar_url;
  } else if (config) {
    const std::string& c = user->second.calendar;
    (c.find("://") != std::string::npos ? s.url : s.path) = c;
  }
  return s;
}

std::vector<std::string> Router::schedule_users() const {
  std::vector<std::string> users;
  auto consider = [&](const std::string& bare) {
    auto s = schedule_source(bare);
    if (s && (!s->hours.empty() || s->has_calendar())) users.push_back(bare);
  };
  for (const auto& bare : settings_.enrolled) consider(bare);
  for (const auto& [bare, e] : self_enrolled_) {
    if (!settings_.enrolled.count(bare)) consider(bare);
  }
  return users;
}

void Router::schedule_compiled(const std::string& bare, const ScheduleSource& used,
                               std::shared_ptr<const ical::Schedule> schedule, Instant now,
                               Outbox& out) {
  if (!enrolled(bare)) return;
  auto pending = pending_calendar_.find(bare);
  if (used.pending && pending != pending_calendar_.end() && pending->second.url == used.url &&
      pending->second.upload == used.upload) {
    // The new calendar is good: it becomes the user's calendar of record.
    set_own(bare, "calendar_upload", used.upload);
    if (auto e = self_enrolled_.find(bare); e != self_enrolled_.end()) {
      e->second.calendar_url = used.url;
      store_.put_enrolment(e->second);
    } else {
      set_own(bare, "calendar_url", used.url);
    }
    pending_calendar_.erase(pending);
  }
  schedule_error_told_.erase(bare);
  set_schedule(bare, std::move(schedule), now, out);
  if (awaiting_schedule_.erase(bare)) {
    now_hint_ = now;
    std::string text = "Concierge: your schedule is in force. ";
    text += status_line(bare, now);
    out.send(component_message(bare, text));
  }
}

void Router::schedule_failed(const std::string& bare, const ScheduleSource& used,
                             const std::string& why, Instant now, Outbox& out) {
  (void)now;
  if (!enrolled(bare)) return;
  auto pending = pending_calendar_.find(bare);
  const bool was_pending = used.pending && pending != pending_calendar_.end() &&
                           pending->second.url == used.url && pending->second.upload == used.upload;
  if (was_pending) pending_calendar_.erase(pending);
  awaiting_schedule_.erase(bare);
  // Once per distinct problem for a calendar already in force (refreshes fail alike); always
  // for a new one the user just gave.
  if (!was_pending && schedule_error_told_[bare] == why) return;
  if (!was_pending) schedule_error_told_[bare] = why;
  out.send(component_message(
      bare, std::string("Concierge: ") +
                (was_pending ? "your new calendar cannot be used: " : "your calendar cannot be used: ") +
                why + ". Your previous schedule stays in force."));
}

xmpp::Element Router::component_message(const std::string& to, const std::string& text) const {
  xmpp::Element m("message");
  m.set_attr("from", settings_.component_domain);
  m.set_attr("to", to);
  m.set_attr("type", "chat");
  m.add_child(xmpp::make_text("body", text));
  return m;
}

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
  const bool by_config = config_user(user);
  if (word == "enrol" || word == "enroll") {
    if (by_config) return std::string("You are enrolled by your admin.");
    const std::string zone = arg.substr(0, arg.find(' '));
    const std::string url = arg.find(' ') == std::string::npos ? "" : trim(arg.substr(arg.find(' ') + 1));
    if (!ical::is_valid_zone(zone)) {
      return zone.empty() ? "Say \"enrol Europe/Berlin\" (your time zone), optionally followed by "
                            "the https URL of your calendar."
                          : "Unknown time zone \"" + zone.substr(0, 64) +
                                "\": use an IANA name such as Europe/Berlin.";
    }
    if (auto problem = check_calendar_url(url, settings_.allow_private_urls)) return *problem;
    const bool again = self_enrolled_.count(user) != 0;
    enrol(user, zone, url, now, out);
    if (!url.empty()) awaiting_schedule_.insert(user);
    return std::string(again ? "Your enrolment is updated" : "You are enrolled") +
           " (time zone " + zone + "). Others now reach you through " +
           xmpp::proxy_jid(*xmpp::Jid::parse(user), settings_.component_domain)->bare_string() +
           "; send \"help\" for your settings.";
  }
  if (!enrolled(user)) {
    return std::string("You are not enrolled with Concierge: send \"enrol Europe/Berlin\" (your "
                       "time zone) first.");
  }
  auto refused_by_admin = [&](const std::string& key) -> std::optional<std::string> {
    if (admin_set(user, key)) return "Your " + key + " is set by your admin.";
    return std::nullopt;
  };
  if (word == "unenrol" || word == "unenroll") {
    if (by_config) return std::string("You are enrolled by your admin (set by your admin): ask them to remove you.");
    unenrol(user, out);
    return std::string("You are unenrolled; messages held for you went back to their senders.");
  }
  if (word == "settings") {
    auto s = schedule_source(user);
    std::string text = "Your settings:\n  time zone: " + s->zone +
                       "\n  calendar: " +
                       (s->pending ? std::string("a new one is being read")
                        : !s->upload.empty() ? std::string("uploaded")
                        : !s->url.empty()    ? url_for_display(s->url)
                        : !s->path.empty()   ? std::string("a file of your admin's")
                                             : std::string("none")) +
                       "\n  hours: " + (s->hours.empty() ? "none" : s->hours) +
                       "\n  kind: " + (s->personal ? "personal" : "work") +
                       "\n  always through: " + (always_through(user).empty() ? "nobody" : join(always_through(user))) +
                       "\n  urgent from: " + (urgent_from_anyone(user) ? "anyone" : "always_through") +
                       "\n  proxy subscribers: " +
                       (own_value(user, "subscribers") ? *own_value(user, "subscribers") : "domain");
    return text;
  }
  if (word == "timezone") {
    if (auto r = refused_by_admin("timezone")) return r;
    if (!ical::is_valid_zone(arg)) {
      return arg.empty() ? std::string("Say \"timezone Europe/Berlin\".")
                         : "Unknown time zone \"" + arg.substr(0, 64) +
                               "\": use an IANA name such as Europe/Berlin.";
    }
    if (auto e = self_enrolled_.find(user); e != self_enrolled_.end()) {
      e->second.timezone = arg;
      store_.put_enrolment(e->second);
    } else {
      set_own(user, "timezone", arg);
    }
    out.schedule_changed.push_back(user);
    awaiting_schedule_.insert(user);
    return "Time zone set to " + arg + ".";
  }
  if (word == "calendar" || word == "upload") {
    if (auto r = refused_by_admin("calendar")) return r;
    if (word == "calendar" && (arg == "none" || arg.empty())) {
      if (arg.empty()) {
        return std::string("Say \"calendar https://…/work.ics\" (your calendar's address), "
                           "\"calendar none\", or paste the .ics text as a message.");
      }
      pending_calendar_.erase(user);
      set_own(user, "calendar_upload", "");
      set_own(user, "calendar_url", "");
      if (auto e = self_enrolled_.find(user); e != self_enrolled_.end()) {
        e->second.calendar_url.clear();
        store_.put_enrolment(e->second);
      }
      out.schedule_changed.push_back(user);
      awaiting_schedule_.insert(user);
      return std::string("Your calendar is removed.");
    }
    PendingCalendar p;
    if (word == "calendar") {
      if (auto problem = check_calendar_url(arg, settings_.allow_private_urls)) return *problem;
      p.url = arg;
    } else {
      if (arg.find("BEGIN:VCALENDAR") == std::string::npos) {
        return std::string("Paste the text of your .ics file (it starts with BEGIN:VCALENDAR).");
      }
      p.upload = arg;
    }
    pending_calendar_[user] = std::move(p);
    out.schedule_changed.push_back(user);
    awaiting_schedule_.insert(user);
    return std::string(word == "calendar" ? "Fetching your calendar" : "Reading your calendar") +
           "; you will hear when it is in force (or why it cannot be used).";
  }
  if (word == "hours") {
    if (auto r = refused_by_admin("hours")) return r;
    const std::string hours = arg == "none" ? std::string() : arg;
    if (arg.empty()) return std::string("Say e.g. \"hours Mon-Fri 09:00-17:00\", or \"hours none\".");
    if (!hours.empty()) {
      auto parsed = ical::parse_hours(hours);
      if (!parsed.ok()) return "Those hours cannot be read: " + parsed.error();
    }
    set_own(user, "hours", hours);
    out.schedule_changed.push_back(user);
    awaiting_schedule_.insert(user);
    return hours.empty() ? std::string("Your weekly hours are removed.")
                         : "Your weekly hours are " + hours + ".";
  }
  if (word == "kind") {
    if (auto r = refused_by_admin("calendar_kind")) return r;
    const std::string kind = lower(arg);
    if (kind != "work" && kind != "personal") {
      return std::string("Say \"kind work\" (your calendar lists working time) or \"kind "
                         "personal\" (it lists appointments; hours give working time).");
    }
    set_own(user, "calendar_kind", kind);
    out.schedule_changed.push_back(user);
    awaiting_schedule_.insert(user);
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
    if (!list) return "\"" + bad + "\" is not an address (user@domain).";
    set_own(user, "always_through", join(*list));
    return list->empty() ? std::string("Your always-through list is empty.")
                         : "Always through: " + join(*list) + ".";
  }
  if (word == "urgent") {
    if (auto r = refused_by_admin("urgent_from")) return r;
    const std::string who = lower(arg);
    if (who != "always_through" && who != "anyone") {
      return std::string("Say \"urgent always_through\" (only your always-through list may send "
                         "urgent) or \"urgent anyone\".");
    }
    set_own(user, "urgent_from", who);
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
      return std::string("Say \"subscribers domain\" (people of your domain may see your "
                         "status), \"subscribers served\" (anyone on this server), \"subscribers "
                         "nobody\", or list who may: \"subscribers a@example.org, b@example.org\".");
    }
    policy = join(*list);
  }
  set_own(user, "subscribers", policy == "domain" ? std::string() : policy);
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
  return "Who may see your status: " + policy + "." +
         (dropped ? " " + std::to_string(dropped) + " subscriber(s) no longer may and were removed." : "");
}

}  // namespace concierge::core
