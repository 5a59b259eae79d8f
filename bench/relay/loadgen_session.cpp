// SPDX-License-Identifier: MIT
// The load generator's libstrophe side: handlers that count what arrives, the sockopt callback
// that learns each socket, the loop turn, sending (see loadgen.hpp).
#include <bench/relay/loadgen.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace loadgen {

Run* g_run = nullptr;

namespace {

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

}  // namespace

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

}  // namespace loadgen
