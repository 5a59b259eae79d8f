// SPDX-License-Identifier: MIT
#pragma once
// Registration: enrolment by XEP-0077 in-band registration, and XEP-0100's jabber:iq:gateway
// (a user's proxy address), on the component's bare JID (DESIGN §4). It owns nothing but the
// forms' wording; it reads the Directory and asks the Router (RegistrationActions) to enrol and
// unenrol. It must not change the Directory, holds or presence itself.

#include <functional>
#include <optional>
#include <string>

#include <component/core/directory.hpp>
#include <component/core/outbox.hpp>
#include <component/core/refusal.hpp>
#include <component/core/router_types.hpp>
#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

struct RegistrationActions {
  // `jid` is of a served domain.
  std::function<bool(const xmpp::Jid& jid)> served;
  // Enrols or updates `user` (an empty `url`: none) and unenrols them (their holds bounce).
  std::function<void(const std::string& user, const std::string& zone,
                     const std::optional<std::string>& url, Instant now, Outbox& out)>
      enrol;
  std::function<void(const std::string& user, Outbox& out)> unenrol;
};

class Registration {
 public:
  // The references must outlive it (the Router's members).
  Registration(const Settings& settings, const Directory& directory, RegistrationActions actions,
               RouterStats& stats)
      : settings_(settings), directory_(directory), actions_(std::move(actions)), stats_(stats) {}

  // Answers `iq` from `from` when it is a registration or gateway request; false otherwise.
  bool handle(const xmpp::Element& iq, const xmpp::Jid& from, Instant now, Outbox& out);

 private:
  void gateway(const xmpp::Element& iq, const xmpp::Element& query, Outbox& out);
  // The form to enrol, with what is in force.
  void form(const xmpp::Element& iq, const std::string& user, Outbox& out) const;
  void refuse(const xmpp::Element& iq, Refusal refusal, const std::string& text, Outbox& out);

  const Settings& settings_;
  const Directory& directory_;
  RegistrationActions actions_;
  RouterStats& stats_;  // answered, refused
};

}  // namespace concierge::core
