// SPDX-License-Identifier: MIT
#pragma once
// CommandTable: the one list of users' commands (DESIGN §7) — each with its name, who may run
// it, its argument (as a chat word and as ad-hoc form fields) and its handler — and the two
// ways in that dispatch through it: a chat message to the component's bare JID and an XEP-0050
// ad-hoc command (adhoc_forms.cpp), so a command is defined once. It owns that list, the
// ad-hoc session counter and how the command being run was asked (the Asked of one run);
// admin commands are the AdminCommands' (admin_commands.hpp), consulted after its own.
// Commands read and change the rooms only through their verbs (the Directory's settings and
// blocklists, the Availability's schedules and pauses, read-only) and ask the Router through
// CommandActions for what only it can do (send, release, pause, enrol). It must not keep holds,
// sessions or presence, nor know how a message to a user was addressed.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <component/core/admin_commands.hpp>
#include <component/core/availability.hpp>
#include <component/core/command.hpp>
#include <component/core/directory.hpp>
#include <component/core/outbox.hpp>
#include <component/core/refusal.hpp>
#include <component/core/router_types.hpp>
#include <component/core/settings.hpp>
#include <component/core/store_port.hpp>
#include <component/core/time.hpp>
#include <xmpp/element.hpp>
#include <xmpp/jid.hpp>

namespace concierge::core {

// What users' commands need that only the Router knows or does. Each is set by the Router.
struct CommandActions {
  // The sender may run one more command now (limits.messages_per_sender_per_minute).
  std::function<bool(const std::string& user, Instant now)> allow;
  // `jid` is of a served domain.
  std::function<bool(const xmpp::Jid& jid)> served;
  // Held for `target` (stored, not on their way out), in arrival order.
  std::function<std::vector<Hold>(const std::string& target)> holds_for;
  // Held from `sender` (stored, not on their way out), in arrival order.
  std::function<std::vector<Hold>(const std::string& sender)> held_from;
  // Drops held messages (cancelled by their sender).
  std::function<void(const std::vector<std::int64_t>& ids)> cancel;
  // `t` as `reader` reads it (their zone, else `about`'s, named), relative to `now`.
  std::function<std::string(Instant t, const std::string& reader, const std::string& about,
                            Instant now)>
      when;
  // `who` could take a conversation now: under max_concurrent, not dnd, not offline.
  std::function<bool(const std::string& who, Instant now)> reachable;
  // Whom `user` is in conversation with.
  std::function<std::vector<std::string>(const std::string& user, Instant now)> peers;
  // "I'm busy until …": an `until` <= now ends the pause (held messages are re-decided).
  std::function<void(const std::string& user, Instant until, Instant now, Outbox& out)> pause;
  // Ends every conversation that counts against `user` (open, or `user`'s slot kept for one
  // released from the line); what waited for either side may go. Returns the peers.
  std::function<std::vector<std::string>(const std::string& user, Instant now, Outbox& out)>
      end_conversations;
  // Enrols (or updates; `url` nullopt keeps the calendar) and unenrols `user` (DESIGN §4).
  std::function<void(const std::string& user, const std::string& zone,
                     const std::optional<std::string>& url, Instant now, Outbox& out)>
      enrol;
  std::function<void(const std::string& user, Outbox& out)> unenrol;
  // `user`'s subscribers policy changed: unsubscribes whoever may no longer see their status;
  // returns how many.
  std::function<std::size_t(const std::string& user, Outbox& out)> subscribers_changed;
};

// What a command may touch.
struct CommandRooms {
  const Settings& settings;
  Directory& directory;  // users' settings, privacy, blocklists (through its verbs)
  const Availability& availability;
  const CommandActions& router;
};

// "You are working until Tue 17:00 …" (user_commands.cpp).
std::string status_line(const CommandRooms& rooms, const std::string& user, Instant now);
// A schedule input of `user` changed: app/ compiles it again; they hear when it is in force.
void ask_to_compile(Directory& directory, const std::string& user, Outbox& out);

class CommandTable {
 public:
  // The references must outlive the table (the Router's members).
  CommandTable(const Settings& settings, Directory& directory, const Availability& availability,
               AdminCommands& admin, CommandActions actions, RouterStats& stats);
  CommandTable(const CommandTable&) = delete;
  CommandTable& operator=(const CommandTable&) = delete;

  // A chat message to the component's bare JID: answered with the command's text, or help.
  void chat(const xmpp::Element& message, Instant now, Outbox& out);
  // XEP-0050 (adhoc_forms.cpp): false when `iq` is no ad-hoc request.
  bool adhoc(const xmpp::Element& iq, const xmpp::Jid& from, Instant now, Outbox& out);
  // Every command a user can send as chat text (or a form stands for): the answer, or nullopt
  // when it is none of them. `form` and `refused` as in Asked.
  std::optional<std::string> run(const std::string& user, const std::string& full,
                                 std::string_view text, Instant now, Outbox& out, bool form,
                                 bool& refused);
  const std::vector<Command>& commands() const { return commands_; }
  const CommandRooms& rooms() const { return rooms_; }

 private:
  const Command* find(std::string_view word) const;
  // What is in force for `user`, as the values of ad-hoc form `node`'s fields.
  FormValues form_defaults(const std::string& user, std::string_view node) const;
  void refuse(const xmpp::Element& stanza, Refusal refusal, const std::string& text, Outbox& out);

  CommandActions actions_;
  CommandRooms rooms_;
  AdminCommands& admin_;
  RouterStats& stats_;  // answered, dropped, refused
  std::vector<Command> commands_;
  std::uint64_t adhoc_sessions_ = 0;
};

// The handlers of the users' commands (user_commands.cpp, setting_commands.cpp).
namespace commands {
std::vector<Command> user_commands(CommandRooms& rooms);
std::vector<Command> setting_commands(CommandRooms& rooms);
}  // namespace commands

}  // namespace concierge::core
