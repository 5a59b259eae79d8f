// SPDX-License-Identifier: MIT
#include <component/app/schedule_fetcher.hpp>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <component/app/fetch_headers.hpp>

namespace concierge::app {

namespace {

using namespace std::chrono_literals;

struct EasyDeleter {
  void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("libcurl could not be initialised");
    }
  });
}

// "scheme://host/…": all of a URL that may be shown or logged.
std::string display_url(const std::string& scheme, const std::string& host) {
  return scheme + "://" + host + "/…";
}

}  // namespace

struct ScheduleFetcher::Transfer {
  ScheduleFetcher* owner = nullptr;
  std::string key;
  std::string url;        // as given to fetch(): tells the caller which URL a result is for
  std::string shown_url;  // scheme://host/…
  std::string host;
  std::unique_ptr<CURL, EasyDeleter> easy;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  std::string body;
  bool too_big = false;
  std::string refused_address;  // the last address the SSRF guard refused, as text
};

// The C trampolines: noexcept, and nothing thrown crosses into libcurl.
struct FetcherCallbacks {
  static int on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) noexcept {
    try {
      auto* self = static_cast<ScheduleFetcher*>(userp);
      switch (what) {
        case CURL_POLL_IN:
          self->sockets_[s] = POLLIN;
          break;
        case CURL_POLL_OUT:
          self->sockets_[s] = POLLOUT;
          break;
        case CURL_POLL_INOUT:
          self->sockets_[s] = POLLIN | POLLOUT;
          break;
        default:
          self->sockets_.erase(s);
          break;
      }
      return 0;
    } catch (...) {
      return -1;
    }
  }

  static int on_timer(CURLM*, long timeout_ms, void* userp) noexcept {
    auto* self = static_cast<ScheduleFetcher*>(userp);
    if (timeout_ms < 0) {
      self->deadline_.reset();
    } else {
      self->deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
    }
    return 0;
  }

  static std::size_t on_write(char* data, std::size_t size, std::size_t count,
                              void* userp) noexcept {
    auto* t = static_cast<ScheduleFetcher::Transfer*>(userp);
    const std::size_t n = size * count;
    if (t->body.size() + n > t->owner->limits_.max_bytes) {
      t->too_big = true;
      return 0;  // CURLE_WRITE_ERROR: the transfer stops here
    }
    try {
      t->body.append(data, n);
    } catch (...) {
      return 0;
    }
    return n;
  }

  static curl_socket_t on_open_socket(void* userp, curlsocktype, curl_sockaddr* address) noexcept {
    auto* t = static_cast<ScheduleFetcher::Transfer*>(userp);
    if (!t->owner->limits_.allow_private) {
      const bool complete =
          (address->family == AF_INET && address->addrlen >= sizeof(sockaddr_in)) ||
          (address->family == AF_INET6 && address->addrlen >= sizeof(sockaddr_in6));
      if (!complete || !is_public_address(&address->addr)) {
        try {
          t->refused_address = complete ? address_text(&address->addr) : "?";
        } catch (...) {
          t->refused_address = "?";
        }
        return CURL_SOCKET_BAD;  // curl never connects; the transfer fails with COULDNT_CONNECT
      }
    }
    // CLOEXEC: the calendar worker is a child process and must not inherit these sockets.
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  }
};


void ScheduleFetcher::MultiDeleter::operator()(void* multi) const noexcept {
  curl_multi_cleanup(static_cast<CURLM*>(multi));
}

ScheduleFetcher::ScheduleFetcher(FetchLimits limits) : limits_(limits) {
  global_init_once();
  multi_.reset(curl_multi_init());
  if (!multi_) throw std::runtime_error("libcurl: could not create a multi handle");
  CURLM* m = multi_.get();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &FetcherCallbacks::on_socket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &FetcherCallbacks::on_timer);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, static_cast<void*>(this));
}

ScheduleFetcher::~ScheduleFetcher() {
  for (auto& [key, transfer] : transfers_)
    curl_multi_remove_handle(multi_.get(), transfer->easy.get());
  transfers_.clear();
  // Closing cached connections calls on_socket, which touches sockets_: clean up while it lives.
  multi_.reset();
}

