// SPDX-License-Identifier: MIT
#include <component/core/texts.hpp>

namespace concierge::core::texts {

std::string count(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string names(const std::vector<std::string>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += i + 1 == items.size() ? " and " : ", ";
    text += items[i];
  }
  return text;
}

// --- enrolment ------------------------------------------------------------------------------

std::string not_enrolled(bool form) {
  return form ? "You are not enrolled with Concierge: run \"Enrol with Concierge\" first."
              : "You are not enrolled with Concierge: send \"enrol Europe/Berlin\" (your time "
                "zone) first.";
}

std::string enrolled(bool again, const std::string& zone, const std::string& proxy, bool form) {
  return std::string(again ? "Your enrolment is updated" : "You are enrolled") + " (time zone " +
         zone + "). Others now reach you through " + proxy + "; " +
         (form ? "your settings are in this command menu." : "send \"help\" for your settings.");
}

std::string unenrolled() {
  return "You are unenrolled; messages held for you went back to their senders.";
}

std::string unenrol_warning(std::size_t held) {
  return (held == 0 ? std::string("Nothing is held for you.")
                    : count(held, "message", "messages") + " held for you will go back to " +
                          (held == 1 ? "its sender." : "their senders.")) +
         " Unenrolling also removes your settings and your Concierge address.";
}

std::string still_enrolled() {
  return "You are still enrolled; nothing changed.";
}

// --- addresses ------------------------------------------------------------------------------

std::string not_an_address(std::string_view given, const std::string& suggestion) {
  return "\"" + std::string(given.substr(0, 64)) + "\" is not an address (user@domain)" +
         (suggestion.empty() ? "." : "; did you mean " + suggestion + "?");
}

std::string give_an_address(std::string_view command, bool form) {
  return form ? std::string("Give an address: user@domain.")
              : "Say \"" + std::string(command) + " user@domain\".";
}

// --- status, end, pause -------------------------------------------------------------------

std::string in_conversation(const std::vector<std::string>& peers) {
  return "In a conversation with " + names(peers) + ".";
}

std::string held_for_you(std::size_t n) {
  if (n == 0) return "Nothing is held for you.";
  return count(n, "message", "messages") + (n == 1 ? " is" : " are") + " held for you.";
}

std::string ended_conversations(const std::vector<std::string>& peers) {
  return std::string(peers.size() == 1 ? "Ended your conversation with "
                                       : "Ended your conversations with ") +
         names(peers) + ".";
}

std::string no_conversation() {
  return "You are in no conversation.";
}

std::string pause_how_long(bool form) {
  return form ? "For how long? e.g. 30m, 2h, 1d; 0 ends a pause."
              : "Say how long, e.g. \"pause 30m\", \"pause 2h\"; \"pause 0\" ends a pause.";
}

std::string paused_until(const std::string& until) {
  return "Paused until " + until + ": messages wait until then.";
}

std::string pause_ended() {
  return "Pause ended: messages reach you again.";
}

std::string not_paused() {
  return "You are not paused.";
}

std::string waiting_hint(bool form) {
  return form ? "They come to you when you are free and working (if you are paused: \"End my "
                "pause or my conversations\")."
              : "They come to you when you are free and working (\"pause 0\" or \"end\" if you "
                "are paused).";
}

// --- when ------------------------------------------------------------------------------------

std::string does_not_use(const std::string& who) {
  return who + " does not use Concierge.";
}

std::string refuses_you(const std::string& who) {
  return who + " does not accept messages from you.";
}

std::string shares_no_times(const std::string& who) {
  return who + " shares no times with you; a message will wait until they can take it.";
}

std::string free_now(const std::string& who) {
  return who + " is free now.";
}

std::string working_but_busy(const std::string& who) {
  return who + " is working but busy right now; a message will wait in line.";
}

std::string next_working(const std::string& who, const std::string& at) {
  return who + " is next working " + at + ".";
}

std::string paused_then(const std::string& who, const std::string& until, const std::string& next) {
  if (next.empty() || next == until) {
    return who + " is busy until " + until + "; a message will wait until then.";
  }
  return who + " is busy until " + until + ", then next working " + next + ".";
}

std::string no_working_time(const std::string& who) {
  return who + " has no working time in the schedule Concierge knows.";
}

// --- privacy, subscribers, blocklist --------------------------------------------------------

std::string privacy_meaning(Settings::Privacy level) {
  switch (level) {
    case Settings::Privacy::exact:
      return "exact: senders of your domain see when you are back (others: only that a message "
             "will wait)";
    case Settings::Privacy::wait:
      return "wait: senders learn only that a message will wait";
    default:
      return "none: senders learn nothing of your schedule";
  }
}

std::string privacy_choices(bool form) {
  return form ? "Choose exact, wait or none."
              : "Say \"privacy exact\" (senders of your domain see when you are back), "
                "\"privacy wait\" (only that a message will wait) or \"privacy none\" (nothing).";
}

std::string privacy_set(Settings::Privacy level) {
  return "Privacy set to " + privacy_meaning(level) + ".";
}

std::string subscribers_meaning(const std::string& policy, const std::string& own_domain,
                                const std::set<std::string>& served) {
  if (policy.empty() || policy == "domain") return "people of " + own_domain;
  if (policy == "served") {
    return "people of " + names(std::vector<std::string>(served.begin(), served.end()));
  }
  return policy;  // nobody, or the addresses
}

std::string subscribers_choices(bool form) {
  return form ? "Give domain (people of your domain), served (anyone on this server), nobody, "
                "or the addresses of who may (user@domain)."
              : "Say \"subscribers domain\" (people of your domain may see your status), "
                "\"subscribers served\" (anyone on this server), \"subscribers nobody\", or "
                "list who may: \"subscribers a@example.org, b@example.org\".";
}

std::string subscribers_set(const std::string& meaning, std::size_t removed) {
  std::string text = "Who may see your status: " + meaning + ".";
  if (removed > 0) {
    text += " " + count(removed, "subscriber", "subscribers") + " no longer may and " +
            (removed == 1 ? "was" : "were") + " removed.";
  }
  return text;
}

std::string blocked(const std::string& who) {
  return "Blocked " + who + ": their messages to you are refused.";
}

std::string already_blocked(const std::string& who) {
  return "You already block " + who + ".";
}

std::string unblocked(const std::string& who) {
  return "Unblocked " + who + ".";
}

std::string not_blocked(const std::string& who) {
  return "You do not block " + who + ".";
}

// --- schedule changes -------------------------------------------------------------------------

std::string reading_calendar(bool url) {
  return std::string(url ? "Fetching your calendar" : "Reading your calendar") +
         ": it is in force as soon as it is read; you hear from me only if something is wrong "
         "with it.";
}

// --- ad-hoc forms ---------------------------------------------------------------------------

std::string form_fill_in(const std::string& label) {
  return "Please fill in: " + label;
}

std::string form_done() {
  return "Done.";
}

}  // namespace concierge::core::texts
