// SPDX-License-Identifier: MIT
// Router: admin commands (DESIGN §7), only for [admin] jids: stats, queues, reload, backup, and
// flushing or dropping a target's holds (with confirmation: the command is repeated with
// "confirm").
#include <algorithm>

#include <component/core/router.hpp>
#include <component/core/texts.hpp>

namespace concierge::core {

std::optional<std::string> Router::admin_command(const std::string& admin, const std::string& full,
                                                 std::string_view command, Instant now,
                                                 Outbox& out) {
  const std::string_view word = command.substr(0, command.find(' '));
  if (word != "stats" && word != "queues" && word != "reload" && word != "backup" &&
      word != "flush" && word != "drop") {
    return std::nullopt;
  }
  if (!settings_.admins.count(admin)) return "Only Concierge's admins may use \"" + std::string(word) + "\".";
  std::string arg = command.find(' ') == std::string_view::npos
                        ? std::string()
                        : std::string(command.substr(command.find(' ') + 1));
  if (word == "stats") {
    std::size_t held = 0, sent = 0;
    std::optional<Instant> oldest;
    for (const auto& [id, h] : holds_.all()) {
      if (h.state == HoldState::held) {
        ++held;
        if (!oldest || h.received < *oldest) oldest = h.received;
      } else {
        ++sent;
      }
    }
    std::string text = "Enrolled: " + std::to_string(settings_.enrolled.size()) + " by the config, " +
                       std::to_string(directory_.self_enrolled_count()) + " by themselves. Sessions: " +
                       std::to_string(sessions_.size()) + ". Held: " + std::to_string(held) +
                       " (awaiting confirmation: " + std::to_string(sent) + ")";
    if (oldest) {
      const auto age = std::chrono::duration_cast<std::chrono::minutes>(now - *oldest).count();
      text += ", oldest " + std::to_string(age) + " min";
    }
    text += ". Released in the last hour: " + std::to_string(releases_.last_hour(now)) +
            ". Since start: relayed " + std::to_string(stats_.relayed) + ", held " +
            std::to_string(stats_.held) + ", released " + std::to_string(stats_.released) +
            ", refused " + std::to_string(stats_.refused) + ", expired " +
            std::to_string(stats_.expired) + ".";
    return text;
  }
  if (word == "queues") {
    std::vector<std::pair<std::size_t, std::string>> sizes;
    for (const auto& target : holds_.targets()) sizes.emplace_back(holds_for(target).size(), target);
    std::sort(sizes.rbegin(), sizes.rend());
    if (sizes.empty()) return "Nothing is held.";
    std::string text = "Held per target:";
    for (std::size_t i = 0; i < sizes.size() && i < 20; ++i) {
      text += "\n  " + sizes[i].second + ": " + std::to_string(sizes[i].first);
    }
    return text;
  }
  if (word == "reload" || word == "backup") {
    out.admin.push_back({word == "reload" ? Outbox::AdminRequest::Kind::reload
                                          : Outbox::AdminRequest::Kind::backup,
                         full});
    return word == "reload" ? "Reloading the config and schedules…" : "Backing up the store…";
  }
  // flush / drop <target> [confirm]
  const bool confirmed = arg.ends_with(" confirm");
  if (confirmed) arg.resize(arg.size() - 8);
  if (arg.empty()) return "Say \"" + std::string(word) + " user@domain\".";
  const std::size_t n = holds_for(arg).size();
  if (n == 0) return "Nothing is held for " + arg + ".";
  if (!confirmed) {
    const std::string held =
        texts::count(n, "message is", "messages are") + " held for " + arg + ". ";
    if (asking_.form) {  // the form's confirm box
      return held + (word == "flush"
                         ? "Tick \"Yes, deliver them now\" to deliver them."
                         : "Tick \"Yes, drop them\" to drop them (their senders are told).");
    }
    return held + "To " +
           (word == "flush" ? "deliver them now" : "drop them (their senders are told)") +
           ", send \"" + std::string(word) + " " + arg + " confirm\".";
  }
  if (word == "drop") {
    bounce_holds(arg, "an admin dropped them.", out);
    return "Dropped " + texts::count(n, "held message", "held messages") + " for " + arg + ".";
  }
  // flush: out now, whatever the schedule says (the admin's call).
  if (arg.ends_with("@" + settings_.component_domain)) {
    return "A pool's messages go to whichever member is free first; flush a member, or drop "
           "them.";
  }
  const auto* held = holds_.of_target(arg);
  std::vector<std::int64_t> unreadable;
  for (std::int64_t id : held ? std::vector<std::int64_t>(held->begin(), held->end())
                              : std::vector<std::int64_t>()) {
    Hold& h = holds_.at(id);
    if (h.state == HoldState::held && !holds_.in_flight(id) && !release(h, arg, now, out)) {
      unreadable.push_back(id);
    }
  }
  for (std::int64_t id : unreadable) erase_hold(id);
  return "Flushed " + texts::count(n, "held message", "held messages") + " to " + arg + ".";
}

}  // namespace concierge::core