void ScheduleFetcher::cancel(const std::string& key) {
  if (done_keys_.erase(key)) std::erase_if(done_, [&](const FetchResult& r) { return r.key == key; });
  // Scanned only when the key waits: fetch() cancels first, and a startup queues thousands.
  if (waiting_keys_.erase(key)) std::erase_if(waiting_, [&](const Waiting& w) { return w.key == key; });
  auto it = transfers_.find(key);
  if (it == transfers_.end()) return;
  curl_multi_remove_handle(multi_.get(), it->second->easy.get());
  transfers_.erase(it);
  start_waiting();  // the freed slot goes to the next in line
}

void ScheduleFetcher::fetch(std::string key, std::string url, std::optional<Validators> cached) {
  cancel(key);
  if (transfers_.size() >= std::max<std::size_t>(1, limits_.max_parallel)) {
    waiting_keys_.insert(key);
    waiting_.push_back({std::move(key), std::move(url), std::move(cached)});
    return;
  }
  auto refuse = [&](std::string message) {
    add_done({std::move(key), url, FetchError{std::move(message), false, std::nullopt}});
  };

  // Parse before curl sees it: the scheme decides what is allowed, the host is what may be shown.
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) !=
                     CURLUE_OK) {
    return refuse("the schedule address is not a valid URL");
  }
  auto part = [&](CURLUPart which) -> std::string {
    char* text = nullptr;
    if (curl_url_get(parsed.get(), which, &text, 0) != CURLUE_OK || text == nullptr) return {};
    std::string copy = text;
    curl_free(text);
    return copy;
  };
  std::string scheme = part(CURLUPART_SCHEME);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string host = part(CURLUPART_HOST);
  if (scheme == "webcal" || scheme == "webcals") {
    scheme = "https";
    curl_url_set(parsed.get(), CURLUPART_SCHEME, "https", 0);
  }
  if (scheme != "https" && !(scheme == "http" && limits_.allow_private)) {
    return refuse(scheme == "http" ? "only https calendar addresses are allowed (" +
                                         display_url(scheme, host) + ")"
                                   : "only https calendar addresses are allowed");
  }
  if (host.empty()) return refuse("the schedule address has no host");
  const std::string final_url = part(CURLUPART_URL);

  auto t = std::make_unique<Transfer>();
  t->owner = this;
  t->key = key;
  t->url = url;
  t->host = host;
  t->shown_url = display_url(scheme, host);
  t->easy.reset(curl_easy_init());
  if (!t->easy) return refuse("the calendar could not be fetched (out of resources)");
  CURL* e = t->easy.get();
  const char* protocols = limits_.allow_private ? "http,https" : "https";
  curl_easy_setopt(e, CURLOPT_URL, final_url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, limits_.max_redirects);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(limits_.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(limits_.total_timeout.count()));
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits_.max_bytes));
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // curl decompresses; the cap sees the result
  curl_easy_setopt(e, CURLOPT_PROXY, "");            // the proxy environment is ignored
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "Concierge schedule fetcher");
  curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(t.get()));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &FetcherCallbacks::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(t.get()));
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &FetcherCallbacks::on_open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, static_cast<void*>(t.get()));
  if (cached) {
    curl_slist* list = nullptr;
    auto add = [&list](const std::string& line) {
      if (line.find_first_of("\r\n") != std::string::npos) return;  // no header injection
      if (curl_slist* grown = curl_slist_append(list, line.c_str())) list = grown;
    };
    if (!cached->etag.empty()) add("If-None-Match: " + cached->etag);
    if (!cached->last_modified.empty()) add("If-Modified-Since: " + cached->last_modified);
    t->headers.reset(list);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
  }
  if (curl_multi_add_handle(multi_.get(), e) != CURLM_OK) {
    return refuse("the calendar could not be fetched (out of resources)");
  }
  transfers_[key] = std::move(t);
}

std::vector<PollFd> ScheduleFetcher::fds() const {
  std::vector<PollFd> out;
  out.reserve(sockets_.size());
  for (const auto& [fd, events] : sockets_) out.push_back({fd, events});
  return out;
}

std::optional<std::chrono::milliseconds> ScheduleFetcher::timeout() const {
  if (!done_.empty()) return std::chrono::milliseconds{0};
  if (!deadline_) return std::nullopt;
  const auto left = *deadline_ - std::chrono::steady_clock::now();
  // Round up, so a loop that sleeps this long does not wake a millisecond early and spin.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left);
  return std::max(ms, std::chrono::milliseconds{0});
}

void ScheduleFetcher::on_ready(int fd, short revents) {
  int mask = 0;
  if (revents & POLLIN) mask |= CURL_CSELECT_IN;
  if (revents & POLLOUT) mask |= CURL_CSELECT_OUT;
  if (revents & (POLLERR | POLLHUP | POLLNVAL)) mask |= CURL_CSELECT_ERR;
  int running = 0;
  curl_multi_socket_action(multi_.get(), fd, mask, &running);
  collect_finished();
}

