// SPDX-License-Identifier: MIT
#include <component/app/calendar_worker.hpp>

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

namespace concierge::app {
namespace {

constexpr std::size_t kMaxFrame = 64u << 20;

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}
bool get_u64(std::string_view& in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  in.remove_prefix(8);
  return true;
}
bool get_str(std::string_view& in, std::string& s) {
  std::uint64_t n = 0;
  if (!get_u64(in, n) || n > in.size()) return false;
  s.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}
std::string frame(std::string_view payload) {
  std::string out;
  put_u64(out, payload.size());
  out.append(payload);
  return out;
}

// Blocking I/O for the child, which does nothing else.
bool read_exact(int fd, char* buf, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t put = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(put));
  }
  return true;
}

double cpu_seconds_used() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

#ifndef CONCIERGE_SANITIZED
std::size_t address_space_now() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0;
  const int n = std::fscanf(f, "%lu", &pages);
  std::fclose(f);
  return n == 1 ? pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}
#endif

[[noreturn]] void child_main(int fd, const CalendarWorkerLimits& limits) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::signal(SIGPIPE, SIG_IGN);
  // Keep freed memory for the next job instead of returning it to the kernel after every one.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  const rlimit no_core{0, 0};  // SIGXCPU would otherwise dump core
  setrlimit(RLIMIT_CORE, &no_core);
#ifndef CONCIERGE_SANITIZED
  if (const std::size_t base = address_space_now(); base > 0) {
    const rlimit as{base + limits.memory_bytes, base + limits.memory_bytes};
    setrlimit(RLIMIT_AS, &as);
  }
#endif
  while (true) {
    char header[8];
    if (!read_exact(fd, header, 8)) _exit(0);
    std::string_view h(header, 8);
    std::uint64_t size = 0;
    get_u64(h, size);
    if (size > kMaxFrame) _exit(3);
    std::string payload(size, '\0');
    if (!read_exact(fd, payload.data(), size)) _exit(0);
    const rlimit cpu{
        static_cast<rlim_t>(cpu_seconds_used()) + static_cast<rlim_t>(limits.cpu_seconds) + 1,
        RLIM_INFINITY};
    setrlimit(RLIMIT_CPU, &cpu);
    std::string answer;
    if (auto request = decode_request(payload)) {
      try {
        auto result = ical::compile(*request);
        answer = result.ok() ? "1" + ical::encode(result.value()) : "0" + result.error();
      } catch (const std::bad_alloc&) {
        answer = "0the calendar needs too much memory to process";
      } catch (const std::exception&) {
        answer = "0the calendar could not be processed";
      }
    } else {
      answer = "0the calendar could not be passed to the worker";
    }
    if (!write_all(fd, frame(answer))) _exit(0);
  }
}

}  // namespace

std::string encode_request(const ical::CompileRequest& r) {
  std::string out;
  put_str(out, r.calendar);
  put_str(out, r.zone);
  put_u64(out, static_cast<std::uint64_t>(r.kind));
  put_str(out, r.hours);
  put_u64(out, static_cast<std::uint64_t>(r.window_from));
  put_u64(out, static_cast<std::uint64_t>(r.window_to));
  put_u64(out, r.unknown_fill ? 1 + static_cast<std::uint64_t>(*r.unknown_fill) : 0);
  put_u64(out, r.limits.max_bytes);
  put_u64(out, r.limits.max_components);
  put_u64(out, r.limits.max_depth);
  put_u64(out, r.limits.max_occurrences);
  put_u64(out, r.limits.max_steps_per_rule);
  put_u64(out, r.limits.max_total_steps);
  return out;
}

std::optional<ical::CompileRequest> decode_request(std::string_view in) {
  ical::CompileRequest r;
  std::uint64_t kind = 0, from = 0, to = 0, fill = 0;
  if (!get_str(in, r.calendar) || !get_str(in, r.zone) || !get_u64(in, kind) ||
      !get_str(in, r.hours) || !get_u64(in, from) || !get_u64(in, to) || !get_u64(in, fill))
    return std::nullopt;
  std::uint64_t l[6];
  for (auto& v : l) {
    if (!get_u64(in, v)) return std::nullopt;
  }
  if (!in.empty() || kind > 1 || fill > 4) return std::nullopt;
  r.kind = static_cast<ical::CalendarKind>(kind);
  r.window_from = static_cast<ical::UtcSeconds>(from);
  r.window_to = static_cast<ical::UtcSeconds>(to);
  if (fill != 0) r.unknown_fill = static_cast<ical::Status>(fill - 1);
  r.limits = {l[0], l[1], l[2], l[3], l[4], l[5]};
  return r;
}

