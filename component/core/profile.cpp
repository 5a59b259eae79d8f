// SPDX-License-Identifier: MIT
// Router: what a user set for themselves (DESIGN §4, §5, §7) — time zone, calendar (an https URL
// or an upload), weekly hours, calendar kind, always-through list, urgent policy, who may
// subscribe to their proxy presence — merged with the config's [users] keys (those win). The
// commands that change them are in profile_commands.cpp. A new calendar is only *pending* until
// it compiles: a bad one leaves the previous schedule (and its source) in force and the user is
// told why.
#include <algorithm>

#include <component/core/router.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>
#include <ical/weekly_hours.hpp>
#include <ical/zone.hpp>

namespace concierge::core {
// "a@x, b@y c@z" → bare JIDs, lower-case; nullopt names the first bad one in `bad`.
std::optional<std::set<std::string>> Router::jid_list(std::string_view text, std::string& bad) {
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

void Router::set_pending(const std::string& bare, std::optional<PendingCalendar> pending) {
  // Kept in the store too: a user told "you will hear" hears, even across a restart.
  store_.remove_setting(bare, "pending_url");
  store_.remove_setting(bare, "pending_upload");
  if (!pending) {
    pending_calendar_.erase(bare);
    return;
  }
  if (!pending->url.empty()) store_.put_setting({bare, "pending_url", pending->url});
  if (!pending->upload.empty()) store_.put_setting({bare, "pending_upload", pending->upload});
  pending_calendar_[bare] = std::move(*pending);
}

void Router::load_own_setting(const UserSetting& setting) {
  if (setting.key == "pending_url" || setting.key == "pending_upload") {
    auto& pending = pending_calendar_[setting.jid];
    (setting.key == "pending_url" ? pending.url : pending.upload) = setting.value;
    awaiting_schedule_.insert(setting.jid);
  } else if (setting.key == "privacy") {
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
    return jid_list(*own, bad).value_or(std::set<std::string>{});
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
  auto list = jid_list(policy, bad);
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
  // A result for a source no longer current (the user changed it meanwhile) is not applied:
  // the compile of the current one follows.
  if (schedule_source(bare) != std::optional<ScheduleSource>(used)) return;
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
    set_pending(bare, std::nullopt);
  }
  schedule_error_told_.erase(bare);
  const std::shared_ptr<const ical::Schedule> compiled = schedule;
  set_schedule(bare, std::move(schedule), now, out);
  if (awaiting_schedule_.erase(bare)) {
    // One answer per change (issue 15 point 14): the command that gave the calendar has answered
    // already; a calendar in force as promised adds nothing. What differs from that promise —
    // warnings of the compile, no working time at all — is told here, as one message.
    const std::string notes = compiled ? schedule_notes(*compiled) : std::string();
    if (!notes.empty()) {
      now_hint_ = now;
      out.send(chat_message(settings_.component_domain, bare,
                            "Concierge: your schedule is in force. " + status_line(bare, now) + notes));
    }
  }
}

void Router::schedule_failed(const std::string& bare, const ScheduleSource& used,
                             const std::string& why, Instant now, Outbox& out) {
  (void)now;
  if (schedule_source(bare) != std::optional<ScheduleSource>(used)) return;  // out of date
  auto pending = pending_calendar_.find(bare);
  const bool was_pending = used.pending && pending != pending_calendar_.end() &&
                           pending->second.url == used.url && pending->second.upload == used.upload;
  if (was_pending) {
    set_pending(bare, std::nullopt);
    // The calendar still of record is compiled again (with the settings as they are now): after
    // a restart it may not have been compiled at all yet.
    out.schedule_changed.push_back(bare);
  }
  awaiting_schedule_.erase(bare);
  // Once per distinct problem for a calendar already in force (refreshes fail alike); always
  // for a new one the user just gave.
  if (!was_pending && schedule_error_told_[bare] == why) return;
  if (!was_pending) schedule_error_told_[bare] = why;
  out.send(chat_message(settings_.component_domain, 
      bare, std::string("Concierge: ") +
                (was_pending ? "your new calendar cannot be used: " : "your calendar cannot be used: ") +
                why + ". Your previous schedule stays in force."));
}


void Router::recompile(const std::string& user, Outbox& out) {
  out.schedule_changed.push_back(user);
  // Only a calendar being read has an outcome the command could not tell; a setting's answer
  // is the one answer to its change.
  if (pending_calendar_.count(user)) {
    awaiting_schedule_.insert(user);
  } else {
    awaiting_schedule_.erase(user);
  }
}

}  // namespace concierge::core
