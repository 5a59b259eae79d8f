// SPDX-License-Identifier: MIT
#include <component/app/backup.hpp>

namespace concierge::app {

Backup::Backup(core::Store& store, std::function<void()> wake)
    : store_(store), wake_(std::move(wake)) {}

Backup::~Backup() { wait(); }

void Backup::wait() {
  if (thread_.joinable()) thread_.join();
}

bool Backup::start(const std::string& path, const std::string& reply_to) {
  if (thread_.joinable()) return false;
  thread_ = std::thread([this, path, reply_to] {
    std::string error;
    std::string text = store_.backup_to(path, &error) ? "Backed up the store to " + path + "."
                                                      : "The backup failed: " + error;
    {
      std::lock_guard lock(mutex_);
      done_ = std::make_pair(reply_to, std::move(text));
    }
    wake_();
  });
  return true;
}

std::optional<std::pair<std::string, std::string>> Backup::take_done() {
  std::optional<std::pair<std::string, std::string>> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(done_);
  }
  if (done) thread_.join();
  return done;
}

}  // namespace concierge::app
