// SPDX-License-Identifier: MIT
// Load generator for the relay benchmark (bench/README.md, "Relay"): a plain libstrophe client
// that logs in as a sender and a receiver (one session when they are the same JID), writes
// chat messages to --to and counts what reaches the receiver.
//
//   --saturate N          N messages, at most --window outstanding: received messages per second
//   --rate R --duration S R*S messages paced at R/s: per-message latency p50/p99/max
//   --to2 JID [--receiver2 JID]  a second route, interleaved with the first so that both see
//                         the same machine noise: paced messages alternate one by one (each
//                         route at R/s); saturation alternates chunks of --chunk messages with the
//                         window kept full, and each received message is charged the time since
//                         the previous arrival, so a route's rate = its messages / its time.
//                         One RESULT line per route (route=1, route=2).
//
// Each message carries its sequence number in its id ("lg<phase><seq>") and in its body, so a
// relay that rewrites ids is still measured. Every phase is bounded by a stall timeout and the
// whole run by --max-seconds (a SIGALRM watchdog backs the loop's own checks). Output: one
// `RESULT mode=...` line per phase and route on stdout; exit 0 when every message arrived, 1 when
// some did not, 2 on bad arguments, 3 when a session could not log in or nothing was relayed.
//
// libstrophe is used directly (this is a client: the component crash of STACK.md does not apply).
// The loop is ours: ppoll on the sessions' sockets (learned in the sockopt callback, which also
// sets TCP_NODELAY), then xmpp_run_once(ctx, 0).
#include <bench/relay/loadgen.hpp>

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace loadgen;

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "loadgen: %s\n"
               "usage: loadgen --host H --port P --sender JID --password PW\n"
               "       [--receiver JID] [--receiver-password PW] --to JID\n"
               "       [--to2 JID [--receiver2 JID]] [--saturate N [--window W] [--chunk C]]\n"
               "       [--rate R --duration S [--latencies FILE]] [--warmup N]\n"
               "       [--max-seconds S] [--stall-seconds S] [--body-bytes B] [--verbose]\n",
               why);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--verbose") {
      o.verbose = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value");
    const char* v = argv[++i];
    char* end = nullptr;
    auto number = [&] {
      const double d = std::strtod(v, &end);
      if (end == v || *end != '\0' || d < 0) usage("bad number");
      return d;
    };
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.port = static_cast<unsigned>(number());
    else if (a == "--sender")
      o.sender = v;
    else if (a == "--password")
      o.password = v;
    else if (a == "--receiver")
      o.receiver = v;
    else if (a == "--receiver-password")
      o.receiver_password = v;
    else if (a == "--to")
      o.to = v;
    else if (a == "--to2")
      o.to2 = v;
    else if (a == "--receiver2")
      o.receiver2 = v;
    else if (a == "--saturate")
      o.saturate = static_cast<long>(number());
    else if (a == "--window")
      o.window = static_cast<long>(number());
    else if (a == "--chunk")
      o.chunk = static_cast<long>(number());
    else if (a == "--rate")
      o.rate = static_cast<long>(number());
    else if (a == "--duration")
      o.duration = number();
    else if (a == "--warmup")
      o.warmup = static_cast<long>(number());
    else if (a == "--max-seconds")
      o.max_seconds = number();
    else if (a == "--stall-seconds")
      o.stall_seconds = number();
    else if (a == "--body-bytes")
      o.body_bytes = static_cast<int>(number());
    else if (a == "--latencies")
      o.latencies_path = v;
    else
      usage("unknown argument");
  }
  if (o.sender.empty() || o.password.empty() || o.to.empty()) usage("--sender, --password, --to");
  if (o.receiver.empty()) o.receiver = o.sender;
  if (o.receiver_password.empty()) o.receiver_password = o.password;
  if (o.receiver2.empty()) o.receiver2 = o.sender;
  if (o.saturate == 0 && o.rate == 0) usage("give --saturate N and/or --rate R --duration S");
  if (o.rate > 0 && o.duration <= 0) usage("--rate needs --duration");
  if (o.window < 1 || o.port == 0 || o.port > 65535 || o.body_bytes > 512) usage("bad value");
  if (o.saturate > 10'000'000 || static_cast<double>(o.rate) * o.duration > 10'000'000) {
    usage("too many messages");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  run.opt = parse_args(argc, argv);
  g_run = &run;
  const Options& opt = run.opt;
  const std::int64_t t0 = now_ns();
  run.deadline_ns = t0 + static_cast<std::int64_t>(opt.max_seconds * kNsPerSec);
  alarm(static_cast<unsigned>(opt.max_seconds) + 10);  // watchdog: default action kills us
  std::signal(SIGPIPE, SIG_IGN);  // a closed stream shows as a write error, not a dead process
  run.to_escaped[0] = xml_escape(opt.to);
  run.to_escaped[1] = xml_escape(opt.to2);
  const int routes = opt.to2.empty() ? 1 : 2;
  run.padding.assign(static_cast<std::size_t>(std::max(opt.body_bytes - 16, 0)), 'x');

  xmpp_initialize();
  xmpp_log_t log{log_handler, nullptr};  // outlives the context
  run.ctx = xmpp_ctx_new(nullptr, &log);
  // One session per distinct account; sessions[0] sends. Session addresses are libstrophe
  // userdata: reserve so that they never move.
  run.sessions.reserve(3);
  auto session_for = [&](const std::string& jid, const std::string& password) -> Session& {
    for (Session& s : run.sessions) {
      if (bare(s.jid) == bare(jid)) return s;
    }
    Session& s = run.sessions.emplace_back();
    s.jid = jid;
    s.password = password;
    return s;
  };
  session_for(opt.sender, opt.password);
  session_for(opt.receiver, opt.receiver_password).is_receiver = true;
  if (routes == 2) session_for(opt.receiver2, opt.receiver_password).is_receiver = true;
  for (Session& s : run.sessions) {
    s.conn = xmpp_conn_new(run.ctx);
    xmpp_conn_set_flags(s.conn, XMPP_CONN_FLAG_DISABLE_TLS | XMPP_CONN_FLAG_DISABLE_SM);
    xmpp_conn_set_sockopt_callback(s.conn, sockopt_callback);
    xmpp_conn_set_jid(s.conn, s.jid.c_str());
    xmpp_conn_set_pass(s.conn, s.password.c_str());
    if (xmpp_connect_client(s.conn, opt.host.c_str(), static_cast<unsigned short>(opt.port),
                            conn_handler, &s) != XMPP_EOK) {
      std::fprintf(stderr, "loadgen: cannot connect %s to %s:%u\n", s.jid.c_str(), opt.host.c_str(),
                   opt.port);
      return 3;
    }
  }

  // Log in, then wait (briefly) until the server reflects our presence: from then on a message
  // to the receiver's bare JID is delivered, not bounced.
  int exit_code = 0;
  const std::int64_t login_deadline = std::min(run.deadline_ns, now_ns() + 10 * kNsPerSec);
  auto logged_in = [&] {
    return std::all_of(run.sessions.begin(), run.sessions.end(),
                       [](const Session& s) { return s.online; });
  };
  while (!logged_in() && !any_ended(run) && now_ns() < login_deadline) pump(run, login_deadline);
  const std::int64_t presence_deadline = std::min(run.deadline_ns, now_ns() + 2 * kNsPerSec);
  auto receivers_available = [&] {
    return std::all_of(run.sessions.begin(), run.sessions.end(),
                       [](const Session& s) { return !s.is_receiver || s.self_presence; });
  };
  while (logged_in() && !receivers_available() && now_ns() < presence_deadline) {
    pump(run, presence_deadline);
  }
  if (!logged_in()) {
    std::fprintf(stderr, "loadgen: login failed\n");
    exit_code = 3;
  }

  // Warm-up: the relays' caches, Prosody's routes, our allocations (every route of the run).
  if (exit_code == 0 && opt.warmup > 0) {
    start_phase(run, 'w', opt.warmup, routes);
    run_windowed(run, opt.warmup, std::min(opt.window, opt.warmup));
    if (run.phase.received == 0) {
      std::fprintf(stderr, "loadgen: nothing came back during the warm-up\n");
      exit_code = 3;
    }
  }

  if (exit_code == 0 && opt.saturate > 0) {
    // --saturate N per route; with two routes in chunks, the window never drains in between.
    start_phase(run, 's', opt.saturate * routes, routes, routes == 1 ? 1 : opt.chunk);
    const bool complete = run_windowed(run, opt.saturate * routes, opt.window);
    for (int route = 0; route < routes; ++route) {
      const auto lat = sorted_latencies(run.phase, route);
      const double seconds =
          static_cast<double>(std::max(run.phase.charged_ns[route], std::int64_t{1})) / kNsPerSec;
      std::printf(
          "RESULT mode=saturate route=%d sent=%ld received=%ld bounced=%ld window=%ld "
          "seconds=%.3f rate=%.0f p50_ms=%.3f p99_ms=%.3f complete=%d\n",
          route + 1, opt.saturate, run.phase.route_received[route], run.phase.bounced, opt.window,
          seconds, static_cast<double>(run.phase.route_received[route]) / seconds,
          percentile_ms(lat, 0.5), percentile_ms(lat, 0.99), complete ? 1 : 0);
    }
    std::fflush(stdout);
    if (!complete) exit_code = 1;
  }

  if ((exit_code == 0 || exit_code == 1) && opt.rate > 0) {
    // `rate` per route: with two routes, twice as many messages at twice the pace, alternating.
    const long per_route =
        std::max(1L, static_cast<long>(static_cast<double>(opt.rate) * opt.duration));
    start_phase(run, 'l', per_route * routes, routes);
    const std::int64_t start = now_ns();
    const bool complete = run_paced(run, per_route * routes, opt.rate * routes);
    const double seconds = static_cast<double>(now_ns() - start) / kNsPerSec;
    if (!complete) exit_code = 1;
    for (int route = 0; route < routes; ++route) {
      const auto lat = sorted_latencies(run.phase, route);
      std::printf(
          "RESULT mode=latency route=%d rate=%ld sent=%ld received=%zu seconds=%.3f p50_ms=%.3f "
          "p99_ms=%.3f max_ms=%.3f complete=%d\n",
          route + 1, opt.rate, per_route, lat.size(), seconds, percentile_ms(lat, 0.5),
          percentile_ms(lat, 0.99), lat.empty() ? 0.0 : percentile_ms(lat, 1.0), complete ? 1 : 0);
      std::fflush(stdout);
      if (opt.latencies_path.empty()) continue;
      // Route 1's samples go to FILE, route 2's to FILE.2: one value in µs per line.
      const std::string path = opt.latencies_path + (route == 0 ? "" : ".2");
      FILE* out = std::fopen(path.c_str(), "w");
      if (out == nullptr) {
        std::fprintf(stderr, "loadgen: cannot write %s\n", path.c_str());
        exit_code = 1;
        continue;
      }
      for (std::int64_t l : lat) std::fprintf(out, "%.1f\n", static_cast<double>(l) / 1000.0);
      std::fclose(out);
    }
  }
  if (run.errors > 0 || run.foreign > 0) {
    std::fprintf(stderr, "loadgen: %ld error stanzas, %ld unmatched messages\n", run.errors,
                 run.foreign);
  }

  // Leave politely, bounded.
  for (Session& s : run.sessions) {
    if (!s.ended) xmpp_disconnect(s.conn);
  }
  const std::int64_t bye = now_ns() + 1 * kNsPerSec;
  while (now_ns() < bye && !std::all_of(run.sessions.begin(), run.sessions.end(),
                                        [](const Session& s) { return s.ended; })) {
    pump(run, bye);
  }
  for (Session& s : run.sessions) xmpp_conn_release(s.conn);
  xmpp_ctx_free(run.ctx);
  xmpp_shutdown();
  return exit_code;
}
