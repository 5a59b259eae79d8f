// SPDX-License-Identifier: MIT
#pragma once
// Internal to xmpp/: libstrophe's stream error codes in words (RFC 6120 §4.9.3 condition names)
// and as the DisconnectCause the connection reports. Pure mapping; no state.
#include <strophe.h>

#include <xmpp/component_connection.hpp>

namespace concierge::xmpp {

// The RFC 6120 condition name of `type` ("host-unknown"), or "unknown".
const char* stream_error_name(xmpp_error_type_t type);

// not-authorized, host-unknown and conflict have causes of their own; the rest is stream_error.
DisconnectCause cause_of(xmpp_error_type_t type);

}  // namespace concierge::xmpp
