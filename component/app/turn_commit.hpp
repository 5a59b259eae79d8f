// SPDX-License-Identifier: MIT
#pragma once
// TurnCommit: the group commit at the end of every loop turn (DESIGN §6) and what may go out
// only after it — the notices telling senders their messages are held. When the store refuses
// a commit, the core withdraws the holds it lacked and their notices never go.
// Owns: the notices waiting for the turn's commit and whether the last commit failed. Must not
// touch: the core's state other than through StoreFaults::succeeded / failed and
// TransparentWay's, the stream other than sending those notices, or the lease.

#include <vector>

#include <component/app/logger.hpp>
#include <component/app/stream_supervisor.hpp>
#include <component/core/outbox.hpp>
#include <component/core/router.hpp>
#include <component/core/store_port.hpp>
#include <component/core/transparent_way.hpp>

namespace concierge::app {

class TurnCommit {
 public:
  // Everything must outlive this.
  TurnCommit(core::Store& store, core::Router& router, core::TransparentWay& transparent,
             StreamSupervisor& stream, Logger& log);

  // Notices of this turn that may go only once it committed.
  void defer(std::vector<xmpp::Element>& notices);
  // Commits the turn's writes; the core's answer goes into `out` (the caller flushes it).
  void commit(core::Outbox& out);
  // A new term (takeover): the previous one's notices are not this instance's to send.
  void drop() { after_commit_.clear(); }

 private:
  core::Store& store_;
  core::Router& router_;
  core::TransparentWay& transparent_;
  StreamSupervisor& stream_;
  Logger& log_;
  std::vector<xmpp::Element> after_commit_;
  bool commit_failed_ = false;
};

}  // namespace concierge::app
