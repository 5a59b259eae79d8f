// SPDX-License-Identifier: MIT
// Directory: enrolments and users' own settings merged with the config's [users] keys (those
// win). A new calendar is only *pending* until it compiles (pending_calendars.cpp); a good one
// becomes the calendar of record here, a bad one leaves the previous one (and its source) in force.
#include <component/core/directory.hpp>

#include <algorithm>
#include <utility>

#include <component/core/text.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

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

Directory::Directory(const Settings& settings, Store& store)
    : settings_(settings), store_(store), pending_(store), senders_(settings, store) {
  // Row by row from the store (a million users: no vector of them beside the maps).
  store_.each_enrolment([this](Enrolment&& e) {
    auto& slot = users_[e.jid].enrolment;
    if (!slot) ++self_enrolled_;
    slot = std::move(e);
  });
  store_.each_setting([this](UserSetting&& setting) {
    if (pending_.load(setting) || senders_.load(setting)) return;
    users_[std::move(setting.jid)].set(std::move(setting.key), std::move(setting.value));
  });
}

const std::string* Directory::Own::value(std::string_view key) const {
  auto at = std::lower_bound(settings.begin(), settings.end(), key,
                             [](const auto& kv, std::string_view k) { return kv.first < k; });
  return at != settings.end() && at->first == key ? &at->second : nullptr;
}

void Directory::Own::set(std::string key, std::string value) {
  auto at = std::lower_bound(settings.begin(), settings.end(), key,
                             [](const auto& kv, const std::string& k) { return kv.first < k; });
  if (at != settings.end() && at->first == key) {
    at->second = std::move(value);
  } else {
    settings.emplace(at, std::move(key), std::move(value));
  }
}

void Directory::Own::erase(const std::string& key) {
  auto at = std::lower_bound(settings.begin(), settings.end(), key,
                             [](const auto& kv, const std::string& k) { return kv.first < k; });
  if (at != settings.end() && at->first == key) settings.erase(at);
}

const Directory::Own* Directory::own(const std::string& bare) const {
  auto user = users_.find(bare);
  return user == users_.end() ? nullptr : &user->second;
}

Enrolment* Directory::self_enrolment(const std::string& bare) {
  auto user = users_.find(bare);
  return user == users_.end() || !user->second.enrolment ? nullptr : &*user->second.enrolment;
}

const Enrolment* Directory::enrolment(const std::string& bare) const {
  const Own* user = own(bare);
  return user && user->enrolment ? &*user->enrolment : nullptr;
}

std::vector<std::string> Directory::enrolled_users() const {
  std::vector<std::string> users;
  users.reserve(settings_.enrolled.size() + self_enrolled_);
  users.assign(settings_.enrolled.begin(), settings_.enrolled.end());
  for (const auto& [jid, user] : users_) {
    if (user.enrolment) users.push_back(jid);
  }
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  return users;
}

bool Directory::enrol(const std::string& bare, const std::string& timezone,
                      const std::optional<std::string>& url, Instant now) {
  auto& slot = users_[bare].enrolment;
  const bool inserted = !slot;
  if (inserted) {
    slot.emplace();
    ++self_enrolled_;
  }
  Enrolment& e = *slot;
  e.jid = bare;
  e.timezone = timezone;
  if (inserted) e.enrolled_at = now;
  const PendingCalendar* pending = pending_.find(bare);
  const bool url_pending = pending && !pending->url.empty();
  if (url && url->empty()) {
    e.calendar_url.clear();  // the form's URL field emptied: no URL (an upload stays)
    if (url_pending) pending_.drop(bare);
  } else if (url && *url == e.calendar_url) {
    if (url_pending) pending_.drop(bare);  // back to the URL in force
  } else if (url) {
    // A new URL is pending like any other new calendar: it replaces the one in force only
    // once it compiles.
    pending_.give(bare, PendingCalendar{*url, ""});
  }
  store_.put_enrolment(e);
  return inserted;
}

void Directory::unenrol(const std::string& bare) {
  if (auto user = users_.find(bare); user != users_.end()) {
    if (user->second.enrolment) --self_enrolled_;
    users_.erase(user);
  }
  pending_.forget(bare);
  senders_.forget(bare);
  store_.remove_enrolment(bare);
}

bool Directory::admin_set(const std::string& bare, const std::string& key) const {
  auto user = settings_.users.find(bare);
  return user != settings_.users.end() && user->second.admin_keys.count(key) != 0;
}

const std::string* Directory::own_value(const std::string& bare, const std::string& key) const {
  const Own* user = own(bare);
  return user ? user->value(key) : nullptr;
}

void Directory::set_own(const std::string& bare, const std::string& key, const std::string& value) {
  if (value.empty()) {
    if (auto user = users_.find(bare); user != users_.end()) {
      user->second.erase(key);
      if (user->second.settings.empty() && !user->second.enrolment) users_.erase(user);
    }
    store_.remove_setting(bare, key);
  } else {
    users_[bare].set(key, value);
    store_.put_setting({bare, key, value});
  }
}

void Directory::set_zone(const std::string& bare, const std::string& zone) {
  if (Enrolment* e = self_enrolment(bare)) {
    e->timezone = zone;
    store_.put_enrolment(*e);
  } else {
    set_own(bare, "timezone", zone);
  }
}

