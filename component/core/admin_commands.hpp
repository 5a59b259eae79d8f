// SPDX-License-Identifier: MIT
#pragma once
// AdminCommands: the admins' own table of commands (DESIGN §7) — stats, queues, reload, backup,
// and flushing or dropping a target's holds (confirmed by repeating the command with
// "confirm") — run only for [admin] JIDs, through the same chat and ad-hoc ways in as the
// users' commands (CommandTable). It owns that list only; it reads the hold book and the counts,
// and asks the Router (AdminActions) to release or bounce holds. It must not change holds,
// settings or sessions itself.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <component/core/command.hpp>
#include <component/core/directory.hpp>
#include <component/core/hold_book.hpp>
#include <component/core/hourly_counts.hpp>
#include <component/core/outbox.hpp>
#include <component/core/router_types.hpp>
#include <component/core/session_book.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

// What admin commands need the Router to do.
struct AdminActions {
  // Held for `target` (stored, not on their way out), in arrival order.
  std::function<std::vector<Hold>(const std::string& target)> holds_for;
  // Sends `target`'s held messages now, whatever the schedule says.
  std::function<void(const std::string& target, Instant now, Outbox& out)> flush;
  // Bounces `target`'s held messages to their senders, saying `why`.
  std::function<void(const std::string& target, const std::string& why, Outbox& out)> drop;
};

// What admin commands read.
struct AdminRooms {
  const Settings& settings;
  const Directory& directory;
  const SessionBook& sessions;
  const HoldBook& holds;
  const ReleaseCounts& releases;
  const RouterStats& stats;
  AdminActions router;
};

class AdminCommands {
 public:
  // The references must outlive the table (the Router's members).
  explicit AdminCommands(AdminRooms rooms);
  AdminCommands(const AdminCommands&) = delete;
  AdminCommands& operator=(const AdminCommands&) = delete;

  bool is_admin(const std::string& bare) const { return rooms_.settings.admins.count(bare) != 0; }
  const std::vector<Command>& commands() const { return commands_; }

 private:
  std::optional<std::string> stats(const Asked& asked) const;
  std::optional<std::string> queues() const;
  std::optional<std::string> flush_or_drop(std::string_view word, Asked& asked);

  AdminRooms rooms_;
  std::vector<Command> commands_;
};

}  // namespace concierge::core
