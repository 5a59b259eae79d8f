// SPDX-License-Identifier: MIT
// In-process core benchmarks, each beside a baseline measured in the same run (the machines
// are noisy: compare ratios, not absolute numbers).
//
//  relay:     Router::handle + serialisation of a chat message, vs an echo baseline that only
//             swaps from/to and serialises (what a trivial component must do anyway).
//  presence:  presence updates of enrolled users taken in (parse excluded), per second.
//  memory:    bytes per tracked user (presence of 2 resources + one open session), from
//             mallinfo2 before/after.
//
// Usage: core_bench [--messages N] [--users N]. Bounded: N messages, N users.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <component/core/router.hpp>

using namespace concierge;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

core::Settings settings(int users) {
  core::Settings s;
  s.component_domain = "sched.example.org";
  s.served_domains = {"example.org"};
  for (int i = 0; i < users; ++i) s.enrolled.insert("user" + std::to_string(i) + "@example.org");
  s.messages_per_sender_per_minute = 1 << 30;
  return s;
}

xmpp::Element chat(int from, int to, int seq) {
  auto m = *xmpp::parse_xml(
      "<message type=\"chat\"><body>Hello, this is a 64-byte message body for the benchmark!</body>"
      "<active xmlns=\"http://jabber.org/protocol/chatstates\"/></message>");
  m.set_attr("from", "user" + std::to_string(from) + "@example.org/res");
  m.set_attr("to", "user" + std::to_string(to) + "\\40example.org@sched.example.org");
  m.set_attr("id", "m" + std::to_string(seq));
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  int messages = 200000;
  int users = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--messages")) messages = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--users")) users = std::atoi(argv[i + 1]);
  }
  const int pairs = 1000;
  std::vector<xmpp::Element> input;
  input.reserve(static_cast<std::size_t>(messages));
  for (int i = 0; i < messages; ++i) input.push_back(chat(i % pairs, (i + 1) % pairs, i));

  // Baseline: an echo component's minimum — swap addresses and serialise.
  std::size_t bytes = 0;
  auto start = Clock::now();
  for (const auto& m : input) {
    xmpp::Element copy = m;
    copy.set_attr("to", std::string(m.attr("from")));
    copy.set_attr("from", std::string(m.attr("to")));
    bytes += copy.to_xml().size();
  }
  const double echo_s = seconds_since(start);

  core::MemoryStore store;
  core::Router router(settings(pairs), store);
  core::Outbox out;
  core::Instant now{std::chrono::sys_days{std::chrono::year{2026} / 11 / 26}};
  start = Clock::now();
  for (const auto& m : input) {
    router.handle(m, now, out);
    for (const auto& s : out.stanzas) bytes += s.to_xml().size();
    out.clear();
  }
  const double relay_s = seconds_since(start);
  if (router.stats().relayed != static_cast<std::uint64_t>(messages)) {
    std::fprintf(stderr, "relayed %llu of %d\n",
                 static_cast<unsigned long long>(router.stats().relayed), messages);
    return 1;
  }
  std::printf("relay     echo baseline %9.0f msg/s   router %9.0f msg/s   ratio %.2f  (%zu bytes)\n",
              messages / echo_s, messages / relay_s, echo_s / relay_s, bytes);

  // Presence updates and memory per tracked user.
  core::Router tracker(settings(users), store);
  std::vector<xmpp::Element> presences;
  presences.reserve(static_cast<std::size_t>(users) * 2);
  for (int i = 0; i < users; ++i) {
    for (const char* res : {"phone", "desk"}) {
      auto p = *xmpp::parse_xml(
          "<presence to=\"sched.example.org\"><show>away</show><priority>5</priority>"
          "<idle xmlns=\"urn:xmpp:idle:1\" since=\"2026-11-26T08:00:00Z\"/></presence>");
      p.set_attr("from", "user" + std::to_string(i) + "@example.org/" + res);
      presences.push_back(std::move(p));
    }
  }
  const std::size_t before = mallinfo2().uordblks;
  start = Clock::now();
  for (const auto& p : presences) {
    tracker.handle(p, now, out);
    out.clear();
  }
  const double presence_s = seconds_since(start);
  // One open session per user (alice_i -> user_i+1), as a busy day would have.
  for (int i = 0; i < users; ++i) {
    tracker.handle(chat(i, (i + 1) % users, i), now, out);
    out.clear();
  }
  const std::size_t after = mallinfo2().uordblks;
  std::printf("presence  %9.0f updates/s (%zu updates)\n", presences.size() / presence_s,
              presences.size());
  std::printf("memory    %7.0f bytes per tracked user (2 resources, 1 session, rate limiter)\n",
              static_cast<double>(after - before) / users);
  return 0;
}
