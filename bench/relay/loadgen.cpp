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
#include <strophe.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNsPerSec = 1'000'000'000;

struct Options {
  std::string host = "127.0.0.1";
  unsigned port = 5222;
  std::string sender;
  std::string password;
  std::string receiver;  // defaults to the sender
  std::string receiver_password;
  std::string to;
  std::string to2;  // second route of the latency phase, interleaved (empty: none)
  std::string receiver2;
  long saturate = 0;  // messages; 0 = no saturation phase
  long window = 200;
  long chunk = 500;  // saturation with two routes: messages per route before switching
  long rate = 0;     // messages/s; 0 = no latency phase
  double duration = 0;
  long warmup = 200;
  double max_seconds = 60;
  double stall_seconds = 5;
  int body_bytes = 64;
  std::string latencies_path;  // when set: the latency phase's samples, one per line, in µs
  bool verbose = false;
};

struct Session {
  std::string jid;
  std::string password;
  xmpp_conn_t* conn = nullptr;
  int fd = -1;
  bool online = false;         // logged in and initial presence sent
  bool self_presence = false;  // the server reflected our presence: we are available
  bool ended = false;          // disconnected or failed
  bool is_receiver = false;
};

// One phase's bookkeeping; sequence numbers index the vectors.
struct Phase {
  char tag = 'w';
  int routes = 1;  // message `seq` goes to route (seq / chunk) % routes
  long chunk = 1;
  std::int64_t charged_ns[2] = {0, 0};  // per route: arrival gaps of its messages
  long route_received[2] = {0, 0};
  std::vector<std::int64_t> sent_ns;
  std::vector<std::int64_t> latency_ns;  // -1 until received
  long received = 0;
  long bounced = 0;  // came back as <message type='error'/>: will never arrive
  std::int64_t last_receive_ns = 0;

  long settled() const { return received + bounced; }
  int route_of(long seq) const { return static_cast<int>((seq / chunk) % routes); }
};

struct Run {
  Options opt;
  xmpp_ctx_t* ctx = nullptr;
  std::vector<Session> sessions;
  std::string to_escaped[2];  // per route
  std::string padding;
  std::string send_buffer;  // reused for every message sent
  Phase phase;
  long errors = 0;   // <message type='error'/> seen by any session
  long foreign = 0;  // messages that carried no sequence number of ours
  std::int64_t deadline_ns = 0;
};

Run* g_run = nullptr;  // for the sockopt callback, which has no userdata

std::string xml_escape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string bare(std::string_view jid) {
  return std::string(jid.substr(0, jid.find('/')));
}

// "lg<tag><seq>" in the id, else "seq <tag><seq> " at the start of the body.
bool parse_seq(std::string_view text, char tag, long& seq) {
  if (text.empty() || text[0] != tag) return false;
  const char* first = text.data() + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, seq);
  return ec == std::errc() && ptr != first;
}

void on_receive(Run& run, xmpp_stanza_t* stanza) {
  Phase& ph = run.phase;
  long seq = -1;
  const char* id = xmpp_stanza_get_id(stanza);
  bool found = id != nullptr && std::strncmp(id, "lg", 2) == 0 && parse_seq(id + 2, ph.tag, seq);
  if (!found) {
    char* body = xmpp_message_get_body(stanza);
    if (body != nullptr) {
      std::string_view b(body);
      if (b.rfind("seq ", 0) == 0) {
        b.remove_prefix(4);
        found = parse_seq(b.substr(0, b.find(' ')), ph.tag, seq);
      }
      xmpp_free(run.ctx, body);
    }
  }
  if (!found || seq < 0 || static_cast<std::size_t>(seq) >= ph.sent_ns.size() ||
      ph.latency_ns[static_cast<std::size_t>(seq)] >= 0) {
    ++run.foreign;  // another phase's straggler, a duplicate, or the relay's own chatter
    return;
  }
  const std::int64_t t = now_ns();
  ph.latency_ns[static_cast<std::size_t>(seq)] = t - ph.sent_ns[static_cast<std::size_t>(seq)];
  ++ph.received;
  const int route = ph.route_of(seq);
  ph.charged_ns[route] += t - ph.last_receive_ns;
  ++ph.route_received[route];
  ph.last_receive_ns = t;
}

