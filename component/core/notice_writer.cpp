// SPDX-License-Identifier: MIT
// NoticeWriter (notice_writer.hpp): what senders are told (DESIGN §2, §7) — the hold notice
// once per hold episode (again only when the reason changes), "delivered", the reply notice of
// the patent's last step, and the times in them.
#include <algorithm>
#include <cstdio>

#include <component/core/notice_writer.hpp>
#include <component/core/service_info.hpp>
#include <ical/zone.hpp>

namespace concierge::core {

NoticeWriter::NoticeWriter(const SchedulerRooms& rooms, const HoldBook& holds)
    : rooms_(rooms), holds_(holds), book_(rooms.store) {}

std::string NoticeWriter::when(Instant t, const std::string& sender, const std::string& target,
                               Instant now) const {
  // The sender's zone when known (they are enrolled), else the target's, named.
  std::string zone_name;
  bool named = false;
  zone_name = rooms_.directory.zone_of(sender);
  if (zone_name.empty()) {
    zone_name = rooms_.directory.zone_of(target);
    named = true;
  }
  auto zone = zone_name.empty() ? ical::Zone::utc() : ical::find_zone(zone_name);
  if (!zone) zone = ical::Zone::utc();
  const ical::LocalSeconds local = zone->to_local(to_utc_seconds(t));
  const std::int64_t days = ical::floor_days(local);
  const ical::CivilDate d = ical::civil_from_days(days);
  const std::int64_t secs = local - days * ical::kSecondsPerDay;
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  char buf[64];
  if (t - now < std::chrono::days(6)) {
    std::snprintf(buf, sizeof buf, "%s %02d:%02d", kDays[ical::weekday_from_days(days)],
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%s %04d-%02d-%02d %02d:%02d", kDays[ical::weekday_from_days(days)],
                  d.year, d.month, d.day, static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60));
  }
  std::string text = buf;
  if (named || zone_name.empty()) text += " (" + (zone_name.empty() ? "UTC" : zone_name) + ")";
  return text;
}

xmpp::Element NoticeWriter::notice(const std::string& target, const std::string& to,
                                   const std::string& text) const {
  // The way in addresses it: in proxy mode from the target's proxy address (DESIGN §2).
  return rooms_.proxy.notice(target, to, text);
}

std::size_t NoticeWriter::queue_position(const std::string& sender, const std::string& target) const {
  const auto* ids = holds_.of_target(target);
  if (!ids) return 1;
  std::vector<std::string> order;
  for (std::int64_t id : *ids) {
    const Hold& h = holds_.at(id);
    if (h.state != HoldState::held || h.reason != HoldReason::queue || holds_.in_flight(id)) {
      continue;  // released (on its way out) is no longer in line
    }
    if (std::find(order.begin(), order.end(), h.sender) == order.end()) order.push_back(h.sender);
  }
  auto it = std::find(order.begin(), order.end(), sender);
  return static_cast<std::size_t>(it - order.begin()) + 1;
}

void NoticeWriter::hold_notice(const std::string& sender, const std::string& target,
                               HoldReason reason, Instant now, Outbox& out) {
  if (!book_.tell(sender, target, reason)) return;  // once per hold episode (or new reason)
  // Privacy (DESIGN §7): exact times for the target's own domain by default; others only
  // learn that the message waits.
  const Settings::Privacy privacy = rooms_.directory.senders().privacy_for(target, sender);
  const std::string who = name_of(target);
  const bool pool = target.ends_with("@" + rooms_.settings.component_domain);
  std::string text;
  if (pool) {  // a pool's line: no one's schedule to protect
    text = "Concierge: everyone at " + target + " is busy; you are #" +
           std::to_string(queue_position(sender, target)) + " in line.";
  } else if (privacy == Settings::Privacy::none) {
    text = "Concierge: your message to " + who + " will be delivered later.";
  } else if (privacy == Settings::Privacy::wait) {
    text = "Concierge: " + who + " can't take messages right now; your message will wait and "
           "be delivered later.";
  } else if (reason == HoldReason::queue) {
    // "in another conversation" only when there is one: dnd alone, a slot kept for a
    // conversation released from the line, or a line that has not moved yet is "busy" — just
    // as private, and true.
    const auto peers = rooms_.sessions.peers(target, now);
    const bool conversing =
        std::any_of(peers.begin(), peers.end(), [&](const std::string& p) { return p != sender; });
    text = "Concierge: " + who + (conversing ? " is in another conversation" : " is busy") +
           "; you are #" + std::to_string(queue_position(sender, target)) + " in line.";
  } else if (reason == HoldReason::offline) {
    text = "Concierge: " + who + " is offline; your message will be delivered when they are back.";
  } else {
    const char* state = reason == HoldReason::away ? "away" : reason == HoldReason::busy ? "busy" : "off";
    auto back = rooms_.availability.next_working(target, now);
    text = "Concierge: " + who + " is " + state +
           (back ? " until " + when(*back, sender, target, now) + "; your message will be delivered then."
                 : " for now; your message will be delivered when they are back at work.");
  }
  out.after_commit.push_back(notice(target, sender, text));
}

void NoticeWriter::reply_notice(const std::string& replier, const std::string& to, Instant now,
                                Outbox& out) {
  if (!rooms_.directory.enrolled(replier)) return;
  // The patent's last step: B answers A outside B's working time, or shortly before it ends:
  // A learns once when B is next available.
  const ical::Status status = rooms_.availability.status_of(replier, now);
  std::optional<Instant> ends;
  if (status == ical::Status::working) {
    const ical::Schedule* schedule = rooms_.availability.schedule_of(replier);
    if (!schedule) return;
    auto change = schedule->next_change_after(to_utc_seconds(now));
    if (!change || from_utc_seconds(*change) - now > rooms_.settings.notice_before_end) return;
    ends = from_utc_seconds(*change);
  }
  auto back = rooms_.availability.next_working(replier, ends.value_or(now) + std::chrono::seconds(1));
  if (!back) return;
  if (!book_.tell_reply(to, replier, *back)) return;
  if (rooms_.directory.senders().privacy_for(replier, to) != Settings::Privacy::exact) return;  // times only if allowed
  const std::string back_at = when(*back, to, replier, now);
  out.send(notice(replier, to,
                  ends ? "Concierge: " + name_of(replier) + "'s working time ends soon; back " + back_at + "."
                       : "Concierge: " + name_of(replier) + " answered outside working time; back " +
                             back_at + "."));
}

void NoticeWriter::expect_delivery(const std::string& sender, const std::string& target,
                                   const std::vector<std::int64_t>& ids) {
  if (!book_.told(sender, target)) return;  // never told of a hold: nothing to close
  if (rooms_.directory.senders().privacy_for(target, sender) == Settings::Privacy::none) return;
  book_.expect_delivery(sender, target, ids);
}

void NoticeWriter::delivered(const std::string& sender, const std::string& target, Outbox& out) {
  const auto count = book_.delivered(sender, target);
  if (!count) return;
  const std::size_t n = *count;
  out.send(notice(target, sender,
                  n == 1 ? "Concierge: your held message to " + name_of(target) + " was delivered."
                         : "Concierge: your " + std::to_string(n) + " held messages to " +
                               name_of(target) + " were delivered."));
}

}  // namespace concierge::core
