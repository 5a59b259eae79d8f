// SPDX-License-Identifier: MIT
#pragma once
// The relay load generator's parts (loadgen.cpp has what it does and its options): the run's
// state (Options, Session, Phase, Run), the libstrophe side that logs in, sends and counts
// (loadgen_session.cpp), and the phases and their statistics (loadgen_phase.cpp). A Run is
// owned by main() and passed by reference; only the sockopt callback, which gets no userdata,
// reaches it through g_run.
#include <strophe.h>

#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loadgen {

inline std::int64_t now_ns() {
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

extern Run* g_run;  // for the sockopt callback, which has no userdata

// ---- loadgen_session.cpp: XMPP sessions, sending and receiving
std::string xml_escape(std::string_view in);
std::string bare(std::string_view jid);
int message_handler(xmpp_conn_t*, xmpp_stanza_t* stanza, void* userdata) noexcept;
int presence_handler(xmpp_conn_t* conn, xmpp_stanza_t* stanza, void* userdata) noexcept;
int sockopt_callback(xmpp_conn_t* conn, void* sock) noexcept;
void conn_handler(xmpp_conn_t* conn, xmpp_conn_event_t event, int error,
                  xmpp_stream_error_t* stream_error, void* userdata) noexcept;
void log_handler(void*, xmpp_log_level_t level, const char* area, const char* msg) noexcept;
// One turn of the loop: wait for a socket (or until `until_ns`, at most 100 ms), then let
// libstrophe write queued data, read and run handlers.
void pump(Run& run, std::int64_t until_ns);
bool any_ended(const Run& run);
void send_message(Run& run, long seq);

// ---- loadgen_phase.cpp: phases and their statistics
void start_phase(Run& run, char tag, long count, int routes = 1, long chunk = 1);
// Sends `count` messages keeping at most `window` outstanding; returns false on a stall, a lost
// session, the global deadline or any bounce. Outstanding = sent - received - bounced, so a
// silently lost message shrinks the window for good: the stall timeout ends such a phase.
bool run_windowed(Run& run, long count, long window);
// Sends `count` messages at `rate` per second (open loop: late sends go out at once), then
// waits for the stragglers.
bool run_paced(Run& run, long count, long rate);
double percentile_ms(const std::vector<std::int64_t>& sorted, double p);
// The latencies of the messages of `route` (0-based) that arrived, sorted.
std::vector<std::int64_t> sorted_latencies(const Phase& ph, int route);

}  // namespace loadgen
