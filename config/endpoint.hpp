// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

#include <config/config.hpp>

namespace concierge::config {

// "host:port", or "[v6]:port" for an IPv6 literal, with a port 1-65535 and a host without
// spaces; nullopt when `text` is not one. Nothing is resolved.
std::optional<Component::Endpoint> parse_endpoint(const std::string& text);

// The endpoint as parse_endpoint reads it ("[::1]:5347" for an IPv6 literal).
std::string to_string(const Component::Endpoint& endpoint);

}  // namespace concierge::config
