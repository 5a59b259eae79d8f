// SPDX-License-Identifier: MIT
// Router: chat commands to the component's bare JID for users (DESIGN §7): status, pause,
// end, when. (help, held and cancel are answered elsewhere.)
#include <algorithm>
#include <charconv>
#include <map>

#include <component/core/router.hpp>
#include <component/core/text.hpp>
#include <component/core/texts.hpp>
#include <ical/zone.hpp>

namespace concierge::core {
namespace {

// "30m", "1h", "90s", "2d", or a bare number of minutes; nullopt otherwise.
std::optional<Duration> parse_pause(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || value < 0 || value > 100000) return std::nullopt;
  const std::string_view unit = text.substr(static_cast<std::size_t>(end - text.data()));
  if (unit.empty() || unit == "m" || unit == "min") return std::chrono::minutes(value);
  if (unit == "h") return std::chrono::hours(value);
  if (unit == "s") return std::chrono::seconds(value);
  if (unit == "d") return std::chrono::hours(24 * value);
  return std::nullopt;
}

const char* status_word(ical::Status s) {
  switch (s) {
    case ical::Status::working: return "working";
    case ical::Status::away: return "away";
    case ical::Status::busy: return "busy";
    default: return "off";
  }
}

}  // namespace

std::optional<std::string> Router::user_command(const std::string& user, std::string_view command,
                                                Instant now, Outbox& out) {
  const std::string_view word = command.substr(0, command.find(' '));
  const std::string_view arg =
      command.find(' ') == std::string_view::npos ? std::string_view{} : command.substr(command.find(' ') + 1);
  if (word != "status" && word != "pause" && word != "end" && word != "when" &&
      word != "privacy" && word != "block" && word != "unblock" && word != "blocked" &&
      word != "waiting" && command != "held for me") {
    return std::nullopt;
  }
  std::string text;
  now_hint_ = now;
  const bool form = asking_.form;
  if (word == "when") {
    auto jid = xmpp::Jid::parse(arg);
    const std::string who = jid ? jid->bare_string() : std::string(arg);
    const std::optional<Instant> pause = availability_.pause_end(who, now);
    if (!jid || !jid->has_local() || !enrolled(who)) {
      text = texts::does_not_use(who);
    } else if (directory_.senders().blocks(who, user)) {
      text = texts::refuses_you(who);  // as their refusal says: nothing of their schedule
    } else if (directory_.senders().privacy_for(who, user) != Settings::Privacy::exact) {
      text = texts::shares_no_times(who);
    } else if (pause) {
      auto back = next_working(who, now);
      text = texts::paused_then(who, when_text(*pause, user, who),
                                back ? when_text(*back, user, who) : std::string());
    } else if (status_of(who, now) == ical::Status::working && session_idle(who, now) &&
               presence_.reachability(who) != Reachability::offline) {
      text = texts::free_now(who);
    } else if (auto back = next_working(who, status_of(who, now) == ical::Status::working
                                                 ? now + std::chrono::seconds(1)
                                                 : now)) {
      text = status_of(who, now) == ical::Status::working
                 ? texts::working_but_busy(who)
                 : texts::next_working(who, when_text(*back, user, who));
    } else {
      text = texts::no_working_time(who);
    }
  } else if (!enrolled(user)) {
    text = texts::not_enrolled(form);
  } else if (word == "privacy") {
    static const std::map<std::string_view, Settings::Privacy> kLevels = {
        {"exact", Settings::Privacy::exact}, {"wait", Settings::Privacy::wait},
        {"none", Settings::Privacy::none}};
    auto level = kLevels.find(arg);
    if (level == kLevels.end()) {
      text = refused_input(texts::privacy_choices(form));
    } else {
      directory_.senders().set_privacy(user, level->second, std::string(arg));
      text = texts::privacy_set(level->second);
    }
  } else if (word == "block" || word == "unblock") {
    auto jid = xmpp::Jid::parse(arg);
    if (!jid || !jid->has_local() || jid->has_resource()) {
      text = refused_input(texts::give_an_address(word, form));
    } else {
      const std::string who = jid->bare_string();
      const bool was = directory_.senders().blocks(user, who);
      if (word == "block") {
        if (!was) directory_.senders().set_blocked(user, who, true);
        text = was ? texts::already_blocked(who) : texts::blocked(who);
      } else {
        if (was) directory_.senders().set_blocked(user, who, false);
        text = was ? texts::unblocked(who) : texts::not_blocked(who);
      }
    }
  } else if (word == "blocked") {
    std::string list;
    for (const auto& sender : directory_.senders().blocked_by(user)) list += "\n  " + sender;
    text = list.empty() ? "You block nobody." : "You block:" + list;
  } else if (word == "status") {
    text = status_line(user, now);
    const auto peers = sessions_.peers(user, now);
    if (!peers.empty()) text += " " + texts::in_conversation(peers);
    text += " " + texts::held_for_you(holds_for(user).size());
    const std::string week = week_view(user, now);
    if (!week.empty()) text += "\n" + week;
  } else if (word == "waiting" || command == "held for me") {
    text = held_for_text(user, now);
  } else if (word == "pause") {
    auto d = parse_pause(arg);
    const bool paused = availability_.paused(user, now);
    if (!d) {
      text = refused_input(texts::pause_how_long(form));
    } else if (d->count() == 0 && !paused) {
      text = texts::not_paused();
    } else {
      pause(user, now + *d, now, out);
      text = d->count() == 0 ? texts::pause_ended()
                             : texts::paused_until(when_text(now + *d, user, user));
    }
  } else {  // end: the pause if there is one, else the current conversations
    if (availability_.paused(user, now)) {
      pause(user, now, now, out);
      text = texts::pause_ended();
    } else {
      const auto peers = sessions_.peers(user, now);
      for (const auto& peer : peers) sessions_.end(user, peer);
      for (const auto& peer : peers) try_release(peer, now, out);
      try_release(user, now, out);
      publish_proxy_status(user, now, out);
      text = peers.empty() ? texts::no_conversation() : texts::ended_conversations(peers);
    }
  }
  return text;
}

