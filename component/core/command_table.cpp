// SPDX-License-Identifier: MIT
// CommandTable: the list in the order people look for it, and the chat way in — a message's
// text is split into the command's word and its argument, checked (an address, who may run it)
// and handed to the command's handler; ad-hoc forms arrive at run() too (adhoc_forms.cpp).
#include <algorithm>

#include <component/core/command_table.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>
#include <component/core/texts.hpp>

namespace concierge::core {
namespace {

// In the order people look for them (issue 15 point 17): their state, their schedule, the day's
// actions, who reaches them, enrolment; admin commands follow (AdminCommands).
constexpr std::string_view kOrder[] = {
    "status",      "settings", "timezone", "hours",   "calendar", "upload",  "kind",   "pause",
    "end",         "waiting",  "held",     "cancel",  "when",     "through", "urgent", "privacy",
    "subscribers", "block",    "unblock",  "blocked", "enrol",    "unenrol"};

std::size_t rank(std::string_view name) {
  return static_cast<std::size_t>(std::find(std::begin(kOrder), std::end(kOrder), name) -
                                  std::begin(kOrder));
}

std::string_view word_before(std::string_view text, const char* separators) {
  return text.substr(0, text.find_first_of(separators));
}

std::string after_word(std::string_view text, const char* separators) {
  const auto at = text.find_first_of(separators);
  return at == std::string_view::npos ? std::string() : std::string(text.substr(at + 1));
}

// "when bob", "cancel bob", "block bob": people mean a user, most likely of their own domain.
std::optional<std::string> not_an_address(const std::string& user, const std::string& arg) {
  if (arg.empty() || arg.find('@') != std::string::npos) return std::nullopt;
  std::string suggestion;
  auto own = xmpp::Jid::parse(user);
  auto guess = own ? xmpp::Jid::parse(arg + "@" + own->domain()) : std::nullopt;
  if (guess && guess->has_local() && !guess->has_resource()) suggestion = guess->bare_string();
  return texts::not_an_address(arg, suggestion);
}

}  // namespace

void ask_to_compile(Directory& directory, const std::string& user, Outbox& out) {
  out.schedule_changed.push_back(user);
  directory.pending().expect_compile(user);
}

CommandTable::CommandTable(const Settings& settings, Directory& directory,
                           const Availability& availability, AdminCommands& admin,
                           CommandActions actions, RouterStats& stats)
    : actions_(std::move(actions)),
      rooms_{settings, directory, availability, actions_},
      admin_(admin),
      stats_(stats),
      commands_(commands::user_commands(rooms_)) {
  for (auto& c : commands::setting_commands(rooms_)) commands_.push_back(std::move(c));
  std::stable_sort(commands_.begin(), commands_.end(),
                   [](const Command& a, const Command& b) { return rank(a.name) < rank(b.name); });
}

const Command* CommandTable::find(std::string_view word) const {
  for (const auto* table : {&commands_, &admin_.commands()}) {
    for (const auto& c : *table) {
      if (word == c.name || (c.alias && word == c.alias)) return &c;
    }
  }
  return nullptr;
}

std::optional<std::string> CommandTable::run(const std::string& user, const std::string& full,
                                             std::string_view text, Instant now, Outbox& out,
                                             bool form, bool& refused) {
  // Settings keep the case of what follows the word (URLs, zones, an .ics); the other
  // commands take addresses and words, which compare in lower case.
  const std::string command = trim(text);
  std::string lowered = lower(command);
  if (lowered == "held for me") lowered = "waiting";
  // An .ics pasted as a chat message is an upload.
  const bool pasted = command.starts_with("BEGIN:VCALENDAR");
  const std::string word =
      pasted ? std::string("upload") : std::string(word_before(lowered, " \t\r\n"));
  const Command* c = find(word);
  if (!c) return std::nullopt;
  Asked asked{user, full, {}, now, out, form};
  if (c->arg == Arg::text) {
    asked.arg = pasted ? command : trim(after_word(command, " \t\r\n"));
  } else {
    // Words and addresses follow the command's word after a space.
    if (word_before(lowered, " ") != word) return std::nullopt;
    asked.arg = after_word(lowered, " ");
  }
  std::optional<std::string> answer;
  if (c->arg == Arg::address) answer = not_an_address(user, trim(asked.arg));
  if (answer) {
    refused = true;
    return answer;
  }
  if (c->who == MayRun::admins && !admin_.is_admin(user)) {
    return "Only Concierge's admins may use \"" + word + "\".";
  }
  if (c->who == MayRun::enrolled && !rooms_.directory.enrolled(user)) {
    return texts::not_enrolled(form);
  }
  answer = c->handler(asked);
  refused = asked.refused;
  return answer;
}

void CommandTable::chat(const xmpp::Element& message, Instant now, Outbox& out) {
  auto body = message.child_text("body");
  if (!body) {
    ++stats_.dropped;  // a chat state or receipt to the component itself
    return;
  }
  std::optional<std::string> text;
  std::string domain;
  if (auto from = xmpp::Jid::parse(message.attr("from"))) {
    const std::string user = lower(from->bare_string());
    if (actions_.served(*from)) domain = from->domain();
    // Commands count against the sender's rate like messages: each may fetch or compile.
    bool refused = false;
    text = actions_.allow(user, now)
               ? run(user, from->full_string(), *body, now, out, false, refused)
               : std::optional<std::string>(std::string(kTooFast));
  }
  ++stats_.answered;
  const Settings& settings = rooms_.settings;
  xmpp::Element answer = command_answer(
      message, text ? std::move(*text) : help_or_unknown(*body, settings, domain), settings);
  // From the address written to: a chat to the component's full JID is answered from it.
  answer.set_attr("from", message.attr("to"));
  out.send(std::move(answer));
}

void CommandTable::refuse(const xmpp::Element& stanza, Refusal refusal, const std::string& text,
                          Outbox& out) {
  ++stats_.refused;
  out.send(make_error_reply(stanza, refusal, text));
}

}  // namespace concierge::core
