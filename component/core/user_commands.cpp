// SPDX-License-Identifier: MIT
// The users' commands about their day and who reaches them (DESIGN §7): status, pause, end,
// waiting (or "held for me"), when, privacy, block, unblock, blocked — and a sender's own held
// and cancel. Entries of the CommandTable; they read the Directory and the Availability and ask
// the Router (CommandActions) for holds, conversations and pauses.
#include <charconv>
#include <map>

#include <component/core/command_table.hpp>
#include <component/core/schedule_text.hpp>
#include <component/core/text.hpp>
#include <component/core/texts.hpp>

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
    case ical::Status::working:
      return "working";
    case ical::Status::away:
      return "away";
    case ical::Status::busy:
      return "busy";
    default:
      return "off";
  }
}

std::string status(CommandRooms& r, Asked& a) {
  std::string text = status_line(r, a.user, a.now);
  const auto peers = r.router.peers(a.user, a.now);
  if (!peers.empty()) text += " " + texts::in_conversation(peers);
  text += " " + texts::held_for_you(r.router.holds_for(a.user).size());
  if (const ical::Schedule* schedule = r.availability.schedule_of(a.user)) {
    text += "\n" +
            week_view(*schedule, r.directory.zone_of(a.user), a.now, r.settings.unknown_is_working);
  }
  return text;
}

std::string when(CommandRooms& r, Asked& a) {
  auto jid = xmpp::Jid::parse(a.arg);
  const std::string who = jid ? jid->bare_string() : a.arg;
  const Availability& days = r.availability;
  const Instant now = a.now;
  auto at = [&](Instant t) { return r.router.when(t, a.user, who, now); };
  const std::optional<Instant> pause = days.pause_end(who, now);
  if (!jid || !jid->has_local() || !r.directory.enrolled(who)) return texts::does_not_use(who);
  // As their refusal says: nothing of their schedule.
  if (r.directory.senders().blocks(who, a.user)) return texts::refuses_you(who);
  if (r.directory.senders().privacy_for(who, a.user) != Settings::Privacy::exact) {
    return texts::shares_no_times(who);
  }
  if (pause) {
    auto back = days.next_working(who, now);
    return texts::paused_then(who, at(*pause), back ? at(*back) : std::string());
  }
  const bool working = days.status_of(who, now) == ical::Status::working;
  if (working && r.router.reachable(who, now)) return texts::free_now(who);
  if (auto back = days.next_working(who, working ? now + std::chrono::seconds(1) : now)) {
    return working ? texts::working_but_busy(who) : texts::next_working(who, at(*back));
  }
  return texts::no_working_time(who);
}

std::string privacy(CommandRooms& r, Asked& a) {
  static const std::map<std::string_view, Settings::Privacy> kLevels = {
      {"exact", Settings::Privacy::exact},
      {"wait", Settings::Privacy::wait},
      {"none", Settings::Privacy::none}};
  auto level = kLevels.find(a.arg);
  if (level == kLevels.end()) return a.refuse(texts::privacy_choices(a.form));
  r.directory.senders().set_privacy(a.user, level->second, a.arg);
  return texts::privacy_set(level->second);
}

std::string block(CommandRooms& r, Asked& a, bool block) {
  const std::string_view word = block ? "block" : "unblock";
  auto jid = xmpp::Jid::parse(a.arg);
  if (!jid || !jid->has_local() || jid->has_resource()) {
    return a.refuse(texts::give_an_address(word, a.form));
  }
  const std::string who = jid->bare_string();
  const bool was = r.directory.senders().blocks(a.user, who);
  if (block) {
    if (!was) r.directory.senders().set_blocked(a.user, who, true);
    return was ? texts::already_blocked(who) : texts::blocked(who);
  }
  if (was) r.directory.senders().set_blocked(a.user, who, false);
  return was ? texts::unblocked(who) : texts::not_blocked(who);
}

std::string blocked(CommandRooms& r, Asked& a) {
  std::string list;
  for (const auto& sender : r.directory.senders().blocked_by(a.user)) list += "\n  " + sender;
  return list.empty() ? "You block nobody." : "You block:" + list;
}

// What is held for the asker: counts per sender and ages, never bodies.
std::string waiting(CommandRooms& r, Asked& a) {
  struct Seen {
    std::size_t count = 0;
    Instant oldest{};
  };
  std::map<std::string, Seen> senders;
  for (const auto& h : r.router.holds_for(a.user)) {
    Seen& s = senders[h.sender];
    if (s.count++ == 0 || h.received < s.oldest) s.oldest = h.received;
  }
  if (senders.empty()) return "Nothing is held for you.";
  std::string text = "Held for you:";
  for (const auto& [sender, seen] : senders) {
    text += "\n  " + sender + ": " + std::to_string(seen.count) +
            (seen.count == 1 ? " message" : " messages") + ", oldest " +
            age_text(a.now - seen.oldest) + " old";
  }
  return text + "\n" + texts::waiting_hint(a.form);
}

std::string pause(CommandRooms& r, Asked& a) {
  auto d = parse_pause(a.arg);
  if (!d) return a.refuse(texts::pause_how_long(a.form));
  if (d->count() == 0 && !r.availability.paused(a.user, a.now)) return texts::not_paused();
  r.router.pause(a.user, a.now + *d, a.now, a.out);
  return d->count() == 0 ? texts::pause_ended()
                         : texts::paused_until(r.router.when(a.now + *d, a.user, a.user, a.now));
}

