// SPDX-License-Identifier: MIT
#pragma once
// CoreBridge: where the stream meets the core. Stanzas go in to the server extension's way
// (TransparentWay) or the Router with the wall-clock instant they arrived; what the core puts
// in its outbox goes out to the part that owns it — stanzas to the stream (forwarded ones kept
// until confirmed), releases and probes to the PacedSender, held notices to the TurnCommit,
// changed schedules and admin requests to the Service's handlers — and the metrics see the
// refusals and releases on the way.
// Owns: the turn's outbox and the count of refusals already seen. Must not touch: the loop,
// the lease, the store (the core writes it), or any decision about a message (the core's).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <component/app/logger.hpp>
#include <component/app/metrics.hpp>
#include <component/app/paced_sender.hpp>
#include <component/app/stream_supervisor.hpp>
#include <component/app/turn_commit.hpp>
#include <component/core/outbox.hpp>
#include <component/core/router.hpp>
#include <component/core/transparent_way.hpp>
#include <config/config.hpp>

namespace concierge::app {

class CoreBridge {
 public:
  struct Handlers {
    std::function<void(const std::string& jid)> schedule_changed;
    std::function<void(const core::Outbox::AdminRequest&)> admin;
  };
  struct Parts {  // everything must outlive the bridge
    const config::Config& config;
    core::Router& router;
    core::TransparentWay& transparent;
    HoldMetrics& metrics;
    StreamSupervisor& stream;
    PacedSender& paced;
    TurnCommit& commit;
    Logger& log;
  };
  CoreBridge(Parts parts, Handlers handlers);
  CoreBridge(const CoreBridge&) = delete;
  CoreBridge& operator=(const CoreBridge&) = delete;

  // The outbox every call into the core writes to; flush() empties it.
  core::Outbox& outbox() { return outbox_; }
  void on_stanza(xmpp::Element&& stanza);
  void on_too_deep(xmpp::Element&& top_level);
  void flush() { flush(outbox_); }
  void flush(core::Outbox& out);

 private:
  // The answer to a release-… ping: the core confirms those holds.
  void release_answered(const std::string& id);
  // The server took these released holds (a ping's or a release iq's answer): log, metrics.
  void confirmed(const std::vector<std::int64_t>& holds);

  Parts parts_;
  Handlers handlers_;
  core::Outbox outbox_;
  std::uint64_t refused_seen_ = 0;  // the core's refusals already counted by condition
};

}  // namespace concierge::app
