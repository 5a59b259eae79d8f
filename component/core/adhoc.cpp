// SPDX-License-Identifier: MIT
// Router: XEP-0050 ad-hoc commands on the component's bare JID, with XEP-0004 forms — the same
// commands as the chat ones, for clients that offer a command menu. Stateless: a command that
// needs input answers with a form, and the submitted form carries everything (the session id
// is only echoed). A submitted form becomes the chat command line ("hours Mon-Fri 09:00-17:00")
// and runs through the same code, so a form and its chat twin cannot disagree.
#include <component/core/router.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>
#include <component/core/texts.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kCommands = "http://jabber.org/protocol/commands";
constexpr std::string_view kData = "jabber:x:data";

struct Field {
  const char* var;
  const char* type;   // XEP-0004 field type
  const char* label;
  bool required;
  const char* options = nullptr;  // list-single: the choices, separated by '|'
};

struct Command {
  const char* node;
  const char* name;
  std::vector<Field> fields;
  bool admin = false;
};

const std::vector<Command>& commands() {
  // In the order people look for them (issue 15 point 17): their state, their schedule,
  // the day's actions, who reaches them, enrolment; admin commands last.
  static const std::vector<Command> kList = {
      {"status", "My status, next change and week", {}},
      {"settings", "My settings", {}},
      {"timezone", "Set my time zone",
       {{"timezone", "text-single", "Time zone (IANA, e.g. Europe/Berlin)", true}}},
      {"hours", "Set my weekly hours",
       {{"hours", "text-single", "e.g. Mon-Fri 09:00-17:00; Sat 10:00-12:00 (none: remove)", true}}},
      {"calendar", "Set my calendar URL",
       {{"url", "text-single", "https URL of your .ics (none: remove it)", true}}},
      {"upload", "Upload my calendar (.ics)",
       {{"ics", "text-multi", "Paste the .ics text", true}}},
      {"kind", "What my calendar means",
       {{"kind", "list-single", "work: it lists working time; personal: appointments", true,
         "work|personal"}}},
      {"pause", "Pause (hold messages for a while)",
       {{"duration", "text-single", "For how long (30m, 2h; 0 ends it)", true}}},
      {"end", "End my pause or my conversations", {}},
      {"waiting", "What is held for me", {}},
      {"held", "What I sent that is held", {}},
      {"cancel", "Cancel what I sent that is held",
       {{"jid", "jid-single", "Only to (user@domain; empty: all)", false}}},
      {"when", "When is someone free?",
       {{"jid", "jid-single", "Their address (user@domain)", true}}},
      {"through", "Who may always reach me (urgent)",
       {{"jids", "jid-multi", "Addresses (none: nobody)", true}}},
      {"urgent", "Who may send me urgent messages",
       {{"from", "list-single", "Who may send urgent", true, "always_through|anyone"}}},
      {"privacy", "What others learn of my schedule",
       {{"level", "list-single", "exact times, only that it will wait, or nothing", true,
         "exact|wait|none"}}},
      {"subscribers", "Who may see my status",
       {{"who", "text-single", "domain, served, nobody, or addresses", true}}},
      {"block", "Block a sender", {{"jid", "jid-single", "Their address (user@domain)", true}}},
      {"unblock", "Unblock a sender",
       {{"jid", "jid-single", "Their address (user@domain)", true}}},
      {"blocked", "Whom I block", {}},
      {"enrol", "Enrol with Concierge",
       {{"timezone", "text-single", "Time zone (IANA, e.g. Europe/Berlin)", true},
        {"calendar_url", "text-single", "Calendar (https URL of an .ics; optional)", false}}},
      // Confirmed in a second step: it sends everything held back (issue 15 point 16).
      {"unenrol", "Unenrol (held messages go back to their senders)",
       {{"confirm", "boolean", "Yes, unenrol me", false}}},
      {"stats", "Admin: statistics", {}, true},
      {"queues", "Admin: held messages per target", {}, true},
      {"reload", "Admin: reload config and schedules", {}, true},
      {"backup", "Admin: back up the store", {}, true},
      {"flush", "Admin: deliver a target's held messages now",
       {{"jid", "jid-single", "The target (user@domain)", true},
        {"confirm", "boolean", "Yes, deliver them now", false}},
       true},
      {"drop", "Admin: drop a target's held messages",
       {{"jid", "jid-single", "The target (user@domain)", true},
        {"confirm", "boolean", "Yes, drop them (their senders are told)", false}},
       true},
  };
  return kList;
}

const Command* find_command(std::string_view node) {
  for (const auto& c : commands()) {
    if (node == c.node) return &c;
  }
  return nullptr;
}

// A field's values: one for most types, one per line or address for the -multi ones.
std::vector<std::string> form_values(const xmpp::Element& form, std::string_view var) {
  std::vector<std::string> values;
  for (const auto& f : form.children) {
    if (f.name != "field" || f.attr("var") != var) continue;
    for (const auto& v : f.children) {
      if (v.name == "value") values.push_back(v.inner_text());
    }
  }
  return values;
}