CalendarWorker::CalendarWorker(CalendarWorkerLimits limits) : limits_(limits) {
  spawn();
}

CalendarWorker::~CalendarWorker() {
  stop_child();
}

bool CalendarWorker::spawn() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(fds[1], limits_);
  }
  ::close(fds[1]);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  pid_ = pid;
  fd_ = fds[0];
  return true;
}

void CalendarWorker::stop_child() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  busy_ = false;
  inbox_.clear();
}

CalendarWorker::Outcome CalendarWorker::fail_and_restart(const std::string& reason) {
  stop_child();
  ++restarts_;
  spawn();
  return ical::Error{reason};
}

bool CalendarWorker::start(const ical::CompileRequest& request) {
  if (busy_) return false;
  // Died while idle: replace it. (ECHILD: already reaped, as when SIGCHLD is ignored.)
  const pid_t gone = pid_ > 0 ? waitpid(pid_, nullptr, WNOHANG) : 0;
  if (pid_ > 0 && (gone == pid_ || (gone < 0 && errno == ECHILD))) {
    pid_ = -1;
    stop_child();
    ++restarts_;
  }
  if (pid_ < 0 && !spawn()) return false;
  const std::string data = frame(encode_request(request));
  busy_ = true;
  inbox_.clear();
  deadline_ = Clock::now() + limits_.wall_timeout;
  // The child is idle and reads the whole request before working: this finishes quickly unless
  // the child is dead, which the send reports (EPIPE) and collect() then notices.
  std::string_view rest(data);
  const auto send_deadline = Clock::now() + limits_.wall_timeout;
  while (!rest.empty()) {
    const ssize_t put = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (put > 0) {
      rest.remove_prefix(static_cast<std::size_t>(put));
      continue;
    }
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && Clock::now() < send_deadline) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 50);
      continue;
    }
    break;  // dead or stuck child: collect() reports it
  }
  deadline_ = Clock::now() + limits_.wall_timeout;
  return true;
}

std::optional<CalendarWorker::Outcome> CalendarWorker::collect(Clock::time_point now) {
  if (!busy_) return std::nullopt;
  char buf[65536];
  bool closed = false;
  while (true) {
    const ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got > 0) {
      inbox_.append(buf, static_cast<std::size_t>(got));
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    closed = got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    break;
  }
  if (inbox_.size() >= 8) {
    std::string_view h(inbox_);
    std::uint64_t size = 0;
    get_u64(h, size);
    if (size > kMaxFrame) return fail_and_restart("the calendar worker answered nonsense");
    if (h.size() >= size) {
      const std::string payload(h.substr(0, size));
      busy_ = false;
      inbox_.clear();
      if (!payload.empty() && payload[0] == '1') {
        if (auto schedule = ical::decode(std::string_view(payload).substr(1)))
          return Outcome(*schedule);
        return ical::Error{"the calendar worker answered nonsense"};
      }
      return ical::Error{payload.empty() ? std::string("the calendar could not be read")
                                         : payload.substr(1)};
    }
  }
  if (closed) {
    int status = 0;
    std::string why = "the calendar could not be processed (the worker stopped";
    if (pid_ > 0 && waitpid(pid_, &status, 0) == pid_) {
      pid_ = -1;
      if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        why += sig == SIGXCPU   ? ": it needed too much CPU time"
               : sig == SIGKILL ? ": it was killed"
                                : std::string(": signal ") + std::to_string(sig);
      } else if (WIFEXITED(status)) {
        why += ": it ran out of memory or failed";
      }
    }
    return fail_and_restart(why + ")");
  }
  if (now >= deadline_) {
    return fail_and_restart("the calendar takes too long to process (more than " +
                            std::to_string(limits_.wall_timeout.count()) +
                            " ms); it may be hostile");
  }
  return std::nullopt;
}

CalendarWorker::Outcome CalendarWorker::compile(const ical::CompileRequest& request) {
  if (!start(request)) return ical::Error{"the calendar worker could not be started"};
  while (true) {
    const auto now = Clock::now();
    if (auto done = collect(now)) return std::move(*done);
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now).count();
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::max<long long>(1, std::min<long long>(left + 1, 1000))));
  }
}

}  // namespace concierge::app
