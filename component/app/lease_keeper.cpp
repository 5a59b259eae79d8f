// SPDX-License-Identifier: MIT
#include <component/app/lease_keeper.hpp>

#include <unistd.h>

#include <array>
#include <random>
#include <utility>

namespace concierge::app {

LeaseKeeper::LeaseKeeper(std::unique_ptr<store::LeaseBackend> backend, std::string holder,
                         LeaseTimings timings)
    : backend_(std::move(backend)),
      holder_(std::move(holder)),
      timings_(timings),
      term_(timings) {}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::start(std::function<void()> changed) {
  changed_ = std::move(changed);
  thread_ = std::thread([this] { run(); });
}

LeaseKeeper::State LeaseKeeper::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void LeaseKeeper::release() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (const auto epoch = term_.held(Clock::now())) backend_->release(holder_, *epoch);
}

std::string LeaseKeeper::make_holder_name() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host = {};
  std::random_device random;
  return std::string(host.data()) + ":" + std::to_string(::getpid()) + ":" +
         std::to_string(random() % 1000000);
}

void LeaseKeeper::run() {
  for (;;) {
    const Clock::time_point sent = Clock::now();
    const bool renewing = term_.renews(sent);
    const std::optional<std::int64_t> epoch = term_.held(sent);
    const store::LeaseAnswer answer = renewing
                                          ? backend_->renew(holder_, *epoch, timings_.term)
                                          : backend_->acquire(holder_, timings_.term);
    const Clock::time_point answered = Clock::now();
    State next;
    switch (answer.kind) {
      case store::LeaseAnswer::Kind::granted:
        term_.granted(answer.epoch, sent, answered);
        break;
      case store::LeaseAnswer::Kind::taken:
        term_.lost();
        next.holder = answer.detail;
        break;
      case store::LeaseAnswer::Kind::unreachable:
        next.problem = answer.detail.empty() ? "no answer" : answer.detail;
        break;
    }
    if (const auto held = term_.held(answered)) {
      next.epoch = *held;
      next.valid_until = term_.valid_until();
    }
    bool changed = false;
    {
      std::unique_lock lock(mutex_);
      changed = next.epoch != state_.epoch || next.holder != state_.holder ||
                next.problem.empty() != state_.problem.empty();
      state_ = std::move(next);
      if (changed && changed_) {
        lock.unlock();
        changed_();
        lock.lock();
      }
      // The next request a period after this one was sent (at once if this one took longer).
      wake_.wait_until(lock, sent + timings_.renew_every, [this] { return stop_; });
      if (stop_) return;
    }
  }
}

}  // namespace concierge::app