// The form of `command`, its fields holding `values` (var → values: what is in force, or what
// was just submitted); `instructions` says what submitting does.
xmpp::Element make_form(const Command& command, const FormValues& values,
                        const std::string& instructions = {}) {
  xmpp::Element x = xmpp::make("x", {{"xmlns", std::string(kData)}, {"type", "form"}});
  x.add_child(xmpp::make_text("title", command.name));
  if (!instructions.empty()) x.add_child(xmpp::make_text("instructions", instructions));
  for (const Field& field : command.fields) {
    xmpp::Element f =
        xmpp::make("field", {{"var", field.var}, {"type", field.type}, {"label", field.label}});
    if (field.required) f.add_child(xmpp::Element("required"));
    if (auto v = values.find(field.var); v != values.end()) {
      for (const auto& value : v->second) f.add_child(xmpp::make_text("value", value));
    }
    if (field.options) {
      std::string_view options = field.options;
      while (!options.empty()) {
        const std::string_view option = options.substr(0, options.find('|'));
        xmpp::Element o = xmpp::make("option", {{"label", std::string(option)}});
        o.add_child(xmpp::make_text("value", std::string(option)));
        f.add_child(std::move(o));
        options.remove_prefix(std::min(options.size(), option.size() + 1));
      }
    }
    x.add_child(std::move(f));
  }
  return x;
}

// The chat command line a submitted form stands for; nullopt names a missing required field.
std::optional<std::string> command_line(const Command& command, const xmpp::Element& form,
                                        std::string& missing) {
  std::string line = command.node;  // the chat command of the same name
  for (const Field& field : command.fields) {
    const auto values = form_values(form, field.var);
    std::string value;
    const std::string_view type = field.type;
    for (const auto& v : values) {
      const std::string t = type == "text-multi" ? v : trim(v);
      if (t.empty() && type != "text-multi") continue;
      value += value.empty() ? "" : type == "text-multi" ? "\n" : ", ";
      value += t;
    }
    if (type == "boolean") {
      if (value == "1" || value == "true") line += std::string(" ") + field.var;
      continue;
    }
    if (trim(value).empty()) {
      if (field.required) {
        missing = field.label;
        return std::nullopt;
      }
      continue;
    }
    line += (type == "text-multi" ? "\n" : " ") + value;
  }
  return line;
}

}  // namespace