std::optional<std::string> Router::not_an_address(const std::string& user,
                                                  std::string_view command) {
  const std::string_view word = command.substr(0, command.find(' '));
  if (word != "when" && word != "cancel" && word != "block" && word != "unblock") {
    return std::nullopt;
  }
  const std::string arg = command.find(' ') == std::string_view::npos
                              ? std::string()
                              : trim(command.substr(command.find(' ') + 1));
  if (arg.empty() || arg.find('@') != std::string::npos) return std::nullopt;
  // "bob" parses as a server's address: people mean a user, most likely of their own domain.
  std::string suggestion;
  auto own = xmpp::Jid::parse(user);
  auto guess = own ? xmpp::Jid::parse(arg + "@" + own->domain()) : std::nullopt;
  if (guess && guess->has_local() && !guess->has_resource()) suggestion = guess->bare_string();
  return refused_input(texts::not_an_address(arg, suggestion));
}

std::string Router::status_line(const std::string& user, Instant now) const {
  now_hint_ = now;
  std::string text = std::string("You are ") + status_word(status_of(user, now));
  if (auto p = availability_.pause_end(user, now)) {
    text = "You are paused until " + when_text(*p, user, user);
  } else if (const ical::Schedule* schedule = availability_.schedule_of(user)) {
    auto change = schedule->next_change_after(to_utc_seconds(now));
    if (change) text += " until " + when_text(Instant{std::chrono::seconds(*change)}, user, user);
  } else {
    text += std::string(" (no schedule: Concierge treats you as ") +
            (settings_.unknown_is_working ? "always working" : "off") + ")";
  }
  return text + ".";
}

std::string Router::held_for_text(const std::string& target, Instant now) const {
  struct Seen {
    std::size_t count = 0;
    Instant oldest{};
  };
  std::map<std::string, Seen> senders;
  for (const auto& h : holds_for(target)) {
    Seen& s = senders[h.sender];
    if (s.count++ == 0 || h.received < s.oldest) s.oldest = h.received;
  }
  if (senders.empty()) return "Nothing is held for you.";
  std::string text = "Held for you:";
  for (const auto& [sender, seen] : senders) {
    text += "\n  " + sender + ": " + std::to_string(seen.count) +
            (seen.count == 1 ? " message" : " messages") + ", oldest " + age_text(now - seen.oldest) +
            " old";
  }
  return text + "\n" + texts::waiting_hint(asking_.form);
}

std::string age_text(Duration age) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(age).count();
  if (minutes < 1) return "under a minute";
  if (minutes < 120) return std::to_string(minutes) + " min";
  if (minutes < 48 * 60) return std::to_string(minutes / 60) + " h";
  return std::to_string(minutes / (24 * 60)) + " days";
}

}  // namespace concierge::core
