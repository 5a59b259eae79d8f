// SPDX-License-Identifier: MIT
#pragma once
// TransparentWay: the second way in (DESIGN §10, transparent delivery) — the adapter between
// the server extension's divert protocol (xmpp/server/PROTOCOL.md, xmpp/divert.hpp) and the
// Router, which decides, holds, releases and words notices without knowing how a message
// arrived. A divert is handed to the Router as the proxy way would carry it (from the real
// sender to proxy(target)), with a <diverted/> mark that rides along in the held copy (so a
// held message remembers its divert id, token and original addresses in the store, no new
// column); what the Router answers is turned back: a forward into `deliver`, a hold into
// `held` (after the commit), an error into `refuse`; a released copy into a release iq;
// notices about a diverted conversation come from the component's bare JID. Owns only the
// protocol's bookkeeping (diverts held, release iqs awaiting an answer, conversations that
// arrived this way); must not touch the Router's books except through its public verbs.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <component/core/enrolled_push.hpp>
#include <component/core/outbox.hpp>
#include <component/core/pass_book.hpp>
#include <component/core/router.hpp>
#include <component/core/settings.hpp>
#include <component/core/time.hpp>
#include <xmpp/divert.hpp>
#include <xmpp/element.hpp>

namespace concierge::core {

class TransparentWay {
 public:
  explicit TransparentWay(const Settings& settings) { reconfigure(settings); }
  void reconfigure(const Settings& settings);

  // A stanza of the divert protocol (a divert or cancel iq, a report, the answer to a release
  // or an enrolled push): handled, and true; false for anything else (the Router's). With
  // the transparent way closed (served.mode = "proxy"), diverts and cancels are answered
  // service-unavailable and reports dropped.
  bool handle(const xmpp::Element& stanza, Instant now, Router& router, Outbox& out);

  // The stream is up: the enrolled set goes to every served domain's extension. The first
  // time (a start or a takeover), what this way remembers of the diverted copies held in the
  // store comes back from them: their conversations and their divert ids, for cancel.
  void connected(const Router& router, Instant now, Outbox& out);
  // Something may have changed who is enrolled (a command, a registration, a reload): the
  // set goes again when it differs from the last one pushed.
  void enrolment_may_have_changed(const Router& router, Instant now, Outbox& out);

  // A stanza that was not this way's went to the Router: what it did may have ended passes.
  // Its revokes go into `out` at `at`, before what the Router answered to it.
  void touched(const xmpp::Element& stanza, Instant now, const Router& router, Outbox& out,
               std::size_t at) {
    passes_.touched(stanza, now, router, out, at);
  }
  // Every outbox before app/ sends it, before rewrite(): holds made and schedules changed since
  // the last call may have ended passes.
  void recheck_passes(Instant now, const Router& router, Outbox& out) {
    passes_.recheck_changed(now, router, out);
  }

  // Every outbox before app/ sends it: released copies of diverted messages become release
  // iqs to the sender's server, notices about diverted conversations come from the
  // component's bare JID, errors refusing a held divert because the store failed become
  // `deliver` (fail open). Returns the ids of `held` verdicts that must now not go out.
  std::set<std::string> rewrite(Outbox& out);
  // The ids of a release iq and of a verdict (app/ filters withdrawn verdicts by it).
  static bool is_release_id(std::string_view id) { return id.starts_with("tr-"); }
  // The turn's commit succeeded: the `held` verdicts that waited for it are final.
  void committed() { uncommitted_.clear(); }
  // The holds whose release iqs the extensions answered as taken since the last call: the
  // answer is the confirmation (no ping follows a release iq), app/ counts them.
  std::vector<std::int64_t> take_confirmed() { return std::exchange(confirmed_, {}); }
  // The stream is gone: release iqs in flight will never be answered (their holds are held
  // again by the Router and go out anew).
  void disconnected() {
    releases_.clear();
    passes_.clear();
  }
  const PassBook& passes() const { return passes_; }

 private:
  struct Pending {  // a divert held, until its commit
    std::string divert_id;
    std::string verdict_iq;  // the id of the iq its `held` verdict answers
    xmpp::divert::Envelope verdict_envelope;
  };
  // An iq id is the sender's alone: a divert id is unique only within its extension, so each
  // is kept with the extension's address (a served domain) it came from or went to.
  using ExtensionId = std::pair<std::string, std::string>;  // (extension, id)
  struct Released {  // a release iq awaiting the extension's answer
    std::int64_t hold_id;
    std::string from;  // the original message's addresses and id
    std::string to;
    std::string id;
  };

  void divert(const xmpp::divert::Divert& d, Instant now, Router& router, Outbox& out);
  void report(const xmpp::divert::Report& r, Instant now, Router& router, Outbox& out);
  void release_answered(const xmpp::Element& iq, Instant now, Router& router, Outbox& out);
  // Stanzas of `from` (one call into the Router for a diverted or reported message) into
  // `out`, the forwarded ones and errors to `sender` dropped, notices rewritten.
  using DropRule = std::function<bool(const xmpp::Element&, bool forwarded)>;
  void merge(Outbox& from, const DropRule& drop, Outbox& out) const;
  // A notice from proxy(target) to a sender of a diverted conversation: from the component.
  void from_component(xmpp::Element& stanza) const;
  // The verdict iq answering `d`.
  xmpp::Element verdict(const xmpp::divert::Divert& d, decltype(xmpp::divert::Verdict::decision)) const;
  // The bookkeeping of the diverted copies held in the store (see connected()).
  void recall_held(const Router& router);
  // An extension's address: a served domain, no local part.
  bool from_extension(const xmpp::Element& stanza) const;

  std::string domain_;  // the component's
  std::set<std::string> served_;
  bool open_ = false;
  bool remote_ = false;
  // (extension, divert id) → hold id, for cancel (bounded: a cancel follows its divert
  // within seconds).
  std::map<ExtensionId, std::int64_t> held_;
  std::map<std::int64_t, ExtensionId> held_order_;  // hold id → its key in held_, oldest first
  // Errors the core may still send for holds of this turn (StoreFaults::failed): (to, id).
  std::multimap<std::pair<std::string, std::string>, Pending> uncommitted_;
  std::map<ExtensionId, Released> releases_;  // by (extension, release iq id)
  std::uint64_t next_release_ = 0;
  std::vector<std::int64_t> confirmed_;  // see take_confirmed()
  bool recalled_ = false;                // recall_held() ran
  // (sender, target) bare JIDs of conversations that arrived diverted.
  std::set<std::pair<std::string, std::string>> diverted_pairs_;
  EnrolledPush push_;
  PassBook passes_;
};

}  // namespace concierge::core
