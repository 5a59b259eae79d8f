// SPDX-License-Identifier: MIT
// What the schedule fetcher retries, refuses and limits: Retry-After, the SSRF guard and its
// address ranges, plain http, proxies, webcal, cancelling, parallel transfers.
#include <tests/integration/schedule_fetcher_test_support.hpp>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using namespace schedule_fetcher_test;

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
    return Reply{
        response(200, "OK", "BEGIN:VCALENDAR\r\nX-PATH:" + path + "\r\nEND:VCALENDAR\r\n")};
  });
  FetchLimits limits;
  limits.allow_private = true;
  limits.max_parallel = 2;
  ScheduleFetcher fetcher(limits);
  for (int i = 0; i < 5; ++i) {
    fetcher.fetch("user" + std::to_string(i), server.url("/" + std::to_string(i) + ".ics"),
                  std::nullopt);
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
                std::string::npos)
          << "each result is its own URL's";
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
