// SPDX-License-Identifier: MIT
#pragma once

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
  // Stanzas that may wait: probes and announcements after connecting, sent by app/ at
  // presence.probe_rate so a large user base does not flood the server.
  std::vector<xmpp::Element> paced;
  std::vector<LogLine> logs;

  void send(xmpp::Element stanza) { stanzas.push_back(std::move(stanza)); }
  void log(LogLevel level, std::string text) { logs.push_back({level, std::move(text)}); }
  void clear() {
    stanzas.clear();
    paced.clear();
    logs.clear();
  }
};

}  // namespace concierge::core
