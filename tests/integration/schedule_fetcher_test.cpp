// SPDX-License-Identifier: MIT
// The schedule fetcher against a scripted HTTP server on 127.0.0.1:0, driven by a small poll loop
// as Concierge's own loop drives it. Every wait is bounded.
#include <component/app/schedule_fetcher.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;

struct Reply {
  std::string raw;    // the whole HTTP response
  bool hang = false;  // send raw, then keep the connection open without finishing
};

// One thread, one connection at a time: reads a request head, answers from the script, closes.
class ScriptedServer {
 public:
  using Script = std::function<Reply(const std::string& path, const std::string& head)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    for (int fd : hung_) ::close(fd);
    ::close(listener_);
  }

  std::string url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }
  std::vector<std::string> heads() const {
    std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      std::string head;
      char buf[4096];
      const auto until = std::chrono::steady_clock::now() + 2s;
      while (head.find("\r\n\r\n") == std::string::npos &&
             std::chrono::steady_clock::now() < until) {
        pollfd c{fd, POLLIN, 0};
        if (::poll(&c, 1, 20) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
        if (head[0] == '\x16') break;  // a TLS ClientHello: no HTTP head will come
      }
      {
        std::lock_guard lock(mutex_);
        heads_.push_back(head);
      }
      const auto sp1 = head.find(' ');
      const auto sp2 = sp1 == std::string::npos ? sp1 : head.find(' ', sp1 + 1);
      const std::string path =
          sp2 == std::string::npos ? std::string{} : head.substr(sp1 + 1, sp2 - sp1 - 1);
      const Reply reply = script_(path, head);
      std::size_t sent = 0;
      while (sent < reply.raw.size()) {
        const ssize_t n =
            ::send(fd, reply.raw.data() + sent, reply.raw.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the client gave up (size cap): fine
        sent += static_cast<std::size_t>(n);
      }
      if (reply.hang) {
        hung_.push_back(fd);
      } else {
        ::close(fd);
      }
    }
  }

  Script script_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> heads_;
  std::vector<int> hung_;  // touched by the server thread only until join
};

std::string response(int status, const std::string& reason, const std::string& body,
                     const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         extra_headers + "\r\n" + body;
}

// Concierge's loop in miniature: poll fds() for at most timeout(), dispatch, until a result.
std::vector<FetchResult> drive(ScheduleFetcher& fetcher, std::chrono::milliseconds bound = 5s) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < until) {
    if (auto done = fetcher.take_done(); !done.empty()) return done;
    std::vector<pollfd> polled;
    for (const PollFd& f : fetcher.fds()) polled.push_back({f.fd, f.events, 0});
    auto wait = fetcher.timeout().value_or(100ms);
    wait = std::min<std::chrono::milliseconds>(wait, 100ms);
    const int n = ::poll(polled.data(), polled.size(), static_cast<int>(wait.count()));
    if (n > 0) {
      for (const pollfd& p : polled) {
        if (p.revents != 0) fetcher.on_ready(p.fd, p.revents);
      }
    }
    if (auto t = fetcher.timeout(); t && *t <= 0ms) fetcher.on_timeout();
  }
  return {};
}

FetchLimits local_limits() {
  FetchLimits limits;
  limits.allow_private = true;
  limits.connect_timeout = 2s;
  limits.total_timeout = 3s;
  return limits;
}

const FetchError& error_of(const FetchResult& r) {
  return std::get<FetchError>(r.outcome);
}

constexpr const char* kCalendar =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1M\r\n"
    "BEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

