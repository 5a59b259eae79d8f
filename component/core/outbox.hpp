// SPDX-License-Identifier: MIT
#pragma once
// Outbox: what one call into the core asks app/ to do; plain values, owns nothing of the core's
// state, and the core never reads it back.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xmpp/element.hpp>

namespace concierge::core {

enum class LogLevel { error, warn, info, debug };

// What the core asks the outside world to do after one input: stanzas to send, in order, and
// log lines (never with message bodies or secrets in them). app/ drains it after every call.
struct Outbox {
  struct LogLine {
    LogLevel level;
    std::string text;
  };
  std::vector<xmpp::Element> stanzas;
  // Which of `stanzas` are messages forwarded at once (not held), by index: app/ keeps those
  // in memory until a ping answer confirms them and sends them again after a reconnect
  // (DESIGN §6).
  std::vector<std::size_t> forwarded;
  // Stanzas that may wait: probes and announcements after connecting, sent by app/ at
  // presence.probe_rate so a large user base does not flood the server.
  std::vector<xmpp::Element> paced;
  std::vector<LogLine> logs;
  // Notices that tell a sender their message is held: they may go out only once the hold is
  // committed (DESIGN §6), so app/ sends them after the turn's commit succeeded.
  std::vector<xmpp::Element> after_commit;
  // Held messages going out, in order, each with its hold's id: app/ sends them at
  // release.rate, then a ping; the answer confirms them (Router::release_confirmed).
  struct Release {
    std::int64_t hold_id;
    xmpp::Element stanza;
  };
  std::vector<Release> releases;
  // What only app/ can do, asked for by an admin command: re-read the config and schedules
  // (as SIGHUP), or back the store up. `reply_to` gets a chat message with the outcome.
  struct AdminRequest {
    enum class Kind { reload, backup } kind;
    std::string reply_to;
  };
  std::vector<AdminRequest> admin;
  // Users whose calendar source changed (enrolled with a URL, or updated it): fetch and
  // compile their schedule again.
  std::vector<std::string> schedule_changed;

  void send(xmpp::Element stanza) { stanzas.push_back(std::move(stanza)); }
  void forward(xmpp::Element stanza) {
    forwarded.push_back(stanzas.size());
    stanzas.push_back(std::move(stanza));
  }
  void log(LogLevel level, std::string text) { logs.push_back({level, std::move(text)}); }
  void clear() {
    stanzas.clear();
    forwarded.clear();
    paced.clear();
    logs.clear();
    after_commit.clear();
    releases.clear();
    admin.clear();
    schedule_changed.clear();
  }
};

}  // namespace concierge::core
