// SPDX-License-Identifier: MIT
// The relay benchmark's baseline: the most trivial component there is. It connects through the
// project's ComponentConnection (which carries the libstrophe crash workaround and TCP_NODELAY)
// and sends every message back to its sender with `from` and `to` swapped. Error messages are
// dropped, never echoed (two echoes would bounce an error forever). Everything else is ignored.
//
// With --forward it is instead the most trivial relay: a message to bob\40localhost@DOMAIN goes
// to bob@localhost from alice\40localhost@DOMAIN (Concierge's addressing without any of its
// logic), so that the baseline can also take the same path through the server as Concierge.
//
// Usage: echo_component --host 127.0.0.1 --port 5347 --domain echo.localhost --secret S
//        [--forward]
// Runs until SIGTERM/SIGINT (exit 0) or until the stream ends (exit 1; 2 for a wrong secret or
// an unknown domain). Prints how many messages it echoed to stderr on exit.
#include <poll.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>

#include <xmpp/component_connection.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_signal(int) {
  g_stop = 1;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "echo_component: %s\n"
               "usage: echo_component --host H --port P --domain D --secret S [--forward]\n",
               why);
  std::exit(2);
}

concierge::xmpp::ComponentSettings parse_args(int argc, char** argv, bool& forward) {
  concierge::xmpp::ComponentSettings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--forward") {
      forward = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value");
    const char* value = argv[++i];
    if (arg == "--host") {
      settings.host = value;
    } else if (arg == "--port") {
      const long port = std::strtol(value, nullptr, 10);
      if (port <= 0 || port > 65535) usage("bad --port");
      settings.port = static_cast<std::uint16_t>(port);
    } else if (arg == "--domain") {
      settings.domain = value;
    } else if (arg == "--secret") {
      settings.secret = value;
    } else {
      usage("unknown argument");
    }
  }
  if (settings.domain.empty() || settings.secret.empty())
    usage("--domain and --secret are required");
  return settings;
}

std::int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

int main(int argc, char** argv) {
  using concierge::xmpp::ComponentConnection;
  using concierge::xmpp::DisconnectCause;
  using concierge::xmpp::Element;

  bool forward = false;
  const concierge::xmpp::ComponentSettings settings = parse_args(argc, argv, forward);

  struct sigaction action {};
  action.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR and the loop sees g_stop
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stream shows as a write error, not a dead process

  ComponentConnection* connection = nullptr;
  std::uint64_t echoed = 0;
  bool ended = false;
  int exit_code = 0;
  ComponentConnection::Handlers handlers;
  handlers.on_connected = [&] {
    std::fprintf(stderr, "echo_component: connected as %s\n", settings.domain.c_str());
  };
  handlers.on_disconnected = [&](const concierge::xmpp::Disconnect& why) {
    ended = true;
    if (why.cause == DisconnectCause::closed) return;
    std::fprintf(stderr, "echo_component: stream ended: %s %s\n", to_string(why.cause),
                 why.detail.c_str());
    const bool config_fault =
        why.cause == DisconnectCause::not_authorized || why.cause == DisconnectCause::host_unknown;
    exit_code = config_fault ? 2 : 1;
  };
  handlers.on_stanza = [&](Element&& stanza) {
    if (stanza.name != "message" || stanza.attr("type") == "error") return;
    std::string from(stanza.attr("from"));
    std::string to(stanza.attr("to"));
    if (from.empty() || to.empty()) return;
    if (forward) {
      using concierge::xmpp::Jid;
      const auto sender = Jid::parse(from);
      const auto proxy = Jid::parse(to);
      const auto target = proxy ? user_from_proxy(*proxy, settings.domain) : std::nullopt;
      const auto via = sender ? proxy_jid(sender->bare(), settings.domain) : std::nullopt;
      if (!target || !via) return;
      from = via->bare_string();
      to = target->full_string();
    } else {
      std::swap(from, to);
    }
    stanza.set_attr("from", from);
    stanza.set_attr("to", to);
    connection->send(stanza);
    ++echoed;
  };
  handlers.on_log = [](std::string_view line) {
    std::fprintf(stderr, "echo_component: %.*s\n", static_cast<int>(line.size()), line.data());
  };

  ComponentConnection conn(std::move(handlers));
  connection = &conn;
  if (!conn.connect(settings)) return exit_code != 0 ? exit_code : 1;

  // The poll loop: every wait is bounded (1 s), so a stop request is seen within a second even
  // if a signal slips in between the check and poll().
  std::int64_t stop_deadline = -1;
  while (!ended) {
    if (g_stop != 0 && stop_deadline < 0) {
      conn.disconnect();
      stop_deadline = now_ms() + 2000;
    }
    if (stop_deadline >= 0 && now_ms() > stop_deadline) break;
    const int fd = conn.socket_fd();
    if (fd >= 0) {
      pollfd pfd{fd, static_cast<short>(POLLIN | (conn.wants_write() ? POLLOUT : 0)), 0};
      poll(&pfd, 1, conn.connecting() ? 100 : 1000);
    } else {
      poll(nullptr, 0, 100);
    }
    conn.run_once();
  }
  std::fprintf(stderr, "echo_component: echoed %llu messages\n",
               static_cast<unsigned long long>(echoed));
  return exit_code;
}
