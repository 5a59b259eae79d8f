// SPDX-License-Identifier: MIT
// Stream error codes in words and as causes (see stream_error.hpp).
#include <xmpp/stream_error.hpp>

#include <array>
#include <cstddef>

namespace concierge::xmpp {
namespace {

constexpr std::array<const char*, 24> kStreamErrorNames{"bad-format",
                                                        "bad-namespace-prefix",
                                                        "conflict",
                                                        "connection-timeout",
                                                        "host-gone",
                                                        "host-unknown",
                                                        "improper-addressing",
                                                        "internal-server-error",
                                                        "invalid-from",
                                                        "invalid-id",
                                                        "invalid-namespace",
                                                        "invalid-xml",
                                                        "not-authorized",
                                                        "policy-violation",
                                                        "remote-connection-failed",
                                                        "resource-constraint",
                                                        "restricted-xml",
                                                        "see-other-host",
                                                        "system-shutdown",
                                                        "undefined-condition",
                                                        "unsupported-encoding",
                                                        "unsupported-stanza-type",
                                                        "unsupported-version",
                                                        "not-well-formed"};
static_assert(XMPP_SE_XML_NOT_WELL_FORMED + 1 == kStreamErrorNames.size());

}  // namespace

const char* stream_error_name(xmpp_error_type_t type) {
  const auto index = static_cast<std::size_t>(type);
  return index < kStreamErrorNames.size() ? kStreamErrorNames[index] : "unknown";
}

DisconnectCause cause_of(xmpp_error_type_t type) {
  switch (type) {
    case XMPP_SE_NOT_AUTHORIZED:
      return DisconnectCause::not_authorized;
    case XMPP_SE_HOST_UNKNOWN:
      return DisconnectCause::host_unknown;
    case XMPP_SE_CONFLICT:
      return DisconnectCause::conflict;
    default:
      return DisconnectCause::stream_error;
  }
}

const char* to_string(DisconnectCause cause) {
  switch (cause) {
    case DisconnectCause::connect_failed:
      return "connect_failed";
    case DisconnectCause::not_authorized:
      return "not_authorized";
    case DisconnectCause::host_unknown:
      return "host_unknown";
    case DisconnectCause::conflict:
      return "conflict";
    case DisconnectCause::stream_error:
      return "stream_error";
    case DisconnectCause::network:
      return "network";
    case DisconnectCause::closed:
      return "closed";
  }
  return "unknown";
}

}  // namespace concierge::xmpp
