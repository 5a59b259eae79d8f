// SPDX-License-Identifier: MIT
// EnrolmentDesk (enrolment_desk.hpp): enrolling and unenrolling a user (DESIGN §4), which reach
// into holds, presence and proxy subscriptions, and withdrawing a proxy address from
// subscribers who may no longer see it.
#include <component/core/command_table.hpp>
#include <component/core/enrolment_desk.hpp>
#include <component/core/remembered.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

namespace {

// `target`'s proxy address on `domain` is withdrawn from `subscribers` (unenrolled, or no
// longer allowed to see it): `unavailable`, then `unsubscribed`, to each.
template <typename Subscribers>
void withdraw_proxy(const std::string& domain, const std::string& target,
                    const Subscribers& subscribers, Outbox& out) {
  if (subscribers.empty()) return;
  auto jid = xmpp::Jid::parse(target);
  auto proxy = jid ? xmpp::proxy_jid(*jid, domain) : std::nullopt;
  for (const auto& subscriber : subscribers) {
    for (const char* type : {"unavailable", "unsubscribed"}) {
      xmpp::Element p("presence");
      p.set_attr("from", proxy ? proxy->bare_string() : domain);
      p.set_attr("to", subscriber);
      p.set_attr("type", type);
      out.send(std::move(p));
    }
  }
}

constexpr const char* kLeft = "they no longer use Concierge.";

}  // namespace

EnrolmentDesk::EnrolmentDesk(const Settings& settings, Store& store, Directory& directory,
                             Availability& availability, PresenceDesk& presences,
                             Scheduler& scheduler)
    : settings_(settings),
      store_(store),
      directory_(directory),
      availability_(availability),
      presences_(presences),
      scheduler_(scheduler) {}

void EnrolmentDesk::enrol(const std::string& bare, const std::string& timezone,
                          const std::optional<std::string>& url, Instant now, Outbox& out) {
  const bool inserted = directory_.enrol(bare, timezone, url, now);
  ask_to_compile(directory_, bare, out);
  out.log(LogLevel::info, std::string(inserted ? "enrolled " : "updated the enrolment of ") + bare);
  // XEP-0100: the gateway asks for the user's presence once registration succeeds.
  if (presences_.subscriptions().ask(bare)) {
    out.send(presences_.component_presence(bare, "subscribe"));
  }
}

void EnrolmentDesk::unenrol(const std::string& bare, Outbox& out) {
  forget(bare, out);
  out.log(LogLevel::info, "unenrolled " + bare);
}

void EnrolmentDesk::forget(const std::string& bare, Outbox& out) {
  scheduler_.bounce_holds(bare, kLeft, out);
  availability_.forget(bare);
  keep_pause(availability_, store_, bare);
  presences_.book().forget(bare);
  const std::set<std::string> subscribers = presences_.subscriptions().forget(bare);
  withdraw_proxy(settings_.component_domain, bare, subscribers, out);
  // Removing the user's data removes both directions of the subscription (XEP-0100 §4.3).
  out.send(presences_.component_presence(bare, "unsubscribe"));
  out.send(presences_.component_presence(bare, "unsubscribed"));
  directory_.unenrol(bare);
}

std::size_t EnrolmentDesk::subscribers_changed(const std::string& bare, Outbox& out) {
  const std::vector<std::string> dropped = presences_.subscriptions().proxies().drop_subscribers(
      bare,
      [&](const std::string& subscriber) { return directory_.may_subscribe(bare, subscriber); });
  if (dropped.empty()) return 0;
  withdraw_proxy(settings_.component_domain, bare, dropped, out);
  scheduler_.changed();  // their schedule's changes may matter no longer
  return dropped.size();
}

std::vector<std::string> EnrolmentDesk::leaving(const Settings& next) const {
  std::vector<std::string> leaving;
  for (const auto& user : settings_.enrolled) {
    if (!next.enrolled.count(user) && !directory_.enrolment(user)) leaving.push_back(user);
  }
  return leaving;
}

void EnrolmentDesk::removed_from_users(const std::string& bare, Outbox& out) {
  forget(bare, out);  // as if they had left themselves (DESIGN §12)
  out.log(LogLevel::info, "unenrolled " + bare + " (removed from [users])");
}

}  // namespace concierge::core
