// SPDX-License-Identifier: MIT
#include <component/core/transparent_way.hpp>

#include <algorithm>

#include <component/core/inbound.hpp>
#include <component/core/text.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {
namespace divert = xmpp::divert;
namespace {

constexpr std::string_view kStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
constexpr std::size_t kRememberedDiverts = 100000;  // held diverts a cancel can still find

// The defined condition, type and text of an error stanza.
divert::Refuse refusal_of(const xmpp::Element& error_stanza) {
  divert::Refuse r;
  const xmpp::Element* e = error_stanza.child("error");
  if (!e) return r;
  r.type = e->attr("type").empty() ? "cancel" : std::string(e->attr("type"));
  for (const auto& c : e->children) {
    if (c.is_text() || c.attr("xmlns") != kStanzas) continue;
    if (c.name == "text") {
      r.text = c.inner_text();
    } else if (r.condition.empty()) {
      r.condition = c.name;
    }
  }
  return r;
}

xmpp::Element iq_error(const xmpp::Element& iq, std::string_view type, std::string condition) {
  xmpp::Element e = xmpp::make("iq", {{"type", "error"},
                                      {"from", std::string(iq.attr("to"))},
                                      {"to", std::string(iq.attr("from"))},
                                      {"id", std::string(iq.attr("id"))}});
  xmpp::Element error = xmpp::make("error", {{"type", std::string(type)}});
  error.add_child(xmpp::make(std::move(condition), {{"xmlns", std::string(kStanzas)}}));
  e.add_child(std::move(error));
  return e;
}

std::string bare_of(std::string_view jid) {
  auto parsed = xmpp::Jid::parse(jid);
  return parsed ? lower(parsed->bare_string()) : std::string();
}

}  // namespace

void TransparentWay::reconfigure(const Settings& settings) {
  domain_ = settings.component_domain;
  served_ = settings.served_domains;
  open_ = settings.transparent_way;
  remote_ = settings.remote_senders;
  push_.reconfigure(domain_, served_);
  passes_.reconfigure(settings);
}

bool TransparentWay::from_extension(const xmpp::Element& stanza) const {
  auto from = xmpp::Jid::parse(stanza.attr("from"));
  return from && !from->has_local() && !from->has_resource() && served_.count(from->domain());
}

bool TransparentWay::handle(const xmpp::Element& stanza, Instant now, Router& router,
                            Outbox& out) {
  if (!from_extension(stanza)) {
    // The diverted mark is this way's alone: a sender who forges one (over s2s to a proxy
    // address, say) is taken as the proxy way takes them, without it.
    if (stanza.name != "message" || !diverted(stanza)) return false;
    xmpp::Element plain = stanza;
    plain.remove_children(kDivertedMark, divert::kNamespace);
    const std::size_t before = out.stanzas.size();
    router.handle(plain, now, out);
    touched(plain, now, router, out, before);
    return true;
  }
  if (stanza.name == "message") {
    if (!stanza.child("report", divert::kNamespace)) return false;
    if (open_) {
      for (const auto& r : divert::decode_reports(stanza)) report(r, now, router, out);
    }
    return true;  // reports are never answered
  }
  if (stanza.name != "iq") return false;
  const std::string_view type = stanza.attr("type");
  if (type == "result" || type == "error") {
    const std::string_view id = stanza.attr("id");
    if (id.starts_with("cr-")) return true;  // the answer to a revoke: nothing to do
    if (EnrolledPush::is_push_id(id)) {
      if (type == "error") out.log(LogLevel::warn, "a server extension refused the enrolled set");
      return true;
    }
    // An answer counts only from the extension the release went to.
    if (!releases_.count({lower(stanza.attr("from")), std::string(id)})) return false;
    release_answered(stanza, now, router, out);
    return true;
  }
  const bool ours = stanza.child("divert", divert::kNamespace) ||
                    stanza.child("cancel", divert::kNamespace);
  if (!ours) return false;
  if (!open_) {
    out.send(iq_error(stanza, "cancel", "service-unavailable"));
    return true;
  }
  if (auto d = divert::decode_divert(stanza)) {
    divert(*d, now, router, out);
  } else if (auto c = divert::decode_cancel(stanza)) {
    if (auto it = held_.find({lower(c->envelope.from), c->divert_id}); it != held_.end()) {
      if (router.scheduler().drop_hold(it->second)) out.log(LogLevel::info, "a cancelled divert's hold dropped");
      held_order_.erase(it->second);
      held_.erase(it);
    }
    out.send(divert::encode_result({domain_, c->envelope.from, c->envelope.id}));
  } else {
    out.send(iq_error(stanza, "modify", "bad-request"));
  }
  return true;
}

