// SPDX-License-Identifier: MIT
// AdminCommands: the admins' table — stats, queues, reload, backup, flush and drop — with its
// handlers (DESIGN §7). Reads the hold book and the counts; releases and bounces go through the
// Router (AdminActions), reload and backup through the Outbox to app/.
#include <algorithm>

#include <component/core/admin_commands.hpp>
#include <component/core/texts.hpp>

namespace concierge::core {

AdminCommands::AdminCommands(AdminRooms rooms) : rooms_(std::move(rooms)) {
  using R = std::optional<std::string>;
  auto request = [](Outbox::AdminRequest::Kind kind, const char* answer) {
    return [kind, answer](Asked& a) -> R {
      a.out.admin.push_back({kind, a.full});
      return std::string(answer);
    };
  };
  const FormField target{"jid", "jid-single", "The target (user@domain)", true};
  commands_ = {
      {"stats",
       "Admin: statistics",
       MayRun::admins,
       Arg::word,
       {},
       [this](Asked& a) { return stats(a); }},
      {"queues",
       "Admin: held messages per target",
       MayRun::admins,
       Arg::word,
       {},
       [this](Asked&) { return queues(); }},
      {"reload",
       "Admin: reload config and schedules",
       MayRun::admins,
       Arg::word,
       {},
       request(Outbox::AdminRequest::Kind::reload, "Reloading the config and schedules…")},
      {"backup",
       "Admin: back up the store",
       MayRun::admins,
       Arg::word,
       {},
       request(Outbox::AdminRequest::Kind::backup, "Backing up the store…")},
      {"flush",
       "Admin: deliver a target's held messages now",
       MayRun::admins,
       Arg::word,
       {target, {"confirm", "boolean", "Yes, deliver them now", false}},
       [this](Asked& a) { return flush_or_drop("flush", a); }},
      {"drop",
       "Admin: drop a target's held messages",
       MayRun::admins,
       Arg::word,
       {target, {"confirm", "boolean", "Yes, drop them (their senders are told)", false}},
       [this](Asked& a) { return flush_or_drop("drop", a); }},
  };
}

std::optional<std::string> AdminCommands::stats(const Asked& a) const {
  std::size_t held = 0, sent = 0;
  std::optional<Instant> oldest;
  for (const auto& [id, h] : rooms_.holds.all()) {
    if (h.state == HoldState::held) {
      ++held;
      if (!oldest || h.received < *oldest) oldest = h.received;
    } else {
      ++sent;
    }
  }
  const RouterStats& s = rooms_.stats;
  std::string text = "Enrolled: " + std::to_string(rooms_.settings.enrolled.size()) +
                     " by the config, " + std::to_string(rooms_.directory.self_enrolled_count()) +
                     " by themselves. Sessions: " + std::to_string(rooms_.sessions.size()) +
                     ". Held: " + std::to_string(held) +
                     " (awaiting confirmation: " + std::to_string(sent) + ")";
  if (oldest) {
    const auto age = std::chrono::duration_cast<std::chrono::minutes>(a.now - *oldest).count();
    text += ", oldest " + std::to_string(age) + " min";
  }
  text += ". Released in the last hour: " + std::to_string(rooms_.releases.last_hour(a.now)) +
          ". Since start: relayed " + std::to_string(s.relayed) + ", held " +
          std::to_string(s.held) + ", released " + std::to_string(s.released) + ", refused " +
          std::to_string(s.refused) + ", expired " + std::to_string(s.expired) + ".";
  return text;
}

std::optional<std::string> AdminCommands::queues() const {
  std::vector<std::pair<std::size_t, std::string>> sizes;
  for (const auto& target : rooms_.holds.targets()) {
    sizes.emplace_back(rooms_.router.holds_for(target).size(), target);
  }
  std::sort(sizes.rbegin(), sizes.rend());
  if (sizes.empty()) return "Nothing is held.";
  std::string text = "Held per target:";
  for (std::size_t i = 0; i < sizes.size() && i < 20; ++i) {
    text += "\n  " + sizes[i].second + ": " + std::to_string(sizes[i].first);
  }
  return text;
}

// flush / drop <target> [confirm]
std::optional<std::string> AdminCommands::flush_or_drop(std::string_view word, Asked& a) {
  std::string arg = a.arg;
  const bool confirmed = arg.ends_with(" confirm");
  if (confirmed) arg.resize(arg.size() - 8);
  if (arg.empty()) return "Say \"" + std::string(word) + " user@domain\".";
  const std::size_t n = rooms_.router.holds_for(arg).size();
  if (n == 0) return "Nothing is held for " + arg + ".";
  const bool flush = word == "flush";
  if (!confirmed) {
    const std::string held =
        texts::count(n, "message is", "messages are") + " held for " + arg + ". ";
    if (a.form) {  // the form's confirm box
      return held + (flush ? "Tick \"Yes, deliver them now\" to deliver them."
                           : "Tick \"Yes, drop them\" to drop them (their senders are told).");
    }
    return held + "To " + (flush ? "deliver them now" : "drop them (their senders are told)") +
           ", send \"" + std::string(word) + " " + arg + " confirm\".";
  }
  if (!flush) {
    rooms_.router.drop(arg, "an admin dropped them.", a.out);
    return "Dropped " + texts::count(n, "held message", "held messages") + " for " + arg + ".";
  }
  // flush: out now, whatever the schedule says (the admin's call).
  if (arg.ends_with("@" + rooms_.settings.component_domain)) {
    return "A pool's messages go to whichever member is free first; flush a member, or drop "
           "them.";
  }
  rooms_.router.flush(arg, a.now, a.out);
  return "Flushed " + texts::count(n, "held message", "held messages") + " to " + arg + ".";
}

}  // namespace concierge::core
