// SPDX-License-Identifier: MIT
#include <component/core/service_info.hpp>
#include <component/core/text.hpp>

#include <algorithm>
#include <cctype>

namespace concierge::core {
namespace {

// What a proxy really supports: it relays these payloads untouched (DESIGN §7).
constexpr std::string_view kProxyFeatures[] = {
    kDiscoInfo,
    kPing,
    "http://jabber.org/protocol/chatstates",
    "urn:xmpp:receipts",
    "urn:xmpp:chat-markers:0",
    "urn:xmpp:attention:0",
};
constexpr std::string_view kComponentFeatures[] = {
    kDiscoInfo, kDiscoItems, kVersion, kPing, "jabber:iq:register", "jabber:iq:gateway",
    "http://jabber.org/protocol/commands",
};

const xmpp::Element* payload_of(const xmpp::Element& iq) {
  for (const auto& c : iq.children) {
    if (!c.is_text() && c.name != "error") return &c;
  }
  return nullptr;
}

IqAnswer refusal(Refusal r, std::string text) { return {xmpp::Element{}, r, std::move(text)}; }

}  // namespace

xmpp::Element iq_result(const xmpp::Element& iq) {
  xmpp::Element reply("iq");
  reply.set_attr("type", "result");
  reply.set_attr("from", iq.attr("to"));
  reply.set_attr("to", iq.attr("from"));
  if (const auto* id = iq.find_attr("id")) reply.set_attr("id", *id);
  return reply;
}

IqAnswer answer_iq(const xmpp::Element& iq, const xmpp::Jid* proxy_target,
                   const Settings& settings) {
  const xmpp::Element* payload = payload_of(iq);
  if (!payload) return refusal(Refusal::bad_request, "This iq carries no request.");
  const std::string_view xmlns = payload->attr("xmlns");
  const bool get = iq.attr("type") == "get";
  xmpp::Element reply = iq_result(iq);

  if (get && payload->name == "query" && xmlns == kDiscoInfo) {
    if (payload->find_attr("node")) return refusal(Refusal::feature_not_implemented, "No such node.");
    xmpp::Element query = xmpp::make("query", {{"xmlns", std::string(kDiscoInfo)}});
    if (proxy_target) {
      query.add_child(xmpp::make("identity", {{"category", "client"},
                                              {"type", "pc"},
                                              {"name", proxy_target->bare_string() +
                                                           " via Concierge"}}));
      for (auto f : kProxyFeatures) query.add_child(xmpp::make("feature", {{"var", std::string(f)}}));
    } else {
      query.add_child(xmpp::make(
          "identity", {{"category", "component"}, {"type", "generic"}, {"name", "Concierge"}}));
      for (auto f : kComponentFeatures) {
        query.add_child(xmpp::make("feature", {{"var", std::string(f)}}));
      }
    }
    reply.add_child(std::move(query));
    return {std::move(reply), std::nullopt, {}};
  }
  if (get && payload->name == "query" && xmlns == kDiscoItems) {
    if (payload->find_attr("node")) return refusal(Refusal::feature_not_implemented, "No such node.");
    reply.add_child(xmpp::make("query", {{"xmlns", std::string(kDiscoItems)}}));
    return {std::move(reply), std::nullopt, {}};
  }
  if (get && payload->name == "ping" && xmlns == kPing) {
    return {std::move(reply), std::nullopt, {}};
  }
  if (get && !proxy_target && payload->name == "query" && xmlns == kVersion) {
    reply.add_child(xmpp::make("query", {{"xmlns", std::string(kVersion)}},
                               {xmpp::make_text("name", "Concierge"),
                                xmpp::make_text("version", settings.version)}));
    return {std::move(reply), std::nullopt, {}};
  }
  return refusal(Refusal::feature_not_implemented,
                 "Concierge does not offer this service at this address.");
}

std::string help_text(const Settings& settings, std::string_view domain) {
  // Examples on the reader's own domain (else the first served one), so that the addresses
  // shown are ones that work here.
  std::string d(domain);
  if (d.empty() && !settings.served_domains.empty()) d = *settings.served_domains.begin();
  if (d.empty()) d = "example.org";
  return "Concierge relays your one-to-one chats with people who publish their working time.\n"
         "To write to bob@" + d + ", write to bob\\40" + d + "@" + settings.component_domain +
         " (the address with @ written as \\40).\n"
         "Commands you can send here (your client's command menu has the same, as forms):\n"
         "  help - this text\n"
         "  enrol Europe/Berlin [https://…/work.ics] - start using Concierge; unenrol - stop\n"
         "  status - your status, its next change and your week; settings - what you set\n"
         "  timezone Europe/Berlin - your time zone\n"
         "  calendar https://…/work.ics - your calendar's address (calendar none removes it);\n"
         "    or paste the .ics text itself as a message\n"
         "  hours Mon-Fri 09:00-17:00 - your weekly hours (hours none removes them)\n"
         "  kind work|personal - your calendar lists working time, or appointments\n"
         "  through a@" + d + ", b@" + d + " - your always-through list (urgent senders)\n"
         "  urgent always_through|anyone - who may send you urgent messages\n"
         "  subscribers domain|served|nobody|a@" + d + " - who may see your status\n"
         "  privacy exact|wait|none - what senders learn of your schedule\n"
         "  pause 30m - hold messages to you for a while (pause 0 ends it)\n"
         "  end - end your pause, or your current conversations\n"
         "  when user@domain - when that person is next free\n"
         "  block user@domain / unblock user@domain / blocked - your blocklist\n"
         "  waiting - what is held for you (who sent it, how long ago)\n"
         "  held - what you sent that is waiting for delivery\n"
         "  cancel [user@domain] - withdraw what you sent that is waiting";
}

std::string help_or_unknown(std::string_view body, const Settings& settings,
                            std::string_view domain) {
  const std::string command = lower(trim(body));
  if (command == "help" || command == "?" || command.empty()) return help_text(settings, domain);
  std::string word = command.substr(0, command.find_first_of(" \t\r\n"));
  if (word.size() > 40) word = word.substr(0, 40) + "…";
  return "Unknown command \"" + word + "\". Send help to see what I can do.";
}

xmpp::Element chat_message(std::string from, std::string to, std::string body, bool no_store) {
  xmpp::Element m("message");
  m.set_attr("from", std::move(from));
  m.set_attr("to", std::move(to));
  m.set_attr("type", "chat");
  m.add_child(xmpp::make_text("body", std::move(body)));
  if (no_store) m.add_child(xmpp::make("no-store", {{"xmlns", "urn:xmpp:hints"}}));
  return m;
}

xmpp::Element command_answer(const xmpp::Element& message, std::string text,
                             const Settings& settings) {
  xmpp::Element reply = chat_message(settings.component_domain, std::string(message.attr("from")),
                                     std::move(text));
  if (message.attr("type") != "chat") reply.set_attr("type", "normal");
  if (const auto* thread = message.child("thread")) reply.children.insert(reply.children.begin(), *thread);
  return reply;
}

}  // namespace concierge::core