xmpp::Element TransparentWay::verdict(const divert::Divert& d,
                                      decltype(divert::Verdict::decision) decision) const {
  return divert::encode(divert::Verdict{{domain_, d.envelope.from, d.envelope.id}, d.divert_id,
                                        std::move(decision)});
}

void TransparentWay::divert(const divert::Divert& d, Instant now, Router& router, Outbox& out) {
  const auto sender = xmpp::Jid::parse(d.message.attr("from"));
  const auto target = xmpp::Jid::parse(d.message.attr("to"));
  const bool local_sender = sender && served_.count(sender->domain());
  // Senders of other servers are scheduled only with served.remote (DESIGN §11): notices to
  // them leave over s2s, and they learn at most that it will wait (privacy, §7).
  auto proxy = target ? xmpp::proxy_jid(target->bare(), domain_) : std::nullopt;
  if (!sender || !target || !proxy || (!local_sender && !remote_) ||
      !router.directory().enrolled(lower(target->bare_string()))) {
    out.send(verdict(d, divert::Deliver{}));
    return;
  }
  // The message as the proxy way would carry it, marked with what the release needs.
  xmpp::Element m = d.message;
  m.remove_attr("xmlns");
  m.set_attr("to", target->has_resource() ? proxy->bare_string() + "/" + target->resource()
                                          : proxy->bare_string());
  m.add_child(xmpp::make(std::string(kDivertedMark),
                         {{"xmlns", std::string(divert::kNamespace)},
                          {"id", d.divert_id},
                          {"token", d.token},
                          {"from", std::string(d.message.attr("from"))},
                          {"to", std::string(d.message.attr("to"))}}));
  const std::string sender_bare = lower(sender->bare_string());
  const std::string target_bare = lower(target->bare_string());
  diverted_pairs_.insert({sender_bare, target_bare});

  Outbox turn;
  const std::int64_t newest = router.scheduler().holds().newest_id();
  const std::uint64_t dropped = router.stats().dropped;
  router.handle(m, now, turn);
  bool forwarded = false;
  std::optional<divert::Refuse> refused;
  for (std::size_t i = 0; i < turn.stanzas.size(); ++i) {
    const auto& s = turn.stanzas[i];
    const bool is_forward =
        std::find(turn.forwarded.begin(), turn.forwarded.end(), i) != turn.forwarded.end();
    if (is_forward && diverted(s)) forwarded = true;
    if (s.attr("type") == "error" && s.attr("to") == d.message.attr("from") &&
        s.attr("id") == d.message.attr("id")) {
      refused = refusal_of(s);
    }
  }
  const bool held = router.scheduler().holds().newest_id() > newest;
  const bool dropped_now = router.stats().dropped > dropped;
  passes_.recheck({sender_bare, target_bare}, now, router, out);  // before the verdict
  if (held) {
    // `held` only once the hold is committed (DESIGN §6): with the turn's notices.
    const std::int64_t hold_id = router.scheduler().holds().newest_id();
    ExtensionId key{lower(d.envelope.from), d.divert_id};
    held_[key] = hold_id;
    held_order_[hold_id] = std::move(key);
    while (held_order_.size() > kRememberedDiverts) {
      held_.erase(held_order_.begin()->second);
      held_order_.erase(held_order_.begin());
    }
    // Several diverts of one turn may share (from, id): a client that sends no ids.
    uncommitted_.emplace(
        std::pair{std::string(d.message.attr("from")), std::string(d.message.attr("id"))},
        Pending{d.divert_id, d.envelope.id, {domain_, d.envelope.from, d.envelope.id}});
    turn.after_commit.insert(turn.after_commit.begin(), verdict(d, divert::Held{d.token}));
  } else if (refused && refused->condition == "resource-constraint" &&
             router.scheduler().commits().failing()) {
    out.send(verdict(d, divert::Deliver{}));  // the store cannot commit: fail open
  } else if (refused) {
    out.send(verdict(d, *refused));
  } else if (forwarded) {
    // The extension delivers its own copy, and the next plain ones while a pass holds.
    out.send(verdict(d, divert::Deliver{passes_.grant(sender_bare, target_bare, now, router)}));
  } else if (dropped_now) {
    // Dropped (bodiless, not to go now): nothing here to hold it, so it goes as if Concierge
    // were not there.
    out.send(verdict(d, divert::Deliver{}));
  } else {
    // Taken in without a hold of its own: a correction or retraction applied to a held copy.
    turn.after_commit.insert(turn.after_commit.begin(), verdict(d, divert::Held{d.token}));
  }
  const std::string from(d.message.attr("from")), id(d.message.attr("id"));
  merge(turn,
        [&](const xmpp::Element& s, bool is_forward) {
          return (is_forward && diverted(s)) ||
                 (s.attr("type") == "error" && s.attr("to") == from && s.attr("id") == id);
        },
        out);
}