// The pause if there is one, else the current conversations.
std::string end(CommandRooms& r, Asked& a) {
  if (r.availability.paused(a.user, a.now)) {
    r.router.pause(a.user, a.now, a.now, a.out);
    return texts::pause_ended();
  }
  const auto peers = r.router.end_conversations(a.user, a.now, a.out);
  return peers.empty() ? texts::no_conversation() : texts::ended_conversations(peers);
}

// "held" lists what the sender has waiting; "cancel [jid]" drops it (DESIGN §2).
std::optional<std::string> held_or_cancel(CommandRooms& r, Asked& a, bool cancel) {
  if (!cancel && !a.arg.empty()) return std::nullopt;  // "held" alone
  const std::string only = lower(a.arg);
  std::map<std::string, std::vector<std::int64_t>> mine;
  std::map<std::string, Instant> oldest;
  for (const Hold& h : r.router.held_from(a.user)) {
    if (!only.empty() && h.target != only) continue;
    if (mine[h.target].empty()) oldest[h.target] = h.received;  // in arrival order
    mine[h.target].push_back(h.id);
  }
  if (mine.empty()) {
    return only.empty() ? "Nothing you sent is held." : "Nothing you sent to " + only + " is held.";
  }
  if (!cancel) {
    std::string text = "Held for delivery:";
    for (const auto& [target, ids] : mine) {
      text += "\n  " + target + ": " + std::to_string(ids.size()) +
              (ids.size() == 1 ? " message" : " messages") + ", oldest " +
              age_text(a.now - oldest[target]) + " old";
    }
    return text + "\nSend \"cancel\" (or \"cancel user@domain\") to withdraw them.";
  }
  std::size_t n = 0;
  for (const auto& [target, ids] : mine) {
    r.router.cancel(ids);
    n += ids.size();
  }
  return "Cancelled " + std::to_string(n) + (n == 1 ? " held message." : " held messages.");
}

}  // namespace

std::string status_line(const CommandRooms& r, const std::string& user, Instant now) {
  std::string text = std::string("You are ") + status_word(r.availability.status_of(user, now));
  if (auto p = r.availability.pause_end(user, now)) {
    text = "You are paused until " + r.router.when(*p, user, user, now);
  } else if (const ical::Schedule* schedule = r.availability.schedule_of(user)) {
    auto change = schedule->next_change_after(to_utc_seconds(now));
    if (change) {
      text += " until " + r.router.when(Instant{std::chrono::seconds(*change)}, user, user, now);
    }
  } else {
    text += std::string(" (no schedule: Concierge treats you as ") +
            (r.settings.unknown_is_working ? "always working" : "off") + ")";
  }
  return text + ".";
}

std::string age_text(Duration age) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(age).count();
  if (minutes < 1) return "under a minute";
  if (minutes < 120) return std::to_string(minutes) + " min";
  if (minutes < 48 * 60) return std::to_string(minutes / 60) + " h";
  return std::to_string(minutes / (24 * 60)) + " days";
}

std::vector<Command> commands::user_commands(CommandRooms& r) {
  using R = std::optional<std::string>;
  auto bind = [&r](std::string (*handler)(CommandRooms&, Asked&)) {
    return [&r, handler](Asked& a) -> R { return handler(r, a); };
  };
  const FormField jid{"jid", "jid-single", "Their address (user@domain)", true};
  return {
      {"status", "My status, next change and week", MayRun::enrolled, Arg::none, {}, bind(status)},
      {"pause",
       "Pause (hold messages for a while)",
       MayRun::enrolled,
       Arg::word,
       {{"duration", "text-single", "For how long (30m, 2h; 0 ends it)", true}},
       bind(pause)},
      {"end", "End my pause or my conversations", MayRun::enrolled, Arg::none, {}, bind(end)},
      {"waiting", "What is held for me", MayRun::enrolled, Arg::none, {}, bind(waiting)},
      {"held",
       "What I sent that is held",
       MayRun::anyone,
       Arg::word,
       {},
       [&r](Asked& a) { return held_or_cancel(r, a, false); }},
      {"cancel",
       "Cancel what I sent that is held",
       MayRun::anyone,
       Arg::address,
       {{"jid", "jid-single", "Only to (user@domain; empty: all)", false}},
       [&r](Asked& a) { return held_or_cancel(r, a, true); }},
      {"when", "When is someone free?", MayRun::anyone, Arg::address, {jid}, bind(when)},
      {"privacy",
       "What others learn of my schedule",
       MayRun::enrolled,
       Arg::word,
       {{"level", "list-single", "exact times, only that it will wait, or nothing", true,
         "exact|wait|none"}},
       bind(privacy)},
      {"block",
       "Block a sender",
       MayRun::enrolled,
       Arg::address,
       {jid},
       [&r](Asked& a) -> R { return block(r, a, true); }},
      {"unblock",
       "Unblock a sender",
       MayRun::enrolled,
       Arg::address,
       {jid},
       [&r](Asked& a) -> R { return block(r, a, false); }},
      {"blocked", "Whom I block", MayRun::enrolled, Arg::none, {}, bind(blocked)},
  };
}

}  // namespace concierge::core