int message_handler(xmpp_conn_t*, xmpp_stanza_t* stanza, void* userdata) noexcept {
  auto* session = static_cast<Session*>(userdata);
  const char* type = xmpp_stanza_get_type(stanza);
  if (type != nullptr && std::strcmp(type, "error") == 0) {
    ++g_run->errors;
    Phase& ph = g_run->phase;
    const char* id = xmpp_stanza_get_id(stanza);
    long seq = -1;
    if (id != nullptr && std::strncmp(id, "lg", 2) == 0 && parse_seq(id + 2, ph.tag, seq) &&
        seq >= 0 && static_cast<std::size_t>(seq) < ph.sent_ns.size()) {
      ++ph.bounced;
      ph.last_receive_ns = now_ns();
    }
    if (g_run->opt.verbose || g_run->errors <= 3) {
      char* xml = nullptr;
      std::size_t len = 0;
      if (xmpp_stanza_to_text(stanza, &xml, &len) == XMPP_EOK) {
        std::fprintf(stderr, "loadgen: %s got an error: %.*s\n", session->jid.c_str(),
                     static_cast<int>(std::min<std::size_t>(len, 600)), xml);
        xmpp_free(g_run->ctx, xml);
      }
    }
    return 1;
  }
  if (session->is_receiver) on_receive(*g_run, stanza);
  return 1;
}

int presence_handler(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* userdata) noexcept {
  auto* session = static_cast<Session*>(userdata);
  const char* from = xmpp_stanza_get_from(stanza);
  const char* type = xmpp_stanza_get_type(stanza);
  // Approve subscription requests, as common clients do (slixmpp, Conversations' default for
  // contacts): Concierge asks every enrolled user for their presence and holds messages for
  // a user it knows to be offline.
  if (from != nullptr && type != nullptr && std::strcmp(type, "subscribe") == 0) {
    xmpp_send_raw_string(conn, "<presence to='%s' type='subscribed'/>", bare(from).c_str());
  }
  if (from != nullptr && type == nullptr && bare(from) == bare(session->jid)) {
    session->self_presence = true;
  }
  return 1;
}

int sockopt_callback(xmpp_conn_t* conn, void* sock) noexcept {
  const int fd = *static_cast<int*>(sock);
  const int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) return -1;
  for (Session& s : g_run->sessions) {
    if (s.conn == conn) s.fd = fd;
  }
  return 0;
}

void conn_handler(xmpp_conn_t* conn, xmpp_conn_event_t event, int error,
                  xmpp_stream_error_t* stream_error, void* userdata) noexcept {
  auto* session = static_cast<Session*>(userdata);
  if (event == XMPP_CONN_CONNECT) {
    xmpp_handler_add(conn, message_handler, nullptr, "message", nullptr, session);
    xmpp_handler_add(conn, presence_handler, nullptr, "presence", nullptr, session);
    xmpp_send_raw_string(conn, "<presence/>");
    session->online = true;
    return;
  }
  if (event == XMPP_CONN_DISCONNECT || event == XMPP_CONN_FAIL) {
    if (!session->ended && (error != 0 || stream_error != nullptr)) {
      std::fprintf(
          stderr, "loadgen: %s disconnected (error %d%s%s)\n", session->jid.c_str(), error,
          stream_error != nullptr && stream_error->text != nullptr ? ": " : "",
          stream_error != nullptr && stream_error->text != nullptr ? stream_error->text : "");
    }
    session->online = false;
    session->ended = true;
    session->fd = -1;
  }
}

void log_handler(void*, xmpp_log_level_t level, const char* area, const char* msg) noexcept {
  if (level >= XMPP_LEVEL_WARN) std::fprintf(stderr, "loadgen: libstrophe %s: %s\n", area, msg);
}

// One turn of the loop: wait for a socket (or until `until_ns`, at most 100 ms), then let
// libstrophe write queued data, read and run handlers.
void pump(Run& run, std::int64_t until_ns) {
  pollfd fds[3];
  nfds_t n = 0;
  for (Session& s : run.sessions) {
    if (s.fd < 0 || s.ended) continue;
    short events = POLLIN;
    if (xmpp_conn_is_connecting(s.conn) || xmpp_conn_send_queue_len(s.conn) > 0) events |= POLLOUT;
    fds[n++] = pollfd{s.fd, events, 0};
  }
  std::int64_t wait = std::clamp<std::int64_t>(until_ns - now_ns(), 0, 100 * kNsPerMs);
  timespec ts{static_cast<time_t>(wait / kNsPerSec), static_cast<long>(wait % kNsPerSec)};
  if (n > 0) {
    ppoll(fds, n, &ts, nullptr);
  } else {
    nanosleep(&ts, nullptr);
  }
  xmpp_run_once(run.ctx, 0);
}