TEST(ScheduleFetcher, FetchesBodyWithValidatorsThenNotModifiedWithConditionalRequest) {
  ScriptedServer server([](const std::string&, const std::string& head) {
    if (head.find("If-None-Match: \"v1\"") != std::string::npos) {
      return Reply{"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n"};
    }
    return Reply{response(200, "OK", kCalendar,
                          "ETag: \"v1\"\r\nLast-Modified: Wed, 21 Oct 2026 07:28:00 GMT\r\n")};
  });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("alice@example.org", server.url("/cal.ics"), std::nullopt);
  auto first = drive(fetcher);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].key, "alice@example.org");
  const auto& ok = std::get<FetchOk>(first[0].outcome);
  EXPECT_EQ(ok.body, kCalendar);
  EXPECT_EQ(ok.validators.etag, "\"v1\"");
  EXPECT_EQ(ok.validators.last_modified, "Wed, 21 Oct 2026 07:28:00 GMT");
  ASSERT_TRUE(ok.refresh_hint);
  EXPECT_EQ(*ok.refresh_hint, 15min);  // PT1M clamped up

  fetcher.fetch("alice@example.org", server.url("/cal.ics"), ok.validators);
  auto second = drive(fetcher);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<FetchNotModified>(second[0].outcome));
  const auto heads = server.heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_NE(heads[1].find("If-Modified-Since: Wed, 21 Oct 2026 07:28:00 GMT"), std::string::npos);
  EXPECT_EQ(fetcher.in_flight(), 0u);
}

