// SPDX-License-Identifier: MIT
#include <xmpp/divert.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>

namespace concierge::xmpp::divert {
namespace {

constexpr std::string_view kForward = "urn:xmpp:forward:0";
constexpr std::string_view kDelay = "urn:xmpp:delay";
constexpr std::string_view kClient = "jabber:client";
constexpr std::string_view kStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";

Element stanza(std::string name, std::string_view type, const Envelope& env) {
  Element e(std::move(name));
  if (!type.empty()) e.set_attr("type", type);
  if (!env.id.empty()) e.set_attr("id", env.id);
  e.set_attr("from", env.from);
  e.set_attr("to", env.to);
  return e;
}

Envelope envelope_of(const Element& e) {
  return {std::string(e.attr("from")), std::string(e.attr("to")), std::string(e.attr("id"))};
}

Element payload(std::string name) {
  Element e(std::move(name));
  e.set_attr("xmlns", kNamespace);
  return e;
}

// The protocol element `name` of a stanza `stanza_name` of type `type` ("" = any).
const Element* find_payload(const Element& s, std::string_view stanza_name, std::string_view type,
                            std::string_view name) {
  if (s.name != stanza_name) return nullptr;
  if (!type.empty() && s.attr("type") != type) return nullptr;
  return s.child(name, kNamespace);
}

// <forwarded><message xmlns="jabber:client"/></forwarded> as a value; nullptr when absent.
const Element* forwarded_message(const Element& parent) {
  const Element* fwd = parent.child("forwarded", kForward);
  return fwd ? fwd->child("message", kClient) : nullptr;
}

Element forwarded(Element message, std::string_view stamp = {}) {
  Element fwd("forwarded");
  fwd.set_attr("xmlns", kForward);
  if (!stamp.empty())
    fwd.add_child(make("delay", {{"xmlns", std::string(kDelay)}, {"stamp", std::string(stamp)}}));
  message.set_attr("xmlns", kClient);
  fwd.add_child(std::move(message));
  return fwd;
}

template <typename Number>
std::optional<Number> number(std::string_view text) {
  Number n{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

const Element* first_element(const Element& e) {
  for (const Element& c : e.children)
    if (!c.is_text()) return &c;
  return nullptr;
}

}  // namespace

Element encode(const Divert& d) {
  Element p = payload("divert");
  p.set_attr("id", d.divert_id);
  p.set_attr("token", d.token);
  p.add_child(forwarded(d.message, d.stamp));
  Element iq = stanza("iq", "set", d.envelope);
  iq.add_child(std::move(p));
  return iq;
}

std::optional<Divert> decode_divert(const Element& iq) {
  const Element* p = find_payload(iq, "iq", "set", "divert");
  const Element* msg = p ? forwarded_message(*p) : nullptr;
  if (!msg || p->attr("id").empty() || p->attr("token").empty()) return std::nullopt;
  const Element* delay = p->child("forwarded", kForward)->child("delay", kDelay);
  return Divert{envelope_of(iq), std::string(p->attr("id")), std::string(p->attr("token")),
                delay ? std::string(delay->attr("stamp")) : std::string(), *msg};
}

Element encode(const Verdict& v) {
  Element p = payload("verdict");
  p.set_attr("id", v.divert_id);
  if (const auto* deliver = std::get_if<Deliver>(&v.decision)) {
    Element d("deliver");
    if (const auto& pass = deliver->pass) {
      Element e = make("pass", {{"scope", pass->scope == Pass::Scope::any ? "any" : "sender"},
                                {"ttl", std::to_string(pass->ttl_ms)}});
      if (!pass->urgent_prefix.empty()) e.set_attr("urgent-prefix", pass->urgent_prefix);
      d.add_child(std::move(e));
    }
    p.add_child(std::move(d));
  } else if (const auto* held = std::get_if<Held>(&v.decision)) {
    p.add_child(make("held", {{"token", held->token}}));
  } else {
    const auto& refuse = std::get<Refuse>(v.decision);
    p.add_child(
        make_text("refuse", refuse.text, {{"type", refuse.type}, {"condition", refuse.condition}}));
  }
  Element iq = stanza("iq", "result", v.envelope);
  iq.add_child(std::move(p));
  return iq;
}

std::optional<Verdict> decode_verdict(const Element& iq) {
  const Element* p = find_payload(iq, "iq", "result", "verdict");
  const Element* d = p ? first_element(*p) : nullptr;
  if (!d || p->attr("id").empty()) return std::nullopt;
  Verdict v{envelope_of(iq), std::string(p->attr("id")), Deliver{}};
  if (d->name == "deliver") {
    if (const Element* e = d->child("pass")) {
      const std::string_view scope = e->attr("scope");
      std::uint32_t ttl = 0;
      const std::string_view t = e->attr("ttl");
      if ((scope != "any" && scope != "sender") || t.empty() || t.size() > 9 ||
          t.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
      }
      for (char c : t) ttl = ttl * 10 + static_cast<std::uint32_t>(c - '0');
      v.decision = Deliver{Pass{scope == "any" ? Pass::Scope::any : Pass::Scope::sender, ttl,
                                std::string(e->attr("urgent-prefix"))}};
    }
    return v;
  }
  if (d->name == "held" && !d->attr("token").empty()) {
    v.decision = Held{std::string(d->attr("token"))};
    return v;
  }
  if (d->name == "refuse" && !d->attr("condition").empty()) {
    std::string type(d->attr("type"));
    v.decision =
        Refuse{type.empty() ? "cancel" : type, std::string(d->attr("condition")), d->inner_text()};
    return v;
  }
  return std::nullopt;
}

Element encode(const Cancel& c) {
  Element p = payload("cancel");
  p.set_attr("id", c.divert_id);
  Element iq = stanza("iq", "set", c.envelope);
  iq.add_child(std::move(p));
  return iq;
}

std::optional<Cancel> decode_cancel(const Element& iq) {
  const Element* p = find_payload(iq, "iq", "set", "cancel");
  if (!p || p->attr("id").empty()) return std::nullopt;
  return Cancel{envelope_of(iq), std::string(p->attr("id"))};
}

Element encode(const Report& r) {
  Element p = payload("report");
  p.set_attr("from", r.from);
  p.set_attr("to", r.to);
  p.set_attr("type", r.type);
  if (!r.id.empty()) p.set_attr("id", r.id);
  if (!r.chat_state.empty()) p.set_attr("chat-state", r.chat_state);
  if (r.has_body) p.set_attr("has-body", "true");
  if (r.passed) p.set_attr("passed", "true");
  Element m = stanza("message", "normal", r.envelope);
  m.add_child(std::move(p));
  return m;
}

namespace {

std::optional<Report> report_of(const Element& message, const Element& p) {
  if (p.attr("from").empty() || p.attr("to").empty()) return std::nullopt;
  std::string type(p.attr("type"));
  return Report{envelope_of(message),        std::string(p.attr("from")),
                std::string(p.attr("to")),   type.empty() ? "normal" : type,
                std::string(p.attr("id")),   std::string(p.attr("chat-state")),
                p.attr("has-body") == "true", p.attr("passed") == "true"};
}

}  // namespace

std::optional<Report> decode_report(const Element& message) {
  const Element* p = find_payload(message, "message", "", "report");
  return p ? report_of(message, *p) : std::nullopt;
}

std::vector<Report> decode_reports(const Element& message) {
  std::vector<Report> reports;
  if (message.name != "message") return reports;
  for (const Element& c : message.children) {
    if (c.is_text() || c.name != "report" || c.attr("xmlns") != kNamespace) continue;
    if (auto r = report_of(message, c)) reports.push_back(std::move(*r));
  }
  return reports;
}

Element encode(const Revoke& r) {
  Element p = payload("revoke");
  for (const auto& pass : r.passes) {
    Element e = make("pass", {{"to", pass.to}});
    if (!pass.from.empty()) e.set_attr("from", pass.from);
    p.add_child(std::move(e));
  }
  Element iq = stanza("iq", "set", r.envelope);
  iq.add_child(std::move(p));
  return iq;
}

std::optional<Revoke> decode_revoke(const Element& iq) {
  const Element* p = find_payload(iq, "iq", "set", "revoke");
  if (!p) return std::nullopt;
  Revoke r{envelope_of(iq), {}};
  for (const auto& c : p->children) {
    if (c.is_text() || c.name != "pass") continue;
    if (c.attr("to").empty()) return std::nullopt;
    r.passes.push_back({std::string(c.attr("to")), std::string(c.attr("from"))});
  }
  return r;
}

Element encode(const Release& r) {
  Element p = payload("release");
  p.set_attr("id", r.divert_id);
  p.set_attr("token", r.token);
  p.add_child(forwarded(r.message));
  Element iq = stanza("iq", "set", r.envelope);
  iq.add_child(std::move(p));
  return iq;
}

std::optional<Release> decode_release(const Element& iq) {
  const Element* p = find_payload(iq, "iq", "set", "release");
  const Element* msg = p ? forwarded_message(*p) : nullptr;
  if (!msg || p->attr("id").empty()) return std::nullopt;
  return Release{envelope_of(iq), std::string(p->attr("id")), std::string(p->attr("token")), *msg};
}

Element encode(const ReleaseAnswer& a) {
  using Outcome = ReleaseAnswer::Outcome;
  if (a.outcome == Outcome::kTaken) return stanza("iq", "result", a.envelope);
  Element iq = stanza("iq", "error", a.envelope);
  Element error("error");
  error.set_attr("type", a.outcome == Outcome::kForbidden ? "auth"
                         : a.outcome == Outcome::kBounced ? "cancel"
                                                          : "modify");
  std::string condition = a.condition.empty()
                              ? (a.outcome == Outcome::kForbidden ? "forbidden" : "bad-request")
                              : a.condition;
  error.add_child(make(condition, {{"xmlns", std::string(kStanzas)}}));
  if (a.outcome == Outcome::kBounced) error.add_child(payload("bounced"));
  iq.add_child(std::move(error));
  return iq;
}

std::optional<ReleaseAnswer> decode_release_answer(const Element& iq) {
  using Outcome = ReleaseAnswer::Outcome;
  if (iq.name != "iq") return std::nullopt;
  if (iq.attr("type") == "result") return ReleaseAnswer{envelope_of(iq), Outcome::kTaken, {}};
  if (iq.attr("type") != "error") return std::nullopt;
  ReleaseAnswer a{envelope_of(iq), Outcome::kRejected, {}};
  if (const Element* error = iq.child("error")) {
    for (const Element& c : error->children)
      if (!c.is_text() && c.attr("xmlns") == kStanzas && c.name != "text") {
        a.condition = c.name;
        break;
      }
    if (error->child("bounced", kNamespace)) a.outcome = Outcome::kBounced;
  }
  if (a.outcome != Outcome::kBounced && a.condition == "forbidden") a.outcome = Outcome::kForbidden;
  return a;
}

Element encode(const EnrolledChunk& c) {
  Element p = payload("enrolled");
  p.set_attr("generation", std::to_string(c.generation));
  p.set_attr("chunk", std::to_string(c.chunk));
  p.set_attr("chunks", std::to_string(c.chunks));
  for (const std::string& user : c.users) p.add_child(make("user", {{"jid", user}}));
  Element iq = stanza("iq", "set", c.envelope);
  iq.add_child(std::move(p));
  return iq;
}

std::optional<EnrolledChunk> decode_enrolled_chunk(const Element& iq) {
  const Element* p = find_payload(iq, "iq", "set", "enrolled");
  if (!p) return std::nullopt;
  auto generation = number<std::uint64_t>(p->attr("generation"));
  auto chunk = number<std::uint32_t>(p->attr("chunk"));
  auto chunks = number<std::uint32_t>(p->attr("chunks"));
  if (!generation || !chunk || !chunks || *chunk < 1 || *chunk > *chunks) return std::nullopt;
  EnrolledChunk c{envelope_of(iq), *generation, *chunk, *chunks, {}};
  for (const Element& u : p->children)
    if (u.name == "user" && !u.attr("jid").empty()) c.users.emplace_back(u.attr("jid"));
  return c;
}

Element encode(const EnrolledState& s) {
  Element p = payload("enrolled");
  p.set_attr("generation", std::to_string(s.generation));
  p.set_attr("count", std::to_string(s.count));
  Element iq = stanza("iq", "result", s.envelope);
  iq.add_child(std::move(p));
  return iq;
}

std::optional<EnrolledState> decode_enrolled_state(const Element& iq) {
  const Element* p = find_payload(iq, "iq", "result", "enrolled");
  if (!p) return std::nullopt;
  auto generation = number<std::uint64_t>(p->attr("generation"));
  auto count = number<std::uint64_t>(p->attr("count"));
  if (!generation || !count) return std::nullopt;
  return EnrolledState{envelope_of(iq), *generation, *count};
}

Element encode_enrolled_query(const Envelope& envelope) {
  Element iq = stanza("iq", "get", envelope);
  iq.add_child(payload("enrolled"));
  return iq;
}

Element encode_result(const Envelope& envelope) {
  return stanza("iq", "result", envelope);
}

std::vector<EnrolledChunk> split_enrolled(const Envelope& envelope, std::uint64_t generation,
                                          const std::vector<std::string>& users,
                                          std::size_t per_chunk) {
  per_chunk = std::max<std::size_t>(per_chunk, 1);
  const std::size_t count = std::max<std::size_t>(1, (users.size() + per_chunk - 1) / per_chunk);
  std::vector<EnrolledChunk> out;
  out.reserve(count);
  for (std::size_t n = 0; n < count; ++n) {
    EnrolledChunk c{envelope,
                    generation,
                    static_cast<std::uint32_t>(n + 1),
                    static_cast<std::uint32_t>(count),
                    {}};
    c.envelope.id = envelope.id + "-" + std::to_string(generation) + "-" + std::to_string(n + 1);
    const std::size_t begin = n * per_chunk;
    const std::size_t end = std::min(users.size(), begin + per_chunk);
    if (begin < end)
      c.users.assign(users.begin() + static_cast<std::ptrdiff_t>(begin),
                     users.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(std::move(c));
  }
  return out;
}

std::string release_token(std::string_view key, std::string_view divert_id, std::string_view from,
                          std::string_view to, std::string_view id) {
  std::string data;
  data.reserve(divert_id.size() + from.size() + to.size() + id.size() + 3);
  data.append(divert_id).push_back('\0');
  data.append(from).push_back('\0');
  data.append(to).push_back('\0');
  data.append(id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[mac[i] >> 4]);
    hex.push_back(kHex[mac[i] & 0xf]);
  }
  return hex;
}

bool tokens_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace concierge::xmpp::divert
