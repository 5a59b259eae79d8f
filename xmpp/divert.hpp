// SPDX-License-Identifier: MIT
#pragma once

#include <xmpp/element.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// The divert protocol between the server extension (mod_concierge) and Concierge, as plain
// values and the stanzas that carry them: xmpp/server/PROTOCOL.md is the specification.
// Addresses are kept as the exact attribute strings of the wire (release tokens cover them
// byte for byte). Each `encode` builds the whole stanza; each `decode_*` takes a whole received
// stanza and returns nullopt for anything that is not a well-formed instance of that message.
namespace concierge::xmpp::divert {

inline constexpr std::string_view kNamespace = "urn:concierge:divert:0";
inline constexpr std::size_t kMaxUsersPerChunk = 1000;

// The addresses and id of an iq or message: `from` is the sender, `to` the receiver.
struct Envelope {
  std::string from;
  std::string to;
  std::string id;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// extension -> Concierge: a message taken out of the server's routing (iq set).
struct Divert {
  Envelope envelope;
  std::string divert_id;
  std::string token;  // the release token, to be handed back with `held` and the release
  std::string stamp;  // XEP-0203 stamp of when the server received it ("" if none)
  Element message;    // the original <message/>, xmlns="jabber:client"
  friend bool operator==(const Divert&, const Divert&) = default;
};

// A deliver's pass (PROTOCOL.md "Passes"): the next plain messages from the sender (scope
// sender) or from anyone (scope any) to the target go without a divert for `ttl_ms`, unless
// revoked.
struct Pass {
  enum class Scope { sender, any };
  Scope scope = Scope::sender;
  std::uint32_t ttl_ms = 0;
  std::string urgent_prefix;  // scope any: a body starting with it is diverted ("" none)
  friend bool operator==(const Pass&, const Pass&) = default;
};

// Concierge -> extension: the answer to a divert (iq result).
struct Deliver {
  std::optional<Pass> pass;
  friend bool operator==(const Deliver&, const Deliver&) = default;
};
struct Held {
  std::string token;
  friend bool operator==(const Held&, const Held&) = default;
};
struct Refuse {
  std::string type = "cancel";  // RFC 6120 error type
  std::string condition;        // defined condition, e.g. "not-acceptable"
  std::string text;
  friend bool operator==(const Refuse&, const Refuse&) = default;
};
struct Verdict {
  Envelope envelope;  // id: the divert iq's id
  std::string divert_id;
  std::variant<Deliver, Held, Refuse> decision;
  friend bool operator==(const Verdict&, const Verdict&) = default;
};

// extension -> Concierge after failing open (iq set): forget any hold made for this divert.
struct Cancel {
  Envelope envelope;
  std::string divert_id;
  friend bool operator==(const Cancel&, const Cancel&) = default;
};

// extension -> Concierge, one way (message): a message delivered normally, without its body.
struct Report {
  Envelope envelope;  // the message's from/to (the extension and Concierge); id unused
  std::string from;   // the reported message's addresses, type and id
  std::string to;
  std::string type = "normal";
  std::string id;
  std::string chat_state;  // XEP-0085 element name, "" if none
  bool has_body = false;
  bool passed = false;  // a diverted kind of message a pass let through (PROTOCOL.md "Passes")
  friend bool operator==(const Report&, const Report&) = default;
};

// Concierge -> extension (iq set): passes that no longer hold.
struct Revoke {
  struct Revoked {
    std::string to;    // the target's bare JID
    std::string from;  // the sender's bare JID; "" the any pass
    friend bool operator==(const Revoked&, const Revoked&) = default;
  };
  Envelope envelope;
  std::vector<Revoked> passes;
  friend bool operator==(const Revoke&, const Revoke&) = default;
};

// Concierge -> extension (iq set): a held message handed back.
struct Release {
  Envelope envelope;
  std::string divert_id;
  std::string token;
  Element message;  // as stored, with Concierge's <delay/>; encode() sets xmlns="jabber:client"
  friend bool operator==(const Release&, const Release&) = default;
};

// The extension's answer to a release.
struct ReleaseAnswer {
  enum class Outcome {
    kTaken,      // the server has the message (a session or offline storage)
    kBounced,    // the server bounced it (`condition`): hold it again
    kForbidden,  // the token was refused: never retry
    kRejected,   // any other error (bad request, ...): never retry
  };
  Envelope envelope;
  Outcome outcome = Outcome::kTaken;
  std::string condition;  // the error's defined condition, "" when taken
  friend bool operator==(const ReleaseAnswer&, const ReleaseAnswer&) = default;
};

// Concierge -> extension (iq set): one chunk of a push of the whole enrolled set.
struct EnrolledChunk {
  Envelope envelope;
  std::uint64_t generation = 0;
  std::uint32_t chunk = 1;  // 1..chunks
  std::uint32_t chunks = 1;
  std::vector<std::string> users;  // bare JIDs
  friend bool operator==(const EnrolledChunk&, const EnrolledChunk&) = default;
};

// What the extension holds (the result of an `enrolled` get).
struct EnrolledState {
  Envelope envelope;
  std::uint64_t generation = 0;
  std::uint64_t count = 0;
  friend bool operator==(const EnrolledState&, const EnrolledState&) = default;
};

Element encode(const Divert& divert);
Element encode(const Verdict& verdict);
Element encode(const Cancel& cancel);
Element encode(const Report& report);
Element encode(const Release& release);
Element encode(const ReleaseAnswer& answer);
Element encode(const EnrolledChunk& chunk);
Element encode(const EnrolledState& state);
Element encode(const Revoke& revoke);
// The `enrolled` get that asks for an EnrolledState.
Element encode_enrolled_query(const Envelope& envelope);
// The `result` that answers a cancel or an enrolled chunk.
Element encode_result(const Envelope& envelope);

std::optional<Divert> decode_divert(const Element& iq);
std::optional<Verdict> decode_verdict(const Element& iq);
std::optional<Cancel> decode_cancel(const Element& iq);
std::optional<Report> decode_report(const Element& message);
// Every well-formed report of a message (an extension may batch them, PROTOCOL.md "Report").
std::vector<Report> decode_reports(const Element& message);
std::optional<Release> decode_release(const Element& iq);
std::optional<ReleaseAnswer> decode_release_answer(const Element& iq);
std::optional<EnrolledChunk> decode_enrolled_chunk(const Element& iq);
std::optional<EnrolledState> decode_enrolled_state(const Element& iq);
std::optional<Revoke> decode_revoke(const Element& iq);

// A whole push: `users` split into chunks of at most `per_chunk` (an empty set is one empty
// chunk), ids "<id_prefix>-<generation>-<n>".
std::vector<EnrolledChunk> split_enrolled(const Envelope& envelope, std::uint64_t generation,
                                          const std::vector<std::string>& users,
                                          std::size_t per_chunk = kMaxUsersPerChunk);

// lowercase hex HMAC-SHA256(key, divert_id NUL from NUL to NUL id): PROTOCOL.md "The token".
std::string release_token(std::string_view key, std::string_view divert_id, std::string_view from,
                          std::string_view to, std::string_view id);
// Constant-time comparison of two tokens.
bool tokens_equal(std::string_view a, std::string_view b);

}  // namespace concierge::xmpp::divert
