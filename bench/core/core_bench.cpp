// SPDX-License-Identifier: MIT
// In-process core benchmarks, each beside a baseline measured in the same run (the machines
// are noisy: compare ratios, not absolute numbers).
//
//  relay:     Router::handle + serialisation of a chat message, vs an echo baseline that only
//             swaps from/to and serialises (what a trivial component must do anyway).
//  presence:  presence updates of enrolled users taken in (parse excluded), per second.
//  memory:    bytes per tracked user (presence of 2 resources + one open session), from
//             mallinfo2 before/after.
//  release:   10 000 messages held for 1 000 off-duty targets; the time to decide and queue
//             their release when the working day starts (one tick), vs holding them.
//
// Usage: core_bench [--messages N] [--users N] [--holds N] [--targets N] [--senders N]: the
// release case holds N messages from --senders people (997) for --targets people (1000).
// Bounded: N messages, N users.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <component/core/router.hpp>
#include <ical/compile.hpp>

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
  int holds = 10000;
  int targets = 1000;
  int senders = 997;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--messages")) messages = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--users")) users = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--holds")) holds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--targets")) targets = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--senders")) senders = std::max(1, std::atoi(argv[i + 1]));
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
  std::printf("memory    %7.0f bytes per tracked user in the whole router (2 resources, 1 session,\n"
              "          rate limiter, reply/bounce bookkeeping of one message)\n",
              static_cast<double>(after - before) / users);
  {
    // DESIGN §9's measure: presence and sessions alone.
    const std::size_t base = mallinfo2().uordblks;
    core::PresenceBook book;
    core::SessionBook sessions(std::chrono::minutes(10));
    for (int i = 0; i < users; ++i) {
      const std::string jid = "user" + std::to_string(i) + "@example.org";
      for (const char* res : {"phone", "desk"}) {
        core::ResourceState r;
        r.resource = res;
        r.show = core::Show::away;
        r.priority = 5;
        r.idle_since = now;
        book.available(jid, r);
      }
      sessions.forwarded(jid, "user" + std::to_string((i + 1) % users) + "@example.org",
                         core::Activity::message, now);
    }
    std::printf("memory    %7.0f bytes per tracked user for presence (2 resources) and sessions "
                "(target <= 1024)\n",
                static_cast<double>(mallinfo2().uordblks - base) / users);
  }

  // Release at a boundary: every target works Mon-Fri 09:00-17:00 UTC; messages arrive at
  // 20:00 Monday and are held; Tuesday 09:00 they are all decided and queued for release.
  core::Settings hs = settings(targets);
  hs.holds_per_target = hs.holds_per_sender = static_cast<std::size_t>(holds);
  for (int i = 0; i < targets; ++i) hs.users["user" + std::to_string(i) + "@example.org"].timezone = "UTC";
  core::MemoryStore hold_store;
  core::Router scheduler(hs, hold_store);
  const core::Instant monday{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}};
  scheduler.connected(monday + std::chrono::hours(20), out);
  ical::CompileRequest request;
  request.zone = "UTC";
  request.hours = "Mon-Fri 09:00-17:00";
  ical::set_window_around(request, std::chrono::duration_cast<std::chrono::seconds>(
                                       monday.time_since_epoch()).count(), 10);
  auto office = std::make_shared<const ical::Schedule>(ical::compile(request).value());
  for (int i = 0; i < targets; ++i) {
    scheduler.set_schedule("user" + std::to_string(i) + "@example.org", office,
                           monday + std::chrono::hours(20), out);
  }
  out.clear();
  std::vector<xmpp::Element> to_hold;
  to_hold.reserve(static_cast<std::size_t>(holds));
  for (int i = 0; i < holds; ++i) {
    // Senders outside the target set so they are not enrolled targets themselves.
    auto m = chat(i % senders, i % targets, i);
    m.set_attr("from", "sender" + std::to_string(i % senders) + "@example.org/r");
    to_hold.push_back(std::move(m));
  }
  start = Clock::now();
  for (const auto& m : to_hold) {
    scheduler.handle(m, monday + std::chrono::hours(20), out);
    out.clear();
  }
  const double hold_s = seconds_since(start);
  start = Clock::now();
  scheduler.tick(monday + std::chrono::hours(33), out);  // Tuesday 09:00 UTC
  const double release_s = seconds_since(start);
  if (out.releases.size() != static_cast<std::size_t>(holds)) {
    std::fprintf(stderr, "released %zu of %d\n", out.releases.size(), holds);
    return 1;
  }
  std::printf("release   %d holds decided in %.3f s (%.0f/s); their release decided and queued in %.3f s "
              "(ratio %.2f)\n",
              holds, hold_s, holds / hold_s, release_s, release_s / hold_s);
  return 0;
}