void ScheduleFetcher::on_timeout() {
  int running = 0;
  curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
  collect_finished();
}

std::vector<FetchResult> ScheduleFetcher::take_done() {
  std::vector<FetchResult> out;
  out.swap(done_);
  done_keys_.clear();
  return out;
}

void ScheduleFetcher::collect_finished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    void* data = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &data);
    auto* transfer = static_cast<Transfer*>(data);
    const int code = msg->data.result;
    curl_multi_remove_handle(multi_.get(), msg->easy_handle);
    if (transfer == nullptr) continue;
    finish(*transfer, code);
    transfers_.erase(transfer->key);  // destroys transfer and its easy handle
  }
  start_waiting();
}

void ScheduleFetcher::add_done(FetchResult result) {
  done_keys_.insert(result.key);
  done_.push_back(std::move(result));
}

void ScheduleFetcher::start_waiting() {
  while (!waiting_.empty() && transfers_.size() < std::max<std::size_t>(1, limits_.max_parallel)) {
    Waiting next = std::move(waiting_.front());
    waiting_.pop_front();
    waiting_keys_.erase(next.key);
    fetch(std::move(next.key), std::move(next.url), std::move(next.cached));
  }
}

void ScheduleFetcher::finish(Transfer& t, int curl_code) {
  const auto code = static_cast<CURLcode>(curl_code);
  const std::string& where = t.shown_url;
  auto error = [&](std::string message, bool retryable,
                   std::optional<std::chrono::seconds> retry_after = std::nullopt) {
    add_done({t.key, t.url, FetchError{std::move(message), retryable, retry_after}});
  };
  // With several addresses (IPv4 and IPv6, happy eyeballs) one may be refused while another
  // connects: only a failed transfer is blamed on the guard.
  if (!t.refused_address.empty() && code != CURLE_OK) {
    std::string message = "the calendar's address (" + t.host + ") is not allowed: it";
    if (t.refused_address != t.host) message += " leads to " + t.refused_address + ",";
    return error(message + " a local or private network address", false);
  }
  if (t.too_big || code == CURLE_FILESIZE_EXCEEDED) {
    return error("the calendar at " + where + " is larger than the limit of " +
                     std::to_string(limits_.max_bytes) + " bytes",
                 false);
  }
  switch (code) {
    case CURLE_OK:
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      return error("the calendar at " + where + " redirects more than " +
                       std::to_string(limits_.max_redirects) + " times",
                   false);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return error("the calendar at " + where + " redirects to an address that is not https",
                   false);
    case CURLE_OPERATION_TIMEDOUT:
      return error("the calendar at " + where + " took too long to answer", true);
    case CURLE_COULDNT_RESOLVE_HOST:
      return error("the calendar's host (" + t.host + ") was not found", true);
    case CURLE_COULDNT_CONNECT:
      return error("could not connect to the calendar at " + where, true);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
      return error("no secure connection to the calendar at " + where +
                       " (TLS failed or the certificate is not trusted)",
                   false);
    default:
      // curl_easy_strerror describes the code only; it never contains the URL.
      return error(
          "the calendar at " + where + " could not be fetched: " + curl_easy_strerror(code), true);
  }
  long status = 0;
  curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status == 304) {
    add_done({t.key, t.url, FetchNotModified{}});
    return;
  }
  if (status == 429 || status >= 500) {
    const auto retry_after = parse_retry_after(response_header(t.easy.get(), "Retry-After").value_or(""));
    return error("the calendar at " + where + " is unavailable for now (HTTP " +
                     std::to_string(status) + ")",
                 true, retry_after);
  }
  if (status < 200 || status >= 300) {
    return error("the calendar at " + where + " was refused by its server (HTTP " +
                     std::to_string(status) + ")",
                 false);
  }
  if (t.body.empty()) {
    return error("the calendar at " + where + " is empty", false);
  }
  FetchOk ok;
  ok.validators.etag = response_header(t.easy.get(), "ETag").value_or("");
  ok.validators.last_modified = response_header(t.easy.get(), "Last-Modified").value_or("");
  ok.refresh_hint = refresh_hint(t.body);
  ok.body = std::move(t.body);
  add_done({t.key, t.url, std::move(ok)});
}

}  // namespace concierge::app
