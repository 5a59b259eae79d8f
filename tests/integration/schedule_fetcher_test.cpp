// SPDX-License-Identifier: MIT
// The schedule fetcher against a scripted HTTP server on 127.0.0.1:0: bodies and validators,
// size caps (also after decompression), redirects, slow servers.
#include <tests/integration/schedule_fetcher_test_support.hpp>

namespace concierge::app {
namespace {

using namespace std::chrono_literals;
using namespace schedule_fetcher_test;

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

}  // namespace
}  // namespace concierge::app
