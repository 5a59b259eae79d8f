// SPDX-License-Identifier: MIT
#pragma once
// What the component answers about itself (disco, version, ping, help); pure functions of
// the settings, owning no state and touching no user's.

#include <optional>
#include <string>
#include <string_view>

#include <component/core/refusal.hpp>
#include <component/core/settings.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

// What a sender over limits.messages_per_sender_per_minute is told.
inline constexpr std::string_view kTooFast = "You are sending too fast; wait a minute and send again.";

// Namespaces the component and its proxies answer for.
inline constexpr std::string_view kDiscoInfo = "http://jabber.org/protocol/disco#info";
inline constexpr std::string_view kDiscoItems = "http://jabber.org/protocol/disco#items";
inline constexpr std::string_view kVersion = "jabber:iq:version";
inline constexpr std::string_view kPing = "urn:xmpp:ping";

// The answer to an iq get/set: a reply stanza, or a refusal with its text.
struct IqAnswer {
  xmpp::Element reply;
  std::optional<Refusal> refusal;
  std::string text;
};

// Disco info/items (XEP-0030), version (XEP-0092) and ping (XEP-0199), on the component
// (`proxy_target` null) or on the proxy of an enrolled user.
IqAnswer answer_iq(const xmpp::Element& iq, const xmpp::Jid* proxy_target,
                   const Settings& settings);

// An empty iq result answering `iq`: addresses swapped, same id.
xmpp::Element iq_result(const xmpp::Element& iq);

// A chat message Concierge sends of its own: `no_store` adds the XEP-0334 hint its notices
// carry (DESIGN §12).
xmpp::Element chat_message(std::string from, std::string to, std::string body,
                           bool no_store = false);

// The answer to `message`, a chat command sent to the component's bare JID: from the
// component, to the sender, in the same type and thread.
xmpp::Element command_answer(const xmpp::Element& message, std::string text,
                             const Settings& settings);

// The text answering "help", "?", an empty message, or a word that is no command. `domain`:
// the asker's (served) domain, used in the examples; empty: the first served domain.
std::string help_or_unknown(std::string_view body, const Settings& settings,
                            std::string_view domain = {});

std::string help_text(const Settings& settings, std::string_view domain = {});

}  // namespace concierge::core
