// SPDX-License-Identifier: MIT
#include <component/app/turn_commit.hpp>

#include <algorithm>

namespace concierge::app {

TurnCommit::TurnCommit(core::Store& store, core::Router& router, core::TransparentWay& transparent,
                       StreamSupervisor& stream, Logger& log)
    : store_(store), router_(router), transparent_(transparent), stream_(stream), log_(log) {}

void TurnCommit::defer(std::vector<xmpp::Element>& notices) {
  for (auto& stanza : notices) after_commit_.push_back(std::move(stanza));
}

void TurnCommit::commit(core::Outbox& out) {
  // Everything this turn wrote, in one transaction; only then may the senders be told that
  // their messages are held.
  const bool committed = store_.commit();
  if (committed) {
    router_.scheduler().commits().succeeded(out);
    transparent_.committed();
    if (!after_commit_.empty() && stream_.connected()) {  // else: with the next stream
      for (const auto& stanza : after_commit_) stream_.connection().send(stanza);
      after_commit_.clear();
    }
  } else {
    if (!commit_failed_) {
      const std::string why = store_.commit_error();
      log_.error("the store refused a commit" + (why.empty() ? "" : " (" + why + ")") +
                 "; messages that would be held are refused to their senders until it commits "
                 "again; retrying every second");
    }
    // The holds this commit lacked are refused to their senders; their notices must not go.
    const auto withdrawn = router_.scheduler().commits().failed(out);
    // Diverts whose holds were refused: `deliver` instead of the `held` verdicts waiting here.
    const auto verdicts = transparent_.rewrite(out);
    std::erase_if(after_commit_, [&](const xmpp::Element& notice) {
      return withdrawn.count({std::string(notice.attr("from")), std::string(notice.attr("to"))}) !=
                 0 ||
             (notice.name == "iq" && verdicts.count(std::string(notice.attr("id"))) != 0);
    });
  }
  commit_failed_ = !committed;
}

}  // namespace concierge::app
