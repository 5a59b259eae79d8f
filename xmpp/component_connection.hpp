// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <xmpp/element.hpp>

namespace concierge::xmpp {

// Where and how to connect as an XEP-0114 component.
struct ComponentSettings {
  std::string host = "127.0.0.1";  // numeric address or name of the server
  std::uint16_t port = 5347;
  std::string domain;  // the component's JID, as registered in the server
  std::string secret;  // shared secret; never logged
  // Bounds the TCP connect and the handshake together; 0 = no bound of our own. libstrophe
  // also gives up a TCP connect after 5 s by itself, whatever this says.
  unsigned connect_timeout_ms = 10000;
};

// The deepest nesting a received stanza may have (the stanza itself is level 0): the conversion
// recurses, and no stanza a component handles nests this far. Deeper ones go to on_too_deep.
constexpr int kMaxStanzaDepth = 64;

// Why a stream ended or never started. `not_authorized` (wrong secret) and `host_unknown`
// (domain not registered) are configuration faults: retrying will not help.
enum class DisconnectCause {
  connect_failed,  // TCP connect refused or timed out
  not_authorized,  // <not-authorized/> stream error: wrong secret
  host_unknown,    // <host-unknown/>: the server does not know this component domain
  conflict,        // <conflict/>: another component holds this domain
  stream_error,    // any other stream error
  network,         // the stream was cut
  closed,          // we asked for it (disconnect())
};
const char* to_string(DisconnectCause cause);

struct Disconnect {
  DisconnectCause cause = DisconnectCause::network;
  std::string detail;  // server's stream error condition and text, or the OS error; no secrets
  bool was_connected = false;  // false when the handshake never completed
};

// The component's XEP-0114 stream over libstrophe. Owns libstrophe's context and connection;
// nothing of libstrophe shows through this header.
//
// It runs no loop of its own (libstrophe 0.12 cannot watch other descriptors or be woken):
// the owner polls `socket_fd()` — for POLLOUT while `wants_write()`, for POLLIN otherwise —
// and calls `run_once()` when it is ready, and about once a second while `connecting()` so
// libstrophe can time the connect out.
//
// The first ComponentConnection of the process sets SIGPIPE to SIG_IGN if it is still SIG_DFL:
// libstrophe writes with plain send(), and a server that went away must not kill the process.
//
// Handlers run inside run_once(). They may call send() and disconnect() but must not destroy
// the connection, nor call connect() (schedule the reconnect for after run_once() returns). `this`
// is libstrophe's userdata: not copyable, not movable.
class ComponentConnection {
 public:
  struct Handlers {
    std::function<void()> on_connected;                      // handshake accepted
    std::function<void(const Disconnect&)> on_disconnected;  // after every connect() attempt ends
    // Every stanza, top-level xmlns removed. libstrophe parses with namespaces, so only real
    // xmlns declarations are kept (inherited ones dropped), a prefixed element arrives as its
    // local name with its xmlns, and attribute prefixes are lost ("xml:lang" is restored).
    // Attribute order is libstrophe's, not the wire's.
    std::function<void(Element&&)> on_stanza;
    // Warnings and errors only: libstrophe's, and this class's own (a stanza dropped while
    // disconnected, an exception caught from a handler). Never a body or the secret.
    std::function<void(std::string_view)> on_log;
    // A stanza nested deeper than kMaxStanzaDepth, not converted: its top-level element alone
    // (name and attributes, as on_stanza would give them; no children), so the owner can
    // still answer its sender. Without this handler such a stanza is dropped with a log line.
    std::function<void(Element&&)> on_too_deep;
  };

  explicit ComponentConnection(Handlers handlers);
  ~ComponentConnection();
  ComponentConnection(const ComponentConnection&) = delete;
  ComponentConnection& operator=(const ComponentConnection&) = delete;

  // Starts a non-blocking connect (host must resolve). Returns false when it failed at once;
  // on_disconnected has then already been called with the reason. While an attempt or a
  // stream is still running, connect() does nothing and returns false (with a log line, and
  // no on_disconnected).
  bool connect(const ComponentSettings& settings);
  // Sends </stream:stream> and closes; on_disconnected(closed) follows in a later run_once().
  void disconnect();

  bool connecting() const;
  bool connected() const;
  bool disconnected() const;

  int socket_fd() const;  // -1 while there is no socket
  // The TCP connect is pending, or bytes are still queued for the socket (ours, or
  // libstrophe's own after disconnect()). False while waiting for the server's handshake
  // answer: the socket is writable then, and polling it for POLLOUT would spin.
  bool wants_write() const;
  std::size_t send_queue_length() const;

  // One pass of libstrophe's loop with a zero timeout: reads, writes, timeouts, handlers.
  void run_once();

  // Queues a stanza (serialised here). Dropped with a log line when not connected.
  void send(const Element& stanza);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace concierge::xmpp
