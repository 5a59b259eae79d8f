// SPDX-License-Identifier: MIT
// Router: XEP-0050 ad-hoc commands on the component's bare JID, with XEP-0004 forms — the same
// commands as the chat ones (status, pause, end, when, held, cancel), for clients that offer a
// command menu. Stateless: a command that needs input answers with a form, and the submitted
// form carries everything (the session id is only echoed).
#include <algorithm>

#include <component/core/router.hpp>
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>

namespace concierge::core {
namespace {

constexpr std::string_view kCommands = "http://jabber.org/protocol/commands";
constexpr std::string_view kData = "jabber:x:data";

struct Command {
  const char* node;
  const char* name;
  const char* field;  // the one form field it asks for, or nullptr
  const char* label;
  bool required;
};
constexpr Command kList[] = {
    {"status", "My status and next change", nullptr, nullptr, false},
    {"pause", "Pause (hold messages for a while)", "duration", "For how long (30m, 2h; 0 ends it)", true},
    {"end", "End my pause or my conversations", nullptr, nullptr, false},
    {"when", "When is someone free?", "jid", "Their address (user@domain)", true},
    {"privacy", "What others learn of my schedule", "level", "exact, wait or none", true},
    {"block", "Block a sender", "jid", "Their address (user@domain)", true},
    {"unblock", "Unblock a sender", "jid", "Their address (user@domain)", true},
    {"blocked", "Whom I block", nullptr, nullptr, false},
    {"held", "What I sent that is held", nullptr, nullptr, false},
    {"stats", "Admin: statistics", nullptr, nullptr, false},
    {"queues", "Admin: held messages per target", nullptr, nullptr, false},
    {"reload", "Admin: reload config and schedules", nullptr, nullptr, false},
    {"backup", "Admin: back up the store", nullptr, nullptr, false},
    {"cancel", "Cancel what I sent that is held", "jid", "Only to (user@domain; empty: all)", false},
};

const Command* find_command(std::string_view node) {
  for (const auto& c : kList) {
    if (node == c.node) return &c;
  }
  return nullptr;
}

std::string form_value(const xmpp::Element& form, std::string_view var) {
  for (const auto& f : form.children) {
    if (f.name == "field" && f.attr("var") == var) return f.child_text("value").value_or("");
  }
  return {};
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
  xmpp::Element reply = iq_result(stanza);
  ++stats_.answered;

  if (listing) {  // XEP-0050 §2.2: the commands, as disco items of their node
    xmpp::Element items = xmpp::make("query", {{"xmlns", "http://jabber.org/protocol/disco#items"},
                                               {"node", std::string(kCommands)}});
    for (const auto& c : kList) {
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
  if (command->field && (!form || form->attr("type") != "submit")) {
    // Ask for the one value the command needs.
    result.set_attr("status", "executing");
    xmpp::Element actions = xmpp::make("actions", {{"execute", "complete"}});
    actions.add_child(xmpp::Element("complete"));
    result.add_child(std::move(actions));
    xmpp::Element x = xmpp::make("x", {{"xmlns", std::string(kData)}, {"type", "form"}});
    x.add_child(xmpp::make_text("title", command->name));
    xmpp::Element f = xmpp::make("field", {{"var", command->field},
                                           {"type", std::string(command->field) == "jid" ? "jid-single"
                                                                                        : "text-single"},
                                           {"label", command->label}});
    if (command->required) f.add_child(xmpp::Element("required"));
    x.add_child(std::move(f));
    result.add_child(std::move(x));
    reply.add_child(std::move(result));
    out.send(std::move(reply));
    return true;
  }
  std::string line = command->node;
  if (command->field) {
    std::string value = trim(form_value(*form, command->field));
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!value.empty()) line += " " + value;
  }
  const std::string user = [&] {
    std::string b = a.from.bare_string();
    std::transform(b.begin(), b.end(), b.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return b;
  }();
  auto text = hold_command(user, line);
  if (!text) text = user_command(user, line, now, out);
  if (!text) text = admin_command(user, a.from.full_string(), line, now, out);
  result.set_attr("status", "completed");
  result.add_child(xmpp::make_text("note", text.value_or("Done."), {{"type", "info"}}));
  reply.add_child(std::move(result));
  out.send(std::move(reply));
  return true;
}

}  // namespace concierge::core
