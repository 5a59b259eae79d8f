// SPDX-License-Identifier: MIT
// The whole component in isolation (DESIGN §9: ≥ 50 000 decided and relayed messages/s on one
// core), against the in-process fake XEP-0114 server of the tests, beside a trivial echo
// component on the same connection class and server, in the same run.
//
// The fake server pushes N chat messages (alice → bob's proxy) in batches and counts what comes
// back. Bounded: N messages and 60 s per side. Usage: service_bench [--messages N]
#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <component/app/service.hpp>
#include <tests/support/fake_server.hpp>

using namespace concierge;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::string message(int i) {
  return "<message from=\"alice@localhost/r\" to=\"bob\\40localhost@sched.localhost\" type=\"chat\" "
         "id=\"m" + std::to_string(i) +
         "\"><body>Hello, this is a 64-byte message body for the benchmark!</body></message>";
}

// Pushes `n` messages and waits for `n` stanzas back. Returns messages/s, or 0 on timeout.
double pump(testing::FakeServer& server, int n) {
  constexpr int kBatch = 200;
  const auto start = Clock::now();
  const auto deadline = start + 60s;
  int sent = 0, received = 0;
  while (received < n && Clock::now() < deadline) {
    if (sent < n && sent - received < 4 * kBatch) {
      std::string batch;
      for (int i = 0; i < kBatch && sent < n; ++i) batch += message(sent++);
      server.send(std::move(batch));
    }
    while (server.next_stanza(sent - received >= 4 * kBatch || sent == n ? 100ms : 0ms)) {
      if (++received >= n) break;
    }
  }
  if (received < n) return 0;
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

// The trivial component: every message back with from/to swapped.
void echo(std::atomic<bool>& stop, std::uint16_t port) {
  xmpp::ComponentConnection* self = nullptr;
  xmpp::ComponentConnection conn({[] {}, [](const xmpp::Disconnect&) {},
                                  [&](xmpp::Element&& m) {
                                    const std::string from(m.attr("from"));
                                    m.set_attr("from", std::string(m.attr("to")));
                                    m.set_attr("to", from);
                                    self->send(m);
                                  },
                                  [](std::string_view) {}, [](xmpp::Element&&) {}});
  self = &conn;
  xmpp::ComponentSettings s;
  s.port = port;
  s.domain = "sched.localhost";
  s.secret = "s3cr3t";
  conn.connect(s);
  while (!stop) {
    pollfd fd{conn.socket_fd(), static_cast<short>(POLLIN | (conn.wants_write() ? POLLOUT : 0)), 0};
    if (fd.fd >= 0) ::poll(&fd, 1, 50);
    conn.run_once();
  }
}

config::Config make_config(std::uint16_t port) {
  config::Config c;
  c.component.jid = "sched.localhost";
  c.component.secret = "s3cr3t";
  c.component.port = port;
  c.served.domains = {"localhost"};
  c.limits.messages_per_sender_per_minute = 1 << 30;
  for (const char* u : {"alice@localhost", "bob@localhost"}) {
    config::User user;
    user.jid = u;
    user.timezone = "UTC";
    c.users.push_back(user);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--messages")) n = std::atoi(argv[i + 1]);
  }
  app::Service::block_signals();

  double echo_rate = 0;
  {
    testing::FakeServer server("sched.localhost", "s3cr3t");
    std::atomic<bool> stop{false};
    std::thread t(echo, std::ref(stop), server.port());
    if (server.wait_connected(5s)) echo_rate = pump(server, n);
    stop = true;
    t.join();
  }
  double service_rate = 0;
  {
    testing::FakeServer server("sched.localhost", "s3cr3t");
    std::FILE* sink = std::fopen("/dev/null", "w");
    app::Logger logger(app::LogLevel::warn, sink);
    core::MemoryStore store;
    app::Service service(make_config(server.port()), "unused.toml", store, logger);
    std::thread t([&] { service.run(); });
    if (server.wait_connected(5s)) {
      while (server.next_stanza(300ms)) {
      }  // the subscription requests sent after connecting
      service_rate = pump(server, n);
    }
    service.request_stop();
    t.join();
    std::fclose(sink);
  }
  std::printf("isolated  echo component %9.0f msg/s   Concierge %9.0f msg/s   ratio %.2f  (%d messages, "
              "in-process fake server)\n",
              echo_rate, service_rate, echo_rate > 0 ? service_rate / echo_rate : 0.0, n);
  return echo_rate > 0 && service_rate > 0 ? 0 : 1;
}