bool any_ended(const Run& run) {
  return std::any_of(run.sessions.begin(), run.sessions.end(),
                     [](const Session& s) { return s.ended; });
}

void send_message(Run& run, long seq) {
  const std::string& to = run.to_escaped[run.phase.route_of(seq)];
  // Built as a string: a long --to or padding must not be cut off (snprintf into a fixed
  // buffer returned the untruncated length, and the send read past it).
  const std::string number = std::string(1, run.phase.tag) + std::to_string(seq);
  std::string& xml = run.send_buffer;
  xml.clear();
  xml.append("<message to='").append(to).append("' type='chat' id='lg").append(number);
  xml.append("'><body>seq ").append(number).append(" ").append(run.padding);
  xml.append("</body></message>");
  run.phase.sent_ns[static_cast<std::size_t>(seq)] = now_ns();
  xmpp_send_raw(run.sessions[0].conn, xml.data(), xml.size());
}

void start_phase(Run& run, char tag, long count, int routes = 1, long chunk = 1) {
  run.phase = Phase{};
  run.phase.tag = tag;
  run.phase.routes = routes;
  run.phase.chunk = std::max(1L, chunk);
  run.phase.sent_ns.assign(static_cast<std::size_t>(count), 0);
  run.phase.latency_ns.assign(static_cast<std::size_t>(count), -1);
  run.phase.last_receive_ns = now_ns();
}

// Sends `count` messages keeping at most `window` outstanding; returns false on a stall, a lost
// session, the global deadline or any bounce. Outstanding = sent - received - bounced, so a
// silently lost message shrinks the window for good: the stall timeout ends such a phase.
bool run_windowed(Run& run, long count, long window) {
  long sent = 0;
  const std::int64_t stall = static_cast<std::int64_t>(run.opt.stall_seconds * kNsPerSec);
  while (run.phase.settled() < count) {
    const std::int64_t t = now_ns();
    if (t > run.deadline_ns || any_ended(run) || t - run.phase.last_receive_ns > stall) {
      return false;
    }
    bool queued = false;
    while (sent < count && sent - run.phase.settled() < window) {
      send_message(run, sent++);
      queued = true;
    }
    if (queued) xmpp_run_once(run.ctx, 0);  // write now rather than after the next poll
    pump(run, t + 100 * kNsPerMs);
  }
  return run.phase.bounced == 0;
}

// Sends `count` messages at `rate` per second (open loop: late sends go out at once), then
// waits for the stragglers.
bool run_paced(Run& run, long count, long rate) {
  const std::int64_t start = now_ns();
  const std::int64_t stall = static_cast<std::int64_t>(run.opt.stall_seconds * kNsPerSec);
  long sent = 0;
  std::int64_t last_send = start;
  while (run.phase.settled() < count) {
    const std::int64_t t = now_ns();
    if (t > run.deadline_ns || any_ended(run)) return false;
    if (sent == count && t - std::max(last_send, run.phase.last_receive_ns) > stall) return false;
    bool queued = false;
    while (sent < count && start + sent * kNsPerSec / rate <= t) {
      send_message(run, sent++);
      queued = true;
      last_send = t;
    }
    if (queued) xmpp_run_once(run.ctx, 0);
    const std::int64_t next = sent < count ? start + sent * kNsPerSec / rate : t + 100 * kNsPerMs;
    pump(run, next);
  }
  return run.phase.bounced == 0;
}

double percentile_ms(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]) / kNsPerMs;
}

// The latencies of the messages of `route` (0-based) that arrived, sorted.
std::vector<std::int64_t> sorted_latencies(const Phase& ph, int route) {
  std::vector<std::int64_t> v;
  v.reserve(static_cast<std::size_t>(ph.received));
  for (std::size_t i = 0; i < ph.latency_ns.size(); ++i) {
    if (ph.latency_ns[i] >= 0 && ph.route_of(static_cast<long>(i)) == route) {
      v.push_back(ph.latency_ns[i]);
    }
  }
  std::sort(v.begin(), v.end());
  return v;
}

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
