// SPDX-License-Identifier: MIT
#pragma once
// A loopback port that refuses connections: a socket bound to 127.0.0.1 (so nobody else takes
// the port while the test runs) that never listens. A connect to it fails at once with
// "Connection refused". Owns the socket; closes it when destroyed.

#include <cstdint>

namespace concierge::testing {

class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace concierge::testing