TEST(ScheduleFetcher, BadCalendarBodyIsStillReturned) {
  ScriptedServer server([](const std::string&, const std::string&) {
    return Reply{response(200, "OK", "this is not a calendar")};
  });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("bob@example.org", server.url("/x"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(std::get<FetchOk>(done[0].outcome).body, "this is not a calendar");
  EXPECT_FALSE(std::get<FetchOk>(done[0].outcome).refresh_hint);
}

TEST(ScheduleFetcher, BodyOverTheCapIsRefused) {
  ScriptedServer server([](const std::string&, const std::string&) {
    // No Content-Length: the cap must hold in the write callback, not only on the header.
    return Reply{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(200'000, 'x')};
  });
  auto limits = local_limits();
  limits.max_bytes = 100'000;
  ScheduleFetcher fetcher(limits);
  fetcher.fetch("carol@example.org", server.url("/big/secret-token/cal.ics"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  const auto& e = error_of(done[0]);
  EXPECT_NE(e.message.find("larger than the limit of 100000 bytes"), std::string::npos)
      << e.message;
  EXPECT_EQ(e.message.find("secret-token"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("http://127.0.0.1/…"), std::string::npos) << e.message;
}

// A gzip stream written by hand (no zlib in the test's link line): one fixed-Huffman deflate block
// holding 'A' and then `copies` back-references of 258 bytes at distance 1.
std::string gzip_of_repeated_a(std::size_t copies, std::size_t* plain_size) {
  std::string out = {'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\xff'};
  std::uint32_t bitbuf = 0;
  int bits = 0;
  auto put = [&](std::uint32_t value, int n) {  // LSB first
    bitbuf |= value << bits;
    bits += n;
    while (bits >= 8) {
      out.push_back(static_cast<char>(bitbuf & 0xff));
      bitbuf >>= 8;
      bits -= 8;
    }
  };
  auto put_code = [&](std::uint32_t code, int n) {  // Huffman codes go MSB first
    for (int i = n - 1; i >= 0; --i) put((code >> i) & 1u, 1);
  };
  put(1, 1);                // BFINAL
  put(1, 2);                // fixed Huffman
  put_code(0x30 + 'A', 8);  // literal 'A'
  for (std::size_t i = 0; i < copies; ++i) {
    put_code(0xC0 + 5, 8);  // length symbol 285 = 258
    put_code(0, 5);         // distance 1
  }
  put_code(0, 7);  // end of block
  if (bits > 0) put(0, 8 - bits);
  const std::size_t size = 1 + 258 * copies;
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= static_cast<std::uint8_t>('A');
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xffffffffu;
  for (std::uint32_t v : {crc, static_cast<std::uint32_t>(size)}) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
  }
  *plain_size = size;
  return out;
}

TEST(ScheduleFetcher, CapAppliesAfterDecompression) {
  std::size_t small_size = 0, big_size = 0;
  const std::string small = gzip_of_repeated_a(100, &small_size);  // 25 801 bytes
  const std::string big = gzip_of_repeated_a(2'000, &big_size);    // 516 001 bytes
  ASSERT_LT(big.size(), 5'000u);                                   // small on the wire
  ScriptedServer server([&](const std::string& path, const std::string&) {
    return Reply{response(200, "OK", path == "/small" ? small : big, "Content-Encoding: gzip\r\n")};
  });
  auto limits = local_limits();
  limits.max_bytes = 100'000;
  ScheduleFetcher fetcher(limits);

  fetcher.fetch("dave@example.org", server.url("/small"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(std::get<FetchOk>(done[0].outcome).body, std::string(small_size, 'A'));

  fetcher.fetch("dave@example.org", server.url("/big"), std::nullopt);
  done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(error_of(done[0]).message.find("larger than the limit"), std::string::npos)
      << error_of(done[0]).message;
}

Reply redirect_chain(const std::string& path) {
  // /r/N redirects to /r/N-1; /r/0 answers.
  const int n = std::stoi(path.substr(3));
  if (n == 0) return Reply{response(200, "OK", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")};
  return Reply{"HTTP/1.1 302 Found\r\nLocation: /r/" + std::to_string(n - 1) +
               "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"};
}

TEST(ScheduleFetcher, FollowsThreeRedirectsButNotFour) {
  ScriptedServer server(
      [](const std::string& path, const std::string&) { return redirect_chain(path); });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("erin@example.org", server.url("/r/3"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<FetchOk>(done[0].outcome));

  fetcher.fetch("erin@example.org", server.url("/r/4"), std::nullopt);
  done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(error_of(done[0]).message.find("redirects more than 3 times"), std::string::npos)
      << error_of(done[0]).message;
  EXPECT_EQ(server.connections(), 4 + 4);  // the 5th hop of the second chain was never requested
}

TEST(ScheduleFetcher, SlowServerTimesOutWithoutBlockingTheLoop) {
  ScriptedServer server([](const std::string&, const std::string&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nBEGIN:", true};
  });
  auto limits = local_limits();
  limits.total_timeout = 300ms;
  ScheduleFetcher fetcher(limits);
  const auto start = std::chrono::steady_clock::now();
  fetcher.fetch("frank@example.org", server.url("/slow"), std::nullopt);
  auto done = drive(fetcher, 3s);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(done.size(), 1u);
  const auto& e = error_of(done[0]);
  EXPECT_TRUE(e.retryable);
  EXPECT_NE(e.message.find("took too long"), std::string::npos) << e.message;
  EXPECT_LT(took, 2s);
}

TEST(ScheduleFetcher, ServiceUnavailableIsRetryableWithRetryAfter) {
  ScriptedServer server([](const std::string& path, const std::string&) {
    if (path == "/busy")
      return Reply{response(429, "Too Many Requests", "", "Retry-After: 120\r\n")};
    return Reply{response(503, "Service Unavailable", "", "Retry-After: 30\r\n")};
  });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("gina@example.org", server.url("/down"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(error_of(done[0]).retryable);
  EXPECT_EQ(error_of(done[0]).retry_after, std::chrono::seconds{30});

  fetcher.fetch("gina@example.org", server.url("/busy"), std::nullopt);
  done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(error_of(done[0]).retryable);
  EXPECT_EQ(error_of(done[0]).retry_after, std::chrono::seconds{120});
}

TEST(ScheduleFetcher, RetryAfterAsHttpDate) {
  const std::time_t in_a_minute = std::time(nullptr) + 60;
  std::tm utc{};
  ::gmtime_r(&in_a_minute, &utc);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  ScriptedServer server([&](const std::string&, const std::string&) {
    return Reply{
        response(503, "Service Unavailable", "", "Retry-After: " + std::string(date) + "\r\n")};
  });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("pia@example.org", server.url("/down"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(error_of(done[0]).retry_after);
  EXPECT_GE(*error_of(done[0]).retry_after, std::chrono::seconds{55});
  EXPECT_LE(*error_of(done[0]).retry_after, std::chrono::seconds{60});
}

TEST(ScheduleFetcher, NotFoundIsNotRetryable) {
  ScriptedServer server(
      [](const std::string&, const std::string&) { return Reply{response(404, "Not Found", "")}; });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("hal@example.org", server.url("/gone?token=s3cret"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(error_of(done[0]).retryable);
  EXPECT_NE(error_of(done[0]).message.find("HTTP 404"), std::string::npos);
  EXPECT_EQ(error_of(done[0]).message.find("s3cret"), std::string::npos);
}

TEST(ScheduleFetcher, LoopbackRefusedBySsrfGuardWithoutAnyConnection) {
  ScriptedServer server(
      [](const std::string&, const std::string&) { return Reply{response(200, "OK", kCalendar)}; });
  FetchLimits limits;  // allow_private off
  limits.connect_timeout = 2s;
  limits.total_timeout = 3s;
  ScheduleFetcher fetcher(limits);
  fetcher.fetch("ivan@example.org", server.url("/secret/cal.ics", "https"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  const auto& e = error_of(done[0]);
  EXPECT_NE(e.message.find("the calendar's address (127.0.0.1) is not allowed"), std::string::npos)
      << e.message;
  EXPECT_EQ(e.message.find("secret"), std::string::npos);
  EXPECT_FALSE(e.retryable);

  fetcher.fetch(
      "ivan@example.org",
      "https://localhost:" + server.url("").substr(std::strlen("http://127.0.0.1:")) + "/cal.ics",
      std::nullopt);
  done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<FetchError>(done[0].outcome));
  EXPECT_NE(error_of(done[0]).message.find("(localhost) is not allowed: it leads to"),
            std::string::npos)
      << error_of(done[0]).message;
  EXPECT_EQ(server.connections(), 0);
}

TEST(ScheduleFetcher, ProxyEnvironmentIsIgnored) {
  ScriptedServer server(
      [](const std::string&, const std::string&) { return Reply{response(200, "OK", kCalendar)}; });
  // A proxy that does not exist: honouring it would fail the fetch.
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  ::setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
  ::setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("nina@example.org", server.url("/cal.ics"), std::nullopt);
  auto done = drive(fetcher);
  ::unsetenv("http_proxy");
  ::unsetenv("HTTPS_PROXY");
  ::unsetenv("ALL_PROXY");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<FetchOk>(done[0].outcome));
  EXPECT_EQ(server.connections(), 1);
}

TEST(ScheduleFetcher, DestroyedWithTransfersInFlight) {
  ScriptedServer server([](const std::string&, const std::string&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nBEGIN:", true};
  });
  auto fetcher = std::make_unique<ScheduleFetcher>(local_limits());
  fetcher->fetch("olga@example.org", server.url("/slow"), std::nullopt);
  EXPECT_TRUE(drive(*fetcher, 200ms).empty());  // connected and waiting for the rest
  fetcher.reset();                              // must not touch freed state (ASan)
}

TEST(ScheduleFetcher, PlainHttpRefusedUnlessPrivateAllowed) {
  ScriptedServer server(
      [](const std::string&, const std::string&) { return Reply{response(200, "OK", kCalendar)}; });
  ScheduleFetcher fetcher(FetchLimits{});
  fetcher.fetch("judy@example.org", server.url("/cal.ics"), std::nullopt);
  EXPECT_EQ(fetcher.timeout(), 0ms);  // the refusal is ready at once
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(error_of(done[0]).message.find("only https"), std::string::npos);
  fetcher.fetch("judy@example.org", "ftp://example.org/cal.ics", std::nullopt);
  done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_NE(error_of(done[0]).message.find("only https"), std::string::npos);
  EXPECT_EQ(server.connections(), 0);
}

TEST(ScheduleFetcher, WithPrivateAllowedPlainHttpRedirectsAreFollowed) {
  // The https-only redirect list cannot be tested on loopback without TLS; this is its converse.
  ScriptedServer server(
      [](const std::string& path, const std::string&) { return redirect_chain(path); });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("kim@example.org", server.url("/r/1"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<FetchOk>(done[0].outcome));
}

TEST(ScheduleFetcher, WebcalIsFetchedOverHttps) {
  // The server speaks plain HTTP, so the TLS handshake fails: what matters is that it was TLS.
  ScriptedServer server(
      [](const std::string&, const std::string&) { return Reply{response(200, "OK", kCalendar)}; });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("leo@example.org", server.url("/cal.ics", "webcal"), std::nullopt);
  auto done = drive(fetcher);
  ASSERT_EQ(done.size(), 1u);
  const auto& e = error_of(done[0]);
  EXPECT_NE(e.message.find("https://127.0.0.1/…"), std::string::npos) << e.message;
  ASSERT_EQ(server.connections(), 1);
  const auto heads = server.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_FALSE(heads[0].starts_with("GET"));                  // not plain HTTP
  EXPECT_EQ(static_cast<unsigned char>(heads[0][0]), 0x16u);  // a TLS handshake record
}

TEST(ScheduleFetcher, CancelDropsTheResult) {
  ScriptedServer server([](const std::string&, const std::string&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true};
  });
  ScheduleFetcher fetcher(local_limits());
  fetcher.fetch("mia@example.org", server.url("/slow"), std::nullopt);
  EXPECT_EQ(fetcher.in_flight(), 1u);
  fetcher.cancel("mia@example.org");
  EXPECT_EQ(fetcher.in_flight(), 0u);
  EXPECT_TRUE(drive(fetcher, 300ms).empty());
}

sockaddr_storage v4(const char* text) {
  sockaddr_storage s{};
  auto* in = reinterpret_cast<sockaddr_in*>(&s);
  in->sin_family = AF_INET;
  ::inet_pton(AF_INET, text, &in->sin_addr);
  return s;
}
sockaddr_storage v6(const char* text) {
  sockaddr_storage s{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
  in6->sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, text, &in6->sin6_addr);
  return s;
}
bool is_public(const sockaddr_storage& s) {
  return is_public_address(reinterpret_cast<const sockaddr*>(&s));
}

TEST(ScheduleFetcherAddresses, RefusesLocalPrivateAndSpecialRanges) {
  for (const char* a : {"127.0.0.1", "127.9.9.9", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                        "192.168.1.1", "169.254.169.254", "100.64.0.1", "100.127.255.255",
                        "0.0.0.0", "224.0.0.1", "255.255.255.255"}) {
    EXPECT_FALSE(is_public(v4(a))) << a;
  }
  for (const char* a :
       {"::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:c0a8:0101::1"}) {
    EXPECT_FALSE(is_public(v6(a))) << a;
  }
  for (const char* a : {"8.8.8.8", "172.32.0.1", "100.128.0.1", "93.184.216.34"}) {
    EXPECT_TRUE(is_public(v4(a))) << a;
  }
  for (const char* a : {"2001:4860:4860::8888", "::ffff:8.8.8.8", "2606:4700::1111"}) {
    EXPECT_TRUE(is_public(v6(a))) << a;
  }
}

TEST(ScheduleFetcher, AtMostMaxParallelTransfersTheRestWaitTheirTurn) {
  ScriptedServer server([](const std::string& path, const std::string&) {
    return Reply{response(200, "OK", "BEGIN:VCALENDAR\r\nX-PATH:" + path + "\r\nEND:VCALENDAR\r\n")};
  });
  FetchLimits limits;
  limits.allow_private = true;
  limits.max_parallel = 2;
  ScheduleFetcher fetcher(limits);
  for (int i = 0; i < 5; ++i) {
    fetcher.fetch("user" + std::to_string(i), server.url("/" + std::to_string(i) + ".ics"), std::nullopt);
  }
  EXPECT_EQ(fetcher.in_flight(), 2u);
  EXPECT_EQ(fetcher.waiting(), 3u);
  fetcher.cancel("user4");  // a waiting one can be withdrawn too
  EXPECT_EQ(fetcher.waiting(), 2u);
  std::set<std::string> fetched;
  for (int round = 0; round < 10 && fetched.size() < 4; ++round) {
    for (auto& r : drive(fetcher)) {
      ASSERT_TRUE(std::holds_alternative<FetchOk>(r.outcome)) << r.key;
      EXPECT_NE(std::get<FetchOk>(r.outcome).body.find("X-PATH:/" + r.key.substr(4) + ".ics"),
                std::string::npos) << "each result is its own URL's";
      fetched.insert(r.key);
      EXPECT_LE(fetcher.in_flight(), 2u);
    }
  }
  EXPECT_EQ(fetched, (std::set<std::string>{"user0", "user1", "user2", "user3"}));
  EXPECT_EQ(fetcher.waiting(), 0u);
  EXPECT_EQ(server.connections(), 4) << "the cancelled one never went out";
}

}  // namespace
}  // namespace concierge::app
