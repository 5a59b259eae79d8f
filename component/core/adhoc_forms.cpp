// SPDX-License-Identifier: MIT
// CommandTable: XEP-0050 ad-hoc commands on the component's bare JID, with XEP-0004 forms — the
// same table as the chat commands (command_table.cpp), for clients that offer a command menu.
// Stateless: a command that needs input answers with a form, and the submitted form carries
// everything (the session id is only echoed). A submitted form becomes the chat command line
// ("hours Mon-Fri 09:00-17:00") and runs through the same code, so a form and its chat twin cannot
// disagree.
#include <component/core/command_table.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>
#include <component/core/texts.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kCommands = "http://jabber.org/protocol/commands";
constexpr std::string_view kData = "jabber:x:data";

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
  x.add_child(xmpp::make_text("title", command.title));
  if (!instructions.empty()) x.add_child(xmpp::make_text("instructions", instructions));
  for (const FormField& field : command.fields) {
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
  std::string line = command.name;  // the chat command of the same name
  for (const FormField& field : command.fields) {
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

bool CommandTable::adhoc(const xmpp::Element& stanza, const xmpp::Jid& from, Instant now,
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
  if (!actions_.served(from) || !from.has_local()) {
    refuse(stanza, Refusal::sender_not_served,
           "Concierge serves only users of its own server's domains.", out);
    return true;
  }
  const std::string user = lower(from.bare_string());
  const bool admin = admin_.is_admin(user);
  const Settings& settings = rooms_.settings;
  const Directory& directory = rooms_.directory;
  xmpp::Element reply = iq_result(stanza);
  ++stats_.answered;

  if (listing) {  // XEP-0050 §2.2: the commands this requester may run, as disco items
    xmpp::Element items = xmpp::make("query", {{"xmlns", "http://jabber.org/protocol/disco#items"},
                                               {"node", std::string(kCommands)}});
    const bool newcomer = !directory.enrolled(user);
    auto item = [&](const Command& c) {
      items.add_child(xmpp::make(
          "item", {{"jid", settings.component_domain}, {"node", c.name}, {"name", c.title}}));
    };
    // Someone not enrolled yet sees Enrol first: nothing else works before it.
    for (const auto& c : commands_) {
      if (newcomer && std::string_view(c.name) == "enrol") item(c);
    }
    for (const auto& c : commands_) {
      if (!newcomer || std::string_view(c.name) != "enrol") item(c);
    }
    if (admin) {
      for (const auto& c : admin_.commands()) item(c);
    }
    reply.add_child(std::move(items));
    out.send(std::move(reply));
    return true;
  }
  if (stanza.attr("type") != "set") {
    refuse(stanza, Refusal::bad_request, "Execute a command with an iq of type set.", out);
    return true;
  }
  const Command* command = find(query->attr("node"));
  if (command && query->attr("node") != command->name) command = nullptr;  // nodes: names only
  if (!command) {
    refuse(stanza, Refusal::target_not_enrolled, "No such command.", out);
    return true;
  }
  if (command->who == MayRun::admins && !admin) {
    refuse(stanza, Refusal::admins_only, "Only Concierge's admins may use this command.", out);
    return true;
  }
  const std::string session = query->find_attr("sessionid") ? std::string(query->attr("sessionid"))
                                                            : std::string(command->name) + "-" +
                                                                  std::to_string(++adhoc_sessions_);
  xmpp::Element result = xmpp::make(
      "command",
      {{"xmlns", std::string(kCommands)}, {"node", command->name}, {"sessionid", session}});
  if (query->attr("action") == "cancel") {
    result.set_attr("status", "canceled");
    reply.add_child(std::move(result));
    out.send(std::move(reply));
    return true;
  }
  const xmpp::Element* form = query->child("x", kData);
  const bool submitted = form && form->attr("type") == "submit";
  std::string missing;
  std::optional<std::string> line = std::string(command->name);
  if (!command->fields.empty()) {
    line = submitted ? command_line(*command, *form, missing) : std::nullopt;
  }
  // Unenrol asks first, saying what it sends back, when there is something to lose.
  const bool unenrol = std::string_view(command->name) == "unenrol";
  const bool may_unenrol = unenrol && directory.enrolment(user) && !directory.by_config(user);
  if (unenrol && !may_unenrol) line = std::string(command->name);  // answered: cannot
  // Shows the form (again): pre-filled with what is in force, or with what was submitted.
  auto ask = [&](const FormValues& values, const std::string& note_type, const std::string& note) {
    result.set_attr("status", "executing");
    xmpp::Element actions = xmpp::make("actions", {{"execute", "complete"}});
    actions.add_child(xmpp::Element("complete"));
    result.add_child(std::move(actions));
    if (!note.empty()) result.add_child(xmpp::make_text("note", note, {{"type", note_type}}));
    result.add_child(make_form(
        *command, values,
        may_unenrol ? texts::unenrol_warning(actions_.holds_for(user).size()) : std::string()));
    reply.add_child(std::move(result));
    out.send(std::move(reply));
    return true;
  };
  auto submitted_values = [&]() {
    FormValues values;
    for (const FormField& field : command->fields) {
      if (form) values[field.var] = form_values(*form, field.var);
    }
    return values;
  };
  if (!line) {
    // Ask for what the command needs (again, naming what was missing).
    if (!missing.empty()) return ask(submitted_values(), "error", texts::form_fill_in(missing));
    return ask(form_defaults(user, command->name), "", "");
  }
  auto complete = [&](const std::string& note) {
    result.set_attr("status", "completed");
    result.add_child(xmpp::make_text("note", note, {{"type", "info"}}));
    reply.add_child(std::move(result));
    out.send(std::move(reply));
    return true;
  };
  if (may_unenrol && *line != "unenrol confirm") return complete(texts::still_enrolled());
  if (!actions_.allow(user, now)) {
    refuse(stanza, Refusal::rate_limited, std::string(kTooFast), out);
    return true;
  }
  bool refused = false;
  auto text = run(user, from.full_string(), *line, now, out, true, refused);
  // Bad input: the form again, with the reason as an error note (XEP-0050 §3.4).
  if (refused && !command->fields.empty()) {
    return ask(submitted_values(), "error", text.value_or(texts::form_done()));
  }
  return complete(text.value_or(texts::form_done()));
}

FormValues CommandTable::form_defaults(const std::string& user, std::string_view node) const {
  FormValues values;
  const Directory& directory = rooms_.directory;
  auto source = directory.schedule_source(user);
  if (!source) return values;  // not enrolled: nothing is in force
  if (node == "enrol" || node == "timezone") values["timezone"] = {source->zone};
  // The user's own URL, as the XEP-0077 form shows it.
  const Enrolment* enrolment = directory.enrolment(user);
  if (node == "enrol" && enrolment && !enrolment->calendar_url.empty()) {
    values["calendar_url"] = {enrolment->calendar_url};
  }
  if (node == "calendar" && !directory.admin_set(user, "calendar") && !source->url.empty()) {
    values["url"] = {source->url};
  }
  if (node == "hours" && !source->hours.empty()) values["hours"] = {source->hours};
  if (node == "kind") values["kind"] = {source->personal ? "personal" : "work"};
  if (node == "through") {
    const auto list = directory.always_through(user);
    values["jids"] = std::vector<std::string>(list.begin(), list.end());
  }
  if (node == "urgent")
    values["from"] = {directory.urgent_from_anyone(user) ? "anyone" : "always_through"};
  if (node == "subscribers") {
    const std::string* own = directory.own_value(user, "subscribers");
    values["who"] = {own ? *own : "domain"};
  }
  if (node == "privacy") {
    const Settings::Privacy level = directory.senders().chosen_privacy(user);
    values["level"] = {level == Settings::Privacy::exact  ? "exact"
                       : level == Settings::Privacy::wait ? "wait"
                                                          : "none"};
  }
  return values;
}

}  // namespace concierge::core
