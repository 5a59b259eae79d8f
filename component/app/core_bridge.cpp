// SPDX-License-Identifier: MIT
#include <component/app/core_bridge.hpp>

#include <component/app/redact.hpp>
#include <component/app/wall_clock.hpp>

namespace concierge::app {
namespace {

using Clock = std::chrono::steady_clock;

// The RFC 6120 condition of an error stanza Concierge sends ("undefined-condition" if none).
std::string error_condition(const xmpp::Element& stanza) {
  for (const auto& child : stanza.children) {
    if (child.name != "error") continue;
    for (const auto& c : child.children) {
      if (c.attr("xmlns") == "urn:ietf:params:xml:ns:xmpp-stanzas" && c.name != "text") {
        return c.name;
      }
    }
  }
  return "undefined-condition";
}

}  // namespace

CoreBridge::CoreBridge(Parts parts, Handlers handlers)
    : parts_(parts), handlers_(std::move(handlers)) {}

void CoreBridge::on_stanza(xmpp::Element&& stanza) {
  if (stanza.name == "iq" && stanza.attr("id").starts_with("release-")) {
    release_answered(std::string(stanza.attr("id")));
    return;
  }
  Logger& log = parts_.log;
  if (log.enabled(LogLevel::debug)) log.debug("in: " + redacted_xml(stanza));
  if (parts_.transparent.handle(stanza, wall_now(), parts_.router, outbox_)) {
    confirmed(parts_.transparent.take_confirmed());  // answers to release iqs
    flush(outbox_);
    return;
  }
  const std::size_t before = outbox_.stanzas.size();
  parts_.router.handle(stanza, wall_now(), outbox_);
  // Passes it may have ended are revoked before anything that follows from it.
  parts_.transparent.touched(stanza, wall_now(), parts_.router, outbox_, before);
  if (stanza.attr("to") == parts_.config.component.jid) {
    // Commands and registrations (to the component itself) may enrol or unenrol someone.
    parts_.transparent.enrolment_may_have_changed(parts_.router, wall_now(), outbox_);
  }
  flush(outbox_);
}

void CoreBridge::release_answered(const std::string& id) {
  if (auto holds = parts_.paced.release_answered(id)) {
    parts_.router.releaser().release_confirmed(*holds, wall_now(), outbox_);
    confirmed(*holds);
  }
  flush(outbox_);  // "your messages were delivered" notices
}

void CoreBridge::confirmed(const std::vector<std::int64_t>& holds) {
  if (holds.empty()) return;
  const std::size_t n = holds.size();
  parts_.log.info("the server took " + std::to_string(n) + " released message" +
                  (n == 1 ? "" : "s"));
  parts_.metrics.release_confirmed(holds, Clock::now());
}

void CoreBridge::on_too_deep(xmpp::Element&& top_level) {
  parts_.log.debug("received a <" + top_level.name + "> nested deeper than " +
                   std::to_string(xmpp::kMaxStanzaDepth) + " levels");
  parts_.router.handle_too_deep(top_level, outbox_);
  flush(outbox_);
}

void CoreBridge::flush(core::Outbox& out) {
  Logger& log = parts_.log;
  parts_.transparent.recheck_passes(wall_now(), parts_.router, out);
  parts_.transparent.rewrite(out);  // diverted messages' releases and notices, as that way needs
  for (const auto& line : out.logs) log.log(line.level, line.text);
  // The core's own refusals (each one error reply), not errors relayed back to a sender.
  std::uint64_t refusals = parts_.router.stats().refused - refused_seen_;
  refused_seen_ = parts_.router.stats().refused;
  for (auto& r : out.releases) {
    parts_.metrics.release_started(r.hold_id, Clock::now());
    parts_.paced.queue_release(std::move(r));
  }
  std::size_t next_forwarded = 0;
  for (std::size_t i = 0; i < out.stanzas.size(); ++i) {
    auto& stanza = out.stanzas[i];
    if (refusals > 0 && stanza.attr("type") == "error") {
      parts_.metrics.refused(error_condition(stanza));
      --refusals;
    }
    const bool forwarded =
        next_forwarded < out.forwarded.size() && out.forwarded[next_forwarded] == i;
    if (forwarded) ++next_forwarded;
    // Released messages to the same target are still going out (paced): this one follows them.
    if (forwarded && parts_.paced.follow_releases(stanza)) continue;
    if (log.enabled(LogLevel::debug)) log.debug("out: " + redacted_xml(stanza));
    parts_.stream.connection().send(stanza);
    if (forwarded) parts_.stream.keep_forwarded(stanza, wall_now());
  }
  parts_.paced.queue_probes(out.paced);
  parts_.commit.defer(out.after_commit);
  std::vector<core::Outbox::AdminRequest> admin = std::move(out.admin);
  std::vector<std::string> changed = std::move(out.schedule_changed);
  out.clear();
  for (const auto& jid : changed) handlers_.schedule_changed(jid);
  for (const auto& request : admin) handlers_.admin(request);
}

}  // namespace concierge::app
