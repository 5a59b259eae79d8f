// SPDX-License-Identifier: MIT
#pragma once
// Backup: the admin's online backup of the store (DESIGN §6), copied on a thread of its own so
// that relaying and the watchdog never wait for it. Owns: that thread and its outcome. Must
// not touch: the store other than through Store::backup_to (which reads through connections
// of its own), the stream, or anything of the loop — it only wakes the loop when done.

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <component/core/store_port.hpp>

namespace concierge::app {

class Backup {
 public:
  // `store` must outlive this; `wake` is called from the backup's thread when it is done.
  Backup(core::Store& store, std::function<void()> wake);
  ~Backup();  // waits for a running copy
  // Waits for a running copy (its outcome stays for take_done()): before `wake` is invalid.
  void wait();
  Backup(const Backup&) = delete;
  Backup& operator=(const Backup&) = delete;

  bool running() const { return thread_.joinable(); }
  // Copies the store to `path`; the outcome, for `reply_to`, comes from take_done().
  // False (nothing started) while a copy is running.
  bool start(const std::string& path, const std::string& reply_to);
  // (reply_to, outcome in words) once the copy ended; nullopt before.
  std::optional<std::pair<std::string, std::string>> take_done();

 private:
  core::Store& store_;
  std::function<void()> wake_;
  std::thread thread_;
  std::mutex mutex_;
  std::optional<std::pair<std::string, std::string>> done_;  // guarded by mutex_
};

}  // namespace concierge::app
