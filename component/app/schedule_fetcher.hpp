// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

struct sockaddr;

namespace concierge::app {

// Limits of one schedule URL fetch (DESIGN §11). Defaults match the config's schedule.* defaults.
struct FetchLimits {
  std::chrono::milliseconds connect_timeout{10'000};  // TCP + TLS handshake
  std::chrono::milliseconds total_timeout{30'000};    // the whole transfer, redirects included
  long max_redirects = 3;                             // a 4th redirect fails the fetch
  // Transfers at once; more wait their turn (at startup or a reload every URL is due together,
  // and ten thousand sockets at once would help nobody). The time limits start with the transfer.
  std::size_t max_parallel = 16;
  std::size_t max_bytes = 5'000'000;  // schedule.max_bytes, counted after decompression
  // schedule.allow_private_urls: allows loopback/private/link-local/... addresses and plain http
  // (tests and intranets). Off, only https to public addresses is fetched.
  bool allow_private = false;
};

// What the last good fetch of a URL returned, sent back as If-None-Match / If-Modified-Since.
struct Validators {
  std::string etag;           // empty: none
  std::string last_modified;  // the server's HTTP-date as received; empty: none
};

// A descriptor libcurl wants watched: events are POLLIN and/or POLLOUT.
struct PollFd {
  int fd = -1;
  short events = 0;
};

struct FetchOk {
  std::string body;  // the calendar text as received (decompressed, unparsed)
  Validators validators;
  // REFRESH-INTERVAL / X-PUBLISHED-TTL from the body, clamped to [15 min, 24 h]; none if absent.
  std::optional<std::chrono::seconds> refresh_hint;
};
struct FetchNotModified {};
struct FetchError {
  // For the user: says what failed, names at most scheme://host/… — never the full URL.
  std::string message;
  bool retryable = false;  // 429, 5xx, timeouts, network failures: the caller backs off and retries
  std::optional<std::chrono::seconds> retry_after;  // from a Retry-After header, if any
};
using FetchOutcome = std::variant<FetchOk, FetchNotModified, FetchError>;

struct FetchResult {
  std::string key;  // as given to fetch()
  std::string url;  // as given to fetch()
  FetchOutcome outcome;
};

// True when an address may be connected to with allow_private off: not loopback, private,
// link-local (incl. 169.254.169.254), CGNAT, ULA, unspecified, multicast/broadcast/reserved, nor an
// IPv4-mapped/compatible/NAT64/6to4 IPv6 form of one of those. Non-IP families are refused.
bool is_public_address(const sockaddr* address);
// The address as text ("192.0.2.1", "2001:db8::1"; "?" for another family), for messages.
std::string address_text(const sockaddr* address);

// Fetches schedule URLs with libcurl's multi interface, never blocking: the owner's poll loop
// watches fds() and timeout() and calls on_ready()/on_timeout(); results are collected with
// take_done(). Every socket's address is checked as it opens (redirects and DNS rebinding
// included). Single-threaded: all calls from the loop's thread. Not copyable or movable (it is
// the userdata of libcurl callbacks).
class ScheduleFetcher {
 public:
  explicit ScheduleFetcher(FetchLimits limits);
  ~ScheduleFetcher();
  ScheduleFetcher(const ScheduleFetcher&) = delete;
  ScheduleFetcher& operator=(const ScheduleFetcher&) = delete;
  ScheduleFetcher(ScheduleFetcher&&) = delete;
  ScheduleFetcher& operator=(ScheduleFetcher&&) = delete;

  // Starts fetching url for key (the user's bare JID). webcal:// is fetched as https://; http://
  // only with allow_private. A second fetch for a key replaces the first (whose result is dropped,
  // also one already waiting in take_done()). A URL refused at once yields
  // its error through take_done().
  void fetch(std::string key, std::string url, std::optional<Validators> cached);
  // The limits for fetches from now on (a reload of [schedule]); addresses are checked against
  // them as sockets open, so a fetch in flight is covered too.
  void set_limits(FetchLimits limits) { limits_ = limits; }

  // Abandons key's fetch, if any; no result is reported for it (nor one still waiting in
  // take_done()).
  void cancel(const std::string& key);

  // The descriptors to poll now (changes after every call below).
  std::vector<PollFd> fds() const;
  // How long the loop may sleep before on_timeout(): none = no deadline; zero = call now (also
  // when results are waiting in take_done()).
  std::optional<std::chrono::milliseconds> timeout() const;
  void on_ready(int fd, short revents);  // revents as poll() returned them
  void on_timeout();

  std::vector<FetchResult> take_done();
  std::size_t in_flight() const { return transfers_.size(); }
  std::size_t waiting() const { return waiting_.size(); }

 private:
  struct Transfer;  // one easy handle with its buffers (defined in the .cpp)

  struct MultiDeleter {
    void operator()(void* multi) const noexcept;
  };

  void collect_finished();
  void start_waiting();  // as many waiting fetches as max_parallel allows
  void add_done(FetchResult result);
  void finish(Transfer& transfer, int curl_code);

  FetchLimits limits_;
  std::unique_ptr<void, MultiDeleter> multi_;                      // CURLM*
  std::map<std::string, std::unique_ptr<Transfer>> transfers_;     // by key
  std::map<int, short> sockets_;                                   // from CURLMOPT_SOCKETFUNCTION
  std::optional<std::chrono::steady_clock::time_point> deadline_;  // from CURLMOPT_TIMERFUNCTION
  std::vector<FetchResult> done_;
  std::unordered_set<std::string> done_keys_;  // the keys in done_
  struct Waiting {
    std::string key;
    std::string url;
    std::optional<Validators> cached;
  };
  std::deque<Waiting> waiting_;
  std::unordered_set<std::string> waiting_keys_;  // the keys in waiting_ (each at most once)

  friend struct FetcherCallbacks;
};

}  // namespace concierge::app
