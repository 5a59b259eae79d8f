// SPDX-License-Identifier: MIT
// Which addresses a schedule URL may connect to (DESIGN §11): never loopback, private,
// link-local, CGNAT, ULA or mapped forms of them. Pure functions on socket addresses; the
// fetcher asks them when a socket opens, so redirects and DNS rebinding are covered.
#include <component/app/schedule_fetcher.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace concierge::app {
namespace {

bool ipv4_is_public(std::uint32_t a) {  // a in host order
  auto in = [a](std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == net;
  };
  return !(in(0x00000000, 8)       // "this network", 0.0.0.0
           || in(0x0A000000, 8)    // 10/8
           || in(0x64400000, 10)   // 100.64/10 CGNAT
           || in(0x7F000000, 8)    // loopback
           || in(0xA9FE0000, 16)   // link-local, cloud metadata 169.254.169.254
           || in(0xAC100000, 12)   // 172.16/12
           || in(0xC0000000, 24)   // 192.0.0/24 IETF protocol assignments
           || in(0xC0A80000, 16)   // 192.168/16
           || in(0xC6120000, 15)   // 198.18/15 benchmarking
           || in(0xE0000000, 4)    // multicast
           || in(0xF0000000, 4));  // reserved, broadcast
}

std::uint32_t v4_at(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

bool ipv6_is_public(const std::uint8_t (&b)[16]) {
  static constexpr std::uint8_t kZero[12] = {};
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b};
  if (std::memcmp(b, kZero, 12) == 0) return false;  // ::, ::1, IPv4-compatible (deprecated)
  if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kNat64, 12) == 0) {
    return ipv4_is_public(v4_at(b + 12));
  }
  if (b[0] == 0x20 && b[1] == 0x02) return ipv4_is_public(v4_at(b + 2));  // 6to4
  if ((b[0] & 0xfe) == 0xfc) return false;                                // ULA fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;                // link-local fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;                // site-local fec0::/10
  if (b[0] == 0xff) return false;                                         // multicast
  return true;
}

}  // namespace

std::string address_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
  }
  return text;
}

bool is_public_address(const sockaddr* address) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    return ipv4_is_public(ntohl(in.sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    std::uint8_t bytes[16];
    std::memcpy(bytes, &in6.sin6_addr, 16);
    return ipv6_is_public(bytes);
  }
  return false;
}

}  // namespace concierge::app
