// SPDX-License-Identifier: MIT
#pragma once
// Command: what one entry of a command table is (name, who may run it, its argument as a chat
// word and as ad-hoc form fields, its handler), and Asked, one run of it. Plain values; owns no
// state. The tables are CommandTable's (users) and AdminCommands' (admins).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <component/core/outbox.hpp>
#include <component/core/time.hpp>

namespace concierge::core {

// One run of a command: who asked, its argument, and how (chat or form).
struct Asked {
  const std::string& user;  // bare, lower case
  const std::string& full;  // the full JID it came from (admin requests answer it)
  std::string arg;          // what follows the command's word (lower case unless Arg::text)
  Instant now;
  Outbox& out;
  bool form = false;     // asked through an ad-hoc form: texts.hpp words it for forms
  bool refused = false;  // its input was refused: a form is shown again (XEP-0050 §3.4)
  // A refusal of bad input.
  std::string refuse(std::string text) {
    refused = true;
    return text;
  }
};

using CommandHandler = std::function<std::optional<std::string>(Asked&)>;

// An XEP-0004 field of a command's form; its value becomes the chat argument.
struct FormField {
  const char* var;
  const char* type;  // XEP-0004 field type
  const char* label;
  bool required;
  const char* options = nullptr;  // list-single: the choices, separated by '|'
};

enum class MayRun { anyone, enrolled, admins };
// How the chat argument is read: none/word/address in lower case; an address that is no
// user@domain is refused with a suggestion; text keeps its case (URLs, zones, an .ics).
enum class Arg { none, word, address, text };

struct Command {
  const char* name;   // the chat word and the ad-hoc node
  const char* title;  // the ad-hoc command's name
  MayRun who;
  Arg arg;
  std::vector<FormField> fields;
  CommandHandler handler;       // nullopt: not this command after all (an unknown word follows)
  const char* alias = nullptr;  // another chat word for it ("enroll")
};

}  // namespace concierge::core