void TransparentWay::report(const divert::Report& r, Instant now, Router& router, Outbox& out) {
  const auto sender = xmpp::Jid::parse(r.from);
  const auto to = xmpp::Jid::parse(r.to);
  if (!sender || !to || (!served_.count(sender->domain()) && !remote_)) return;
  auto proxy = xmpp::proxy_jid(to->bare(), domain_);
  if (!proxy) return;
  const std::string sender_bare = lower(sender->bare_string());
  const std::string to_bare = lower(to->bare_string());
  const bool to_enrolled = router.directory().enrolled(to_bare);
  // Without its body: a placeholder says there was one, only where nothing can be held — a
  // message to an enrolled user that was reported, not diverted, must not be held here, so
  // one a pass let through is a message that is never held (`no-store`).
  xmpp::Element m = xmpp::make("message", {{"from", r.from},
                                           {"to", proxy->bare_string()},
                                           {"type", r.type},
                                           {"id", r.id}});
  if (r.has_body && (!to_enrolled || r.passed)) m.add_child(xmpp::make("body"));
  if (r.passed) m.add_child(xmpp::make("no-store", {{"xmlns", "urn:xmpp:hints"}}));
  if (!r.chat_state.empty()) {
    m.add_child(xmpp::make(r.chat_state, {{"xmlns", "http://jabber.org/protocol/chatstates"}}));
  }
  m.add_child(xmpp::make(std::string(kDivertedMark), {{"xmlns", std::string(divert::kNamespace)}}));
  if (m.children.size() == 1) {  // nothing the Router would learn from
    passes_.recheck({sender_bare}, now, router, out);
    return;
  }
  diverted_pairs_.insert({sender_bare, to_bare});
  if (r.passed && !passes_.holds(sender_bare, to_bare, now)) {
    out.log(LogLevel::debug, "a message went through on a pass revoked on its way");
  }
  Outbox turn;
  router.handle(m, now, turn);
  passes_.recheck({sender_bare, to_bare}, now, router, out);
  // What it relays is delivered already; a report is never answered.
  merge(turn,
        [&](const xmpp::Element& s, bool is_forward) {
          return is_forward || (s.attr("type") == "error" && s.attr("to") == r.from);
        },
        out);
}

void TransparentWay::merge(Outbox& from, const DropRule& drop, Outbox& out) const {
  std::size_t next = 0;
  for (std::size_t i = 0; i < from.stanzas.size(); ++i) {
    const bool forwarded = next < from.forwarded.size() && from.forwarded[next] == i;
    if (forwarded) ++next;
    auto& s = from.stanzas[i];
    if (drop(s, forwarded)) continue;
    if (forwarded) {
      out.forward(std::move(s));
    } else {
      out.send(std::move(s));
    }
  }
  for (auto& s : from.after_commit) out.after_commit.push_back(std::move(s));
  for (auto& r : from.releases) out.releases.push_back(std::move(r));
  for (auto& l : from.logs) out.logs.push_back(std::move(l));
  for (auto& p : from.paced) out.paced.push_back(std::move(p));
  for (auto& a : from.admin) out.admin.push_back(std::move(a));
  for (auto& u : from.schedule_changed) out.schedule_changed.push_back(std::move(u));
}

void TransparentWay::from_component(xmpp::Element& stanza) const {
  if (stanza.name != "message" || stanza.attr("type") == "error") return;
  const auto body = stanza.child_text("body");
  if (!body || !body->starts_with("Concierge:")) return;
  const auto from = xmpp::Jid::parse(stanza.attr("from"));
  const auto target = from ? xmpp::user_from_proxy(from->bare(), domain_) : std::nullopt;
  if (!target) return;
  if (!diverted_pairs_.count({bare_of(stanza.attr("to")), lower(target->bare_string())})) return;
  stanza.set_attr("from", domain_);  // the text names the target (B's own JID would be forged)
}

