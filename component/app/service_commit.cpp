// SPDX-License-Identifier: MIT
// Service: the group commit at the end of every loop turn (DESIGN §6) and what depends on it.
#include <algorithm>

#include <component/app/service.hpp>

namespace concierge::app {

void Service::commit_turn() {
  // Everything this turn wrote, in one transaction; only then may the senders be told that
  // their messages are held.
  const bool committed = store_.commit();
  if (committed) {
    router_.commit_succeeded(outbox_);
    transparent_.committed();
    if (!after_commit_.empty() && connection_.connected()) {  // else: with the next stream
      for (const auto& stanza : after_commit_) connection_.send(stanza);
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
    const auto withdrawn = router_.commit_failed(outbox_);
    // Diverts whose holds were refused: `deliver` instead of the `held` verdicts waiting here.
    const auto verdicts = transparent_.rewrite(outbox_);
    std::erase_if(after_commit_, [&](const xmpp::Element& notice) {
      return withdrawn.count({std::string(notice.attr("from")), std::string(notice.attr("to"))}) !=
                 0 ||
             (notice.name == "iq" && verdicts.count(std::string(notice.attr("id"))) != 0);
    });
  }
  flush(outbox_);
  commit_failed_ = !committed;
}

}  // namespace concierge::app
