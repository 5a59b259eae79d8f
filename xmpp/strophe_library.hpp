// SPDX-License-Identifier: MIT
#pragma once
// Internal to xmpp/: libstrophe's process-wide state. LibraryUse owns the count of live users of
// the library — xmpp_initialize/xmpp_shutdown once per process, however many connections come
// and go — and, on first use, the SIGPIPE disposition. It touches no connection.
#include <strophe.h>

#include <csignal>
#include <mutex>

namespace concierge::xmpp {

class LibraryUse {
 public:
  LibraryUse() {
    std::lock_guard lock(mutex());
    if (count()++ == 0) {
      xmpp_initialize();
      ignore_sigpipe();
    }
  }
  ~LibraryUse() {
    std::lock_guard lock(mutex());
    if (--count() == 0) xmpp_shutdown();
  }
  LibraryUse(const LibraryUse&) = delete;
  LibraryUse& operator=(const LibraryUse&) = delete;

 private:
  // libstrophe writes with plain send(): a write to a socket the server has closed raises
  // SIGPIPE, which kills the process by default. Ignore it unless the process chose a handler.
  static void ignore_sigpipe() {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  }
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& count() {
    static int n = 0;
    return n;
  }
};

}  // namespace concierge::xmpp