std::string Directory::zone_of(const std::string& bare) const {
  if (auto user = settings_.users.find(bare); user != settings_.users.end()) {
    if (!user->second.admin_keys.count("timezone")) {
      if (const auto* own = own_value(bare, "timezone")) return *own;
    }
    return user->second.timezone;
  }
  if (const Enrolment* e = enrolment(bare)) return e->timezone;
  return {};
}

std::set<std::string> Directory::always_through(const std::string& target) const {
  auto user = settings_.users.find(target);
  if (admin_set(target, "always_through")) return user->second.always_through;
  if (const auto* own = own_value(target, "always_through")) {
    std::string bad;
    return parse_jid_list(*own, bad).value_or(std::set<std::string>{});
  }
  return user != settings_.users.end() ? user->second.always_through : std::set<std::string>{};
}

bool Directory::urgent_from_anyone(const std::string& target) const {
  auto user = settings_.users.find(target);
  if (admin_set(target, "urgent_from")) return user->second.urgent_from_anyone;
  if (const auto* own = own_value(target, "urgent_from")) return *own == "anyone";
  return user != settings_.users.end() && user->second.urgent_from_anyone;
}

bool Directory::may_subscribe(const std::string& target, const std::string& subscriber) const {
  if (subscriber == target) return false;
  auto tj = xmpp::Jid::parse(target);
  auto sj = xmpp::Jid::parse(subscriber);
  if (!tj || !sj) return false;
  const std::string* own = own_value(target, "subscribers");
  const std::string policy = own ? *own : "domain";
  if (policy == "domain") return sj->domain() == tj->domain();
  if (policy == "served") return settings_.served_domains.count(sj->domain()) != 0;
  if (policy == "nobody") return false;
  std::string bad;
  auto list = parse_jid_list(policy, bad);
  return list && list->count(subscriber) != 0;
}
std::optional<ScheduleSource> Directory::schedule_source(const std::string& bare) const {
  // What zone_of, admin_set and own_value say, with each map looked up once: this runs for
  // every user at startup, a few times each (issue 12).
  const Own* mine = own(bare);
  const Enrolment* self = mine && mine->enrolment ? &*mine->enrolment : nullptr;
  if (!self && !settings_.enrolled.count(bare)) return std::nullopt;
  const auto user_it = settings_.users.find(bare);
  const auto* user = user_it != settings_.users.end() ? &user_it->second : nullptr;
  auto set = [&](const char* key) -> const std::string* {
    return mine ? mine->value(key) : nullptr;
  };
  auto admin = [&](const char* key) { return user && user->admin_keys.count(key) != 0; };
  ScheduleSource s;
  if (user) {
    const std::string* zone = admin("timezone") ? nullptr : set("timezone");
    s.zone = zone ? *zone : user->timezone;
  } else {
    s.zone = self ? self->timezone : std::string();
  }
  const std::string* hours = admin("hours") ? nullptr : set("hours");
  s.hours = hours ? *hours : user ? user->hours : std::string();
  const std::string* kind = set("calendar_kind");
  s.personal = admin("calendar_kind") ? user->personal
               : kind                 ? *kind == "personal"
                                      : user && user->personal;
  auto config_calendar = [&] {
    const std::string& c = user->calendar;
    (c.find("://") != std::string::npos ? s.url : s.path) = c;
  };
  if (admin("calendar")) {
    config_calendar();
  } else if (const PendingCalendar* p = pending_.find(bare)) {
    s.url = p->url;
    s.upload = p->upload;
    s.pending = true;
  } else if (const auto* upload = set("calendar_upload")) {
    s.upload = *upload;
  } else if (const auto* url = set("calendar_url")) {
    s.url = *url;
  } else if (self) {
    s.url = self->calendar_url;
  } else if (user) {
    config_calendar();
  }
  return s;
}

std::vector<std::string> Directory::schedule_users() const {
  std::vector<std::string> users;
  auto consider = [&](const std::string& bare) {
    auto s = schedule_source(bare);
    if (s && (!s->hours.empty() || s->has_calendar())) users.push_back(bare);
  };
  for (const auto& bare : settings_.enrolled) consider(bare);
  for (const auto& [bare, user] : users_) {
    if (user.enrolment && !settings_.enrolled.count(bare)) consider(bare);
  }
  return users;
}

void Directory::remove_calendar(const std::string& bare) {
  pending_.drop(bare);
  set_own(bare, "calendar_upload", "");
  set_own(bare, "calendar_url", "");
  if (Enrolment* e = self_enrolment(bare)) {
    e->calendar_url.clear();
    store_.put_enrolment(*e);
  }
}

bool Directory::compiled(const std::string& bare, const ScheduleSource& used) {
  if (pending_.is_pending(bare, used)) {
    // The new calendar is good: it becomes the user's calendar of record (written before the
    // pending one is dropped).
    set_own(bare, "calendar_upload", used.upload);
    if (Enrolment* e = self_enrolment(bare)) {
      e->calendar_url = used.url;
      store_.put_enrolment(*e);
    } else {
      set_own(bare, "calendar_url", used.url);
    }
  }
  return pending_.compiled(bare, used);
}

}  // namespace concierge::core
