// SPDX-License-Identifier: MIT
#include <component/app/event_loop.hpp>

#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>

namespace concierge::app {
namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void EventLoop::block_signals() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

EventLoop::EventLoop() {
  sigset_t set = handled_signals();
  signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

EventLoop::~EventLoop() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void EventLoop::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

EventLoop::Woken EventLoop::wait(std::vector<pollfd>& fds, std::chrono::milliseconds timeout) {
  fds.insert(fds.begin(), {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}});
  const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
  const int saved = errno;
  Woken woken;
  woken.failed = ready < 0 && saved != EINTR;
  const bool signalled = ready > 0 && (fds[0].revents & POLLIN);
  const bool woke = ready > 0 && (fds[1].revents & POLLIN);
  fds.erase(fds.begin(), fds.begin() + 2);
  if (signalled) {
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      woken.signals.push_back(static_cast<int>(info.ssi_signo));
    }
  }
  if (woke) {
    std::uint64_t value;
    [[maybe_unused]] auto n = ::read(wake_fd_, &value, sizeof value);
  }
  errno = saved;
  return woken;
}

}  // namespace concierge::app
