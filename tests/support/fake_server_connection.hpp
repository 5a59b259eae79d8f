// SPDX-License-Identifier: MIT
#pragma once
// Internal to the fake server (included by fake_server.cpp alone): one accepted socket and the
// expat parser reading its XEP-0114 stream — the stream header, the handshake (by the server's
// Mode), pings it answers itself, stanzas it hands to the server. A Connection owns its socket,
// parser and output buffer and lives on the server thread; it touches the FakeServer's shared
// state only under the server's mutex.
#include <expat.h>
#include <openssl/evp.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <tests/support/fake_server.hpp>

namespace concierge::testing {
namespace fake_server_detail {

using Clock = std::chrono::steady_clock;

inline std::string sha1_hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

inline std::string new_stream_id() {
  static std::atomic<unsigned> counter{0};
  return "fake" + std::to_string(::getpid()) + "x" + std::to_string(++counter);
}

inline std::string stream_error(std::string_view condition) {
  return "<stream:error><" + std::string(condition) +
         " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>";
}

inline void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace fake_server_detail

// One accepted socket and the expat parser reading its stream. Lives on the server thread.
struct FakeServer::Connection {
  using Clock = fake_server_detail::Clock;

  FakeServer* server = nullptr;
  int fd = -1;
  XML_Parser parser = nullptr;
  int depth = 0;
  std::optional<xmpp::Element> stanza;
  std::vector<xmpp::Element*> stack;
  std::string stream_id;
  bool handshake_done = false;
  std::string out;
  bool close_after_flush = false;
  bool write_shut = false;
  Clock::time_point linger_until{};

  Connection(FakeServer* s, int socket_fd) : server(s), fd(socket_fd) {
    parser = XML_ParserCreate("UTF-8");
    if (!parser) throw std::runtime_error("expat: cannot create parser");
    XML_SetUserData(parser, this);
    XML_SetElementHandler(parser, &Connection::on_start, &Connection::on_end);
    XML_SetCharacterDataHandler(parser, &Connection::on_text);
  }
  ~Connection() {
    XML_ParserFree(parser);
    fake_server_detail::close_fd(fd);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void fail(std::string_view condition) {
    out += fake_server_detail::stream_error(condition);
    close_after_flush = true;
    std::lock_guard lock(server->mutex_);
    server->last_error_ = condition;
  }

  void open_stream(const XML_Char** attrs) {
    std::string to;
    for (int i = 0; attrs[i]; i += 2) {
      if (std::string_view(attrs[i]) == "to") to = attrs[i + 1];
    }
    stream_id = fake_server_detail::new_stream_id();
    out +=
        "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
        "xmlns='jabber:component:accept' from='" +
        to + "' id='" + stream_id + "'>";
    {
      std::lock_guard lock(server->mutex_);
      server->last_to_ = to;
    }
    if (to != server->domain_) fail("host-unknown");
  }

  void handle_handshake(const xmpp::Element& e) {
    Mode mode;
    {
      std::lock_guard lock(server->mutex_);
      mode = server->mode_;
    }
    switch (mode) {
      case Mode::silent:
        return;
      case Mode::not_authorized:
        fail("not-authorized");
        return;
      case Mode::conflict:
        fail("conflict");
        return;
      case Mode::accept:
      case Mode::close_on_accept:
        break;
    }
    if (e.inner_text() != fake_server_detail::sha1_hex(stream_id + server->secret_)) {
      fail("not-authorized");
      return;
    }
    out += "<handshake/>";
    handshake_done = true;
    std::lock_guard lock(server->mutex_);
    server->authenticated_ = true;
    ++server->handshakes_;
    server->changed_.notify_all();
  }

  void handle_stanza(xmpp::Element e) {
    if (!handshake_done) {
      if (e.name == "handshake") handle_handshake(e);
      return;  // nothing else counts before the handshake
    }
    std::lock_guard lock(server->mutex_);
    if (server->auto_ping_ && e.name == "iq" && e.attr("type") == "get" &&
        e.attr("to") == server->server_domain_ && e.child("ping", "urn:xmpp:ping")) {
      xmpp::Element reply("iq");
      reply.set_attr("type", "result");
      reply.set_attr("id", e.attr("id"));
      reply.set_attr("from", server->server_domain_);
      if (const std::string* from = e.find_attr("from")) reply.set_attr("to", *from);
      out += reply.to_xml();
      return;
    }
    server->received_.push_back(std::move(e));
    server->changed_.notify_all();
  }

  static void on_start(void* user, const XML_Char* name, const XML_Char** attrs) {
    auto* self = static_cast<Connection*>(user);
    if (self->depth++ == 0) {
      self->open_stream(attrs);
      return;
    }
    xmpp::Element e(name);
    for (int i = 0; attrs[i]; i += 2) e.attributes.emplace_back(attrs[i], attrs[i + 1]);
    if (self->stack.empty()) {
      self->stanza = std::move(e);
      self->stack.push_back(&*self->stanza);
    } else {
      self->stack.push_back(&self->stack.back()->add_child(std::move(e)));
    }
  }

  static void on_end(void* user, const XML_Char*) {
    auto* self = static_cast<Connection*>(user);
    if (--self->depth == 0) {
      // The component closed its stream: close ours and the socket.
      self->out += "</stream:stream>";
      self->close_after_flush = true;
      return;
    }
    if (!self->stack.empty()) self->stack.pop_back();
    if (self->stack.empty() && self->stanza) {
      xmpp::Element done = std::move(*self->stanza);
      self->stanza.reset();
      self->handle_stanza(std::move(done));
    }
  }

  static void on_text(void* user, const XML_Char* s, int len) {
    auto* self = static_cast<Connection*>(user);
    if (self->stack.empty()) return;
    xmpp::Element& parent = *self->stack.back();
    const std::string_view piece(s, static_cast<std::size_t>(len));
    if (!parent.children.empty() && parent.children.back().is_text()) {
      parent.children.back().text += piece;
    } else {
      parent.children.push_back(xmpp::Element::text_node(std::string(piece)));
    }
  }

  // false when the peer closed or the stream is broken.
  bool read_some() {
    std::array<char, 16384> buf{};
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    if (write_shut || close_after_flush) return true;  // closing: ignore what still comes
    if (XML_Parse(parser, buf.data(), static_cast<int>(n), XML_FALSE) != XML_STATUS_OK) {
      fail("not-well-formed");
    }
    return true;
  }

  bool write_some() {
    if (out.empty()) return true;
    const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n < 0) return false;
    out.erase(0, static_cast<std::size_t>(n));
    return true;
  }
};

}  // namespace concierge::testing
