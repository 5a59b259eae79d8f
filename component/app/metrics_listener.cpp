// SPDX-License-Identifier: MIT
#include <component/app/metrics_listener.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <microhttpd.h>

namespace concierge::app {
namespace {

constexpr const char* kContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// Queues `body` with `status`; the response is freed once MHD has sent it.
MHD_Result reply(MHD_Connection* connection, unsigned status, const std::string& body,
                 const char* content_type, const char* allow = nullptr) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  if (allow) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
  const MHD_Result queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return queued;
}

// Called once the request line and headers are in. Every answer is given at once: a body
// that comes with the request (a POST's) is never read, so its size cannot matter.
MHD_Result answer(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char*, const char*, std::size_t*, void**) noexcept {
  try {
    const auto& render = *static_cast<const MetricsListener::Render*>(cls);
    if (std::strcmp(url, "/metrics") != 0) {
      return reply(connection, MHD_HTTP_NOT_FOUND, "Only /metrics is here.\n", "text/plain");
    }
    if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
      return reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET.\n", "text/plain",
                   "GET, HEAD");
    }
    return reply(connection, MHD_HTTP_OK, render(), kContentType);
  } catch (...) {
    return MHD_NO;  // closes the connection
  }
}

// "127.0.0.1:9464" / "[::1]:9464" (config/ checked the form) as a socket address.
bool to_address(const std::string& listen, sockaddr_storage& address, bool& ipv6) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  const int port = std::atoi(listen.c_str() + colon + 1);
  std::string host = listen.substr(0, colon);
  std::memset(&address, 0, sizeof address);
  ipv6 = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &in6->sin6_addr) == 1;
  }
  auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(static_cast<std::uint16_t>(port));
  return inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1;
}

}  // namespace

std::variant<std::unique_ptr<MetricsListener>, std::string> MetricsListener::start(
    const std::string& listen, Render render, Limits limits) {
  sockaddr_storage address;
  bool ipv6 = false;
  if (!to_address(listen, address, ipv6)) return "not an address and port: " + listen;
  std::unique_ptr<MetricsListener> self(new MetricsListener(std::move(render)));
  // No internal thread: MHD_USE_EPOLL gives one descriptor for the loop's poll(), and MHD_run()
  // does the work in the loop's thread.
  const unsigned flags = MHD_USE_EPOLL | (ipv6 ? MHD_USE_IPv6 : 0);
  errno = 0;
  self->daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &answer, &self->render_, MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<sockaddr*>(&address), MHD_OPTION_CONNECTION_LIMIT, limits.connections,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits.memory_per_connection,
      MHD_OPTION_CONNECTION_TIMEOUT, limits.timeout_seconds, MHD_OPTION_END);
  if (!self->daemon_) {
    return "cannot listen on " + listen + ": " +
           (errno != 0 ? std::strerror(errno) : "libmicrohttpd refused");
  }
  return self;
}

MetricsListener::~MetricsListener() {
  if (daemon_) MHD_stop_daemon(daemon_);
}

int MetricsListener::fd() const {
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
  return info ? info->epoll_fd : -1;
}

std::optional<std::chrono::milliseconds> MetricsListener::timeout() const {
  MHD_UNSIGNED_LONG_LONG ms = 0;
  if (MHD_get_timeout(daemon_, &ms) != MHD_YES) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

void MetricsListener::run() {
  MHD_run(daemon_);
}

std::uint16_t MetricsListener::port() const {
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : 0;
}

}  // namespace concierge::app
