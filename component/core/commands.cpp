// SPDX-License-Identifier: MIT
// Router: chat commands to the component's bare JID for users (DESIGN §7): status, pause,
// end, when. (help, held and cancel are answered elsewhere.)
#include <algorithm>
#include <charconv>
#include <map>

#include <component/core/router.hpp>
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
  if (word == "when") {
    auto jid = xmpp::Jid::parse(arg);
    const std::string who = jid ? jid->bare_string() : std::string(arg);
    if (!jid || !jid->has_local() || !enrolled(who)) {
      text = who + " does not use Concierge.";
    } else if (privacy_for(who, user) != Settings::Privacy::exact) {
      text = who + " shares no times with you; a message will wait until they can take it.";
    } else if (status_of(who, now) == ical::Status::working && session_idle(who, now) &&
               presence_.reachability(who) != Reachability::offline) {
      text = who + " is free now.";
    } else if (auto back = next_working(who, status_of(who, now) == ical::Status::working
                                                 ? now + std::chrono::seconds(1)
                                                 : now)) {
      text = status_of(who, now) == ical::Status::working
                 ? who + " is working but busy right now; a message will wait in line."
                 : who + " is next working " + when_text(*back, user, who) + ".";
    } else {
      text = who + " has no working time in the schedule Concierge knows.";
    }
  } else if (!enrolled(user)) {
    text = "You are not enrolled with Concierge: register with the component first.";
  } else if (word == "privacy") {
    static const std::map<std::string_view, Settings::Privacy> kLevels = {
        {"exact", Settings::Privacy::exact}, {"wait", Settings::Privacy::wait},
        {"none", Settings::Privacy::none}};
    auto level = kLevels.find(arg);
    if (level == kLevels.end()) {
      text = "Say \"privacy exact\" (senders of your domain see when you are back), \"privacy "
             "wait\" (only that a message will wait) or \"privacy none\" (nothing).";
    } else {
      privacy_[user] = level->second;
      store_.put_setting({user, "privacy", std::string(arg)});
      text = "Privacy set to " + std::string(arg) + ".";
    }
  } else if (word == "block" || word == "unblock") {
    auto jid = xmpp::Jid::parse(arg);
    if (!jid || !jid->has_local() || jid->has_resource()) {
      text = "Say \"" + std::string(word) + " user@domain\".";
    } else {
      const std::string who = jid->bare_string();
      block(user, who, word == "block");
      if (word == "block") {
        store_.put_setting({user, "block:" + who, "1"});
        text = "Blocked " + who + ": their messages to you are refused.";
      } else {
        store_.remove_setting(user, "block:" + who);
        text = "Unblocked " + who + ".";
      }
    }
  } else if (word == "blocked") {
    std::string list;
    for (const auto& [target, sender] : blocked_) {
      if (target == user) list += "\n  " + sender;
    }
    text = list.empty() ? "You block nobody." : "You block:" + list;
  } else if (word == "status") {
    text = status_line(user, now);
    const auto peers = sessions_.peers(user, now);
    if (!peers.empty()) text += " In a conversation with " + std::to_string(peers.size()) + ".";
    text += " " + std::to_string(holds_for(user).size()) + " message(s) held for you.";
    const std::string week = week_view(user, now);
    if (!week.empty()) text += "\n" + week;
  } else if (word == "waiting" || command == "held for me") {
    text = held_for_text(user, now);
  } else if (word == "pause") {
    auto d = parse_pause(arg);
    if (!d) {
      text = "Say how long, e.g. \"pause 30m\", \"pause 2h\"; \"pause 0\" ends a pause.";
    } else {
      pause(user, now + *d, now, out);
      text = d->count() == 0 ? "Pause ended: messages reach you again."
                             : "Paused until " + when_text(now + *d, user, user) +
                                   ": messages wait until then.";
    }
  } else {  // end: the pause if there is one, else the current conversations
    if (auto p = pauses_.find(user); p != pauses_.end() && p->second > now) {
      pause(user, now, now, out);
      text = "Pause ended: messages reach you again.";
    } else {
      const auto peers = sessions_.peers(user, now);
      for (const auto& peer : peers) sessions_.end(user, peer);
      for (const auto& peer : peers) try_release(peer, now, out);
      try_release(user, now, out);
      publish_proxy_status(user, now, out);
      text = peers.empty() ? "You are in no conversation."
                           : "Ended " + std::to_string(peers.size()) + " conversation(s).";
    }
  }
  return text;
}

std::string Router::status_line(const std::string& user, Instant now) const {
  now_hint_ = now;
  std::string text = std::string("You are ") + status_word(status_of(user, now));
  if (auto p = pauses_.find(user); p != pauses_.end() && p->second > now) {
    text = "You are paused until " + when_text(p->second, user, user);
  } else if (auto it = schedules_.find(user); it != schedules_.end()) {
    auto change = it->second->next_change_after(to_utc_seconds(now));
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
  return text + "\nThey come to you when you are free and working (\"pause 0\" or \"end\" "
                "if you are paused).";
}

std::string age_text(Duration age) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(age).count();
  if (minutes < 1) return "under a minute";
  if (minutes < 120) return std::to_string(minutes) + " min";
  if (minutes < 48 * 60) return std::to_string(minutes / 60) + " h";
  return std::to_string(minutes / (24 * 60)) + " days";
}

}  // namespace concierge::core