std::set<std::string> TransparentWay::rewrite(Outbox& out) {
  std::set<std::string> withdrawn;
  for (auto& r : out.releases) {
    xmpp::Element* mark = r.stanza.child(kDivertedMark, divert::kNamespace);
    if (!mark) continue;
    divert::Release release;
    release.divert_id = mark->attr("id");
    release.token = mark->attr("token");
    Released answer{r.hold_id, std::string(mark->attr("from")), std::string(mark->attr("to")),
                    std::string(r.stanza.attr("id"))};
    const auto target = xmpp::Jid::parse(answer.to);
    diverted_pairs_.insert({bare_of(answer.from), bare_of(answer.to)});
    r.stanza.remove_children(kDivertedMark, divert::kNamespace);
    r.stanza.set_attr("from", answer.from);
    r.stanza.set_attr("to", answer.to);
    release.message = std::move(r.stanza);
    release.envelope = {domain_, target ? target->domain() : std::string(),
                        "tr-" + std::to_string(r.hold_id) + "-" + std::to_string(++next_release_)};
    releases_[{lower(release.envelope.to), release.envelope.id}] = std::move(answer);
    r.stanza = divert::encode(release);
  }
  for (auto& s : out.stanzas) {
    // An error for a hold of this turn that the store could not commit: fail open.
    if (s.attr("type") == "error" && s.name == "message" && !uncommitted_.empty()) {
      // Each refused hold has its error: the first of its key takes it, in any order.
      auto it = uncommitted_.find({std::string(s.attr("to")), std::string(s.attr("id"))});
      if (it != uncommitted_.end()) {
        s = divert::encode(divert::Verdict{it->second.verdict_envelope, it->second.divert_id,
                                           divert::Deliver{}});
        withdrawn.insert(it->second.verdict_iq);
        uncommitted_.erase(it);
        continue;
      }
    }
    from_component(s);
  }
  for (auto& s : out.after_commit) from_component(s);
  return withdrawn;
}

void TransparentWay::release_answered(const xmpp::Element& iq, Instant now, Router& router,
                                      Outbox& out) {
  auto it = releases_.find({lower(iq.attr("from")), std::string(iq.attr("id"))});
  const Released r = std::move(it->second);
  releases_.erase(it);
  const auto answer = divert::decode_release_answer(iq);
  if (!answer || answer->outcome == divert::ReleaseAnswer::Outcome::kTaken) {
    router.releaser().release_confirmed({r.hold_id}, now, out);  // the server has it
    confirmed_.push_back(r.hold_id);
    return;
  }
  if (answer->outcome == divert::ReleaseAnswer::Outcome::kBounced) {
    // As the proxy way sees a bounce: from the target to the sender's proxy, same id.
    const auto sender = xmpp::Jid::parse(r.from);
    auto proxy = sender ? xmpp::proxy_jid(sender->bare(), domain_) : std::nullopt;
    if (!proxy) return;
    xmpp::Element bounce = xmpp::make(
        "message", {{"type", "error"}, {"from", r.to}, {"to", proxy->bare_string()}, {"id", r.id}});
    xmpp::Element error = xmpp::make("error", {{"type", "cancel"}});
    error.add_child(xmpp::make(answer->condition.empty() ? "service-unavailable" : answer->condition,
                               {{"xmlns", std::string(kStanzas)}}));
    bounce.add_child(std::move(error));
    router.handle(bounce, now, out);
    return;
  }
  // A refused token or an unreadable release: retrying cannot help.
  out.log(LogLevel::error, "the server extension refused a release (" + answer->condition +
                               "); the held message is dropped — check its release key");
  router.scheduler().drop_hold(r.hold_id);
}

void TransparentWay::connected(const Router& router, Instant now, Outbox& out) {
  if (!open_) return;
  if (!std::exchange(recalled_, true)) recall_held(router);
  push_.push(router.directory().enrolled_users(), now, out);
}

void TransparentWay::recall_held(const Router& router) {
  for (const auto& target : router.directory().enrolled_users()) {
    for (const Hold& h : router.scheduler().holds_for(target)) {
      if (h.stanza.find(divert::kNamespace) == std::string::npos) continue;  // not diverted
      const auto stanza = xmpp::parse_xml(h.stanza);
      const xmpp::Element* mark = stanza ? stanza->child(kDivertedMark, divert::kNamespace) : nullptr;
      const auto to = mark ? xmpp::Jid::parse(mark->attr("to")) : std::nullopt;
      if (!to || mark->attr("id").empty()) continue;
      // The extension that diverted it is the target's server's.
      ExtensionId key{lower(to->domain()), std::string(mark->attr("id"))};
      held_[key] = h.id;
      held_order_[h.id] = std::move(key);
      diverted_pairs_.insert({bare_of(mark->attr("from")), lower(to->bare_string())});
    }
  }
}

void TransparentWay::enrolment_may_have_changed(const Router& router, Instant now, Outbox& out) {
  if (!open_) return;
  passes_.recheck_all(now, router, out);
  push_.push_changed(router.directory().enrolled_users(), now, out);
}

}  // namespace concierge::core