bool Router::handle_adhoc(const xmpp::Element& stanza, const Addressing& a, Instant now,
                          Outbox& out) {
  const xmpp::Element* query = nullptr;
  bool listing = false;
  for (const auto& c : stanza.children) {
    if (c.name == "command" && c.attr("xmlns") == kCommands) query = &c;
    if (c.name == "query" && c.attr("xmlns") == "http://jabber.org/protocol/disco#items" &&
        c.attr("node") == kCommands) {
      query = &c;
      listing = true;
    }
  }
  if (!query) return false;
  if (!served(a.from) || !a.from.has_local()) {
    refuse(stanza, Refusal::sender_not_served,
           "Concierge serves only users of its own server's domains.", out);
    return true;
  }
  const std::string user = lower(a.from.bare_string());
  const bool admin = settings_.admins.count(user) != 0;
  xmpp::Element reply = iq_result(stanza);
  ++stats_.answered;

  if (listing) {  // XEP-0050 §2.2: the commands this requester may run, as disco items
    xmpp::Element items = xmpp::make("query", {{"xmlns", "http://jabber.org/protocol/disco#items"},
                                               {"node", std::string(kCommands)}});
    // Someone not enrolled yet sees Enrol first: nothing else works before it.
    const bool newcomer = !enrolled(user);
    for (const auto& c : commands()) {
      if (newcomer && std::string_view(c.node) == "enrol") {
        items.add_child(xmpp::make(
            "item", {{"jid", settings_.component_domain}, {"node", c.node}, {"name", c.name}}));
      }
    }
    for (const auto& c : commands()) {
      if ((c.admin && !admin) || (newcomer && std::string_view(c.node) == "enrol")) continue;
      items.add_child(xmpp::make("item", {{"jid", settings_.component_domain},
                                          {"node", c.node},
                                          {"name", c.name}}));
    }
    reply.add_child(std::move(items));
    out.send(std::move(reply));
    return true;
  }
  if (stanza.attr("type") != "set") {
    refuse(stanza, Refusal::bad_request, "Execute a command with an iq of type set.", out);
    return true;
  }
  const Command* command = find_command(query->attr("node"));
  if (!command) {
    refuse(stanza, Refusal::target_not_enrolled, "No such command.", out);
    return true;
  }
  if (command->admin && !admin) {
    refuse(stanza, Refusal::admins_only, "Only Concierge's admins may use this command.", out);
    return true;
  }
  const std::string session = query->find_attr("sessionid")
                                  ? std::string(query->attr("sessionid"))
                                  : std::string(command->node) + "-" + std::to_string(++adhoc_sessions_);
  xmpp::Element result = xmpp::make("command", {{"xmlns", std::string(kCommands)},
                                                {"node", command->node},
                                                {"sessionid", session}});
  if (query->attr("action") == "cancel") {
    result.set_attr("status", "canceled");
    reply.add_child(std::move(result));
    out.send(std::move(reply));
    return true;
  }
  const xmpp::Element* form = query->child("x", kData);
  const bool submitted = form && form->attr("type") == "submit";
  std::string missing;
  std::optional<std::string> line = std::string(command->node);
  if (!command->fields.empty()) {
    line = submitted ? command_line(*command, *form, missing) : std::nullopt;
  }
  // Unenrol asks first, saying what it sends back, when there is something to lose.
  const bool unenrol = std::string_view(command->node) == "unenrol";
  const bool may_unenrol = unenrol && directory_.enrolment(user) && !directory_.by_config(user);
  if (unenrol && !may_unenrol) line = std::string(command->node);  // answered: cannot
  // Shows the form (again): pre-filled with what is in force, or with what was submitted.
  auto ask = [&](const FormValues& values, const std::string& note_type, const std::string& note) {
    result.set_attr("status", "executing");
    xmpp::Element actions = xmpp::make("actions", {{"execute", "complete"}});
    actions.add_child(xmpp::Element("complete"));
    result.add_child(std::move(actions));
    if (!note.empty()) result.add_child(xmpp::make_text("note", note, {{"type", note_type}}));
    result.add_child(
        make_form(*command, values,
                  may_unenrol ? texts::unenrol_warning(holds_for(user).size()) : std::string()));
    reply.add_child(std::move(result));
    out.send(std::move(reply));
    return true;
  };
  auto submitted_values = [&]() {
    FormValues values;
    for (const Field& field : command->fields) {
      if (form) values[field.var] = form_values(*form, field.var);
    }
    return values;
  };
  if (!line) {
    // Ask for what the command needs (again, naming what was missing).
    if (!missing.empty()) return ask(submitted_values(), "error", texts::form_fill_in(missing));
    return ask(form_defaults(user, command->node), "", "");
  }
  auto complete = [&](const std::string& note) {
    result.set_attr("status", "completed");
    result.add_child(xmpp::make_text("note", note, {{"type", "info"}}));
    reply.add_child(std::move(result));
    out.send(std::move(reply));
    return true;
  };
  if (may_unenrol && *line != "unenrol confirm") return complete(texts::still_enrolled());
  if (!limiter_.allow(user, now)) {
    refuse(stanza, Refusal::rate_limited, std::string(kTooFast), out);
    return true;
  }
  asking_ = Asking{true, false};
  auto text = run_command(user, a.from.full_string(), *line, now, out);
  const bool refused = asking_.refused;
  asking_ = Asking{};
  // Bad input: the form again, with the reason as an error note (XEP-0050 §3.4).
  if (refused && !command->fields.empty()) {
    return ask(submitted_values(), "error", text.value_or(texts::form_done()));
  }
  return complete(text.value_or(texts::form_done()));
}

FormValues Router::form_defaults(const std::string& user, std::string_view node) const {
  FormValues values;
  auto source = schedule_source(user);
  if (!source) return values;  // not enrolled: nothing is in force
  if (node == "enrol" || node == "timezone") values["timezone"] = {source->zone};
  // The user's own URL, as the XEP-0077 form shows it.
  const Enrolment* enrolment = directory_.enrolment(user);
  if (node == "enrol" && enrolment && !enrolment->calendar_url.empty()) {
    values["calendar_url"] = {enrolment->calendar_url};
  }
  if (node == "calendar" && !directory_.admin_set(user, "calendar") && !source->url.empty()) {
    values["url"] = {source->url};
  }
  if (node == "hours" && !source->hours.empty()) values["hours"] = {source->hours};
  if (node == "kind") values["kind"] = {source->personal ? "personal" : "work"};
  if (node == "through") {
    const auto list = always_through(user);
    values["jids"] = std::vector<std::string>(list.begin(), list.end());
  }
  if (node == "urgent") values["from"] = {urgent_from_anyone(user) ? "anyone" : "always_through"};
  if (node == "subscribers") {
    const std::string* own = directory_.own_value(user, "subscribers");
    values["who"] = {own ? *own : "domain"};
  }
  if (node == "privacy") {
    const Settings::Privacy level = directory_.senders().chosen_privacy(user);
    values["level"] = {level == Settings::Privacy::exact  ? "exact"
                       : level == Settings::Privacy::wait ? "wait"
                                                          : "none"};
  }
  return values;
}

}  // namespace concierge::core
