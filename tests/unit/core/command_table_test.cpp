// SPDX-License-Identifier: MIT
// The command table on its own (no Router): a command is one entry, answered the same whether
// it comes as a chat line or as an XEP-0050 form; admin commands only for [admin] JIDs. The
// Router's part is a set of recorded callbacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <component/core/command_table.hpp>
#include <tests/unit/core/core_fixture.hpp>
#include <tests/unit/core/xml.hpp>

namespace concierge::core::testing {
namespace {

using namespace std::chrono_literals;

const Instant kNow = Instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 30}} + 9h;

Settings table_settings() {
  Settings s = base_settings();
  enrol(s, {"ann@example.org"}, "Europe/Berlin");
  s.admins = {"root@example.org"};
  return s;
}

class CommandTableTest : public ::testing::Test {
 protected:
  CommandTableTest() : table(settings, directory, availability, admin, actions(), stats) {}

  CommandActions actions() {
    CommandActions a;
    a.allow = [](const std::string&, Instant) { return true; };
    a.served = [this](const xmpp::Jid& jid) {
      return settings.served_domains.count(jid.domain()) != 0;
    };
    a.holds_for = [](const std::string&) { return std::vector<Hold>{}; };
    a.held_from = [](const std::string&) { return std::vector<Hold>{}; };
    a.when = [](Instant t, const std::string&, const std::string&, Instant now) {
      return "in " +
             std::to_string(std::chrono::duration_cast<std::chrono::minutes>(t - now).count()) +
             " min";
    };
    a.peers = [](const std::string&, Instant) { return std::vector<std::string>{}; };
    a.reachable = [](const std::string&, Instant) { return true; };
    a.cancel = [](const std::vector<std::int64_t>&) {};
    a.end_conversations = [](const std::string&, Instant, Outbox&) {
      return std::vector<std::string>{};
    };
    a.enrol = [](const std::string&, const std::string&, const std::optional<std::string>&, Instant,
                 Outbox&) {};
    a.unenrol = [](const std::string&, Outbox&) {};
    a.subscribers_changed = [](const std::string&, Outbox&) { return std::size_t{0}; };
    a.pause = [this](const std::string& user, Instant until, Instant, Outbox&) {
      pauses.push_back(
          user + " until +" +
          std::to_string(std::chrono::duration_cast<std::chrono::minutes>(until - kNow).count()));
    };
    return a;
  }
  // A chat line from `who`: the answer (nullopt: no command), and whether its input was refused.
  std::optional<std::string> chat(const std::string& who, const std::string& line, bool& refused) {
    out.clear();
    return table.run(who, who + "/r", line, kNow, out, false, refused);
  }
  // An ad-hoc command `node` from `who`, submitted with field `var` = `value` (none: empty var).
  const xmpp::Element* adhoc(const std::string& who, const std::string& node,
                             const std::string& var = {}, const std::string& value = {}) {
    out.clear();
    std::string form;
    if (!var.empty()) {
      form = "<x xmlns=\"jabber:x:data\" type=\"submit\"><field var=\"" + var + "\"><value>" +
             value + "</value></field></x>";
    }
    const auto from = xmpp::Jid::parse(who + "/r");
    EXPECT_TRUE(table.adhoc(xml("<iq type=\"set\" id=\"c\" from=\"" + who +
                                "/r\" to=\"sched.example.org\"><command xmlns=\"http://"
                                "jabber.org/protocol/commands\" node=\"" +
                                node + "\">" + form + "</command></iq>"),
                            *from, kNow, out));
    return out.stanzas.empty() ? nullptr : out.stanzas.back().child("command");
  }
  std::vector<std::string> listed(const std::string& who) {
    out.clear();
    const auto from = xmpp::Jid::parse(who + "/r");
    table.adhoc(xml("<iq type=\"get\" id=\"l\" from=\"" + who +
                    "/r\" to=\"sched.example.org\">"
                    "<query xmlns=\"http://jabber.org/protocol/disco#items\" "
                    "node=\"http://jabber.org/protocol/commands\"/></iq>"),
                *from, kNow, out);
    std::vector<std::string> nodes;
    if (out.stanzas.empty() || !out.stanzas.back().child("query")) return nodes;
    for (const auto& item : out.stanzas.back().child("query")->children) {
      nodes.emplace_back(item.attr("node"));
    }
    return nodes;
  }

  Settings settings = table_settings();
  MemoryStore store;
  Directory directory{settings, store};
  Availability availability{settings};
  SessionBook sessions{settings.idle_after};
  HoldBook holds{store, [](const std::string&, const std::string&) {}, [] {}};
  ReleaseCounts releases;
  RouterStats stats;
  AdminCommands admin{AdminRooms{settings, directory, sessions, holds, releases, stats, {}}};
  CommandTable table;
  Outbox out;
  std::vector<std::string> pauses;  // what the Router was asked to pause
};

TEST_F(CommandTableTest, APauseDefinedOnceAnswersAlikeInChatAndInAForm) {
  bool refused = false;
  const auto by_chat = chat("ann@example.org", "pause 30m", refused);
  ASSERT_TRUE(by_chat);
  EXPECT_FALSE(refused);
  const xmpp::Element* by_form = adhoc("ann@example.org", "pause", "duration", "30m");
  ASSERT_NE(by_form, nullptr);
  EXPECT_EQ(by_form->attr("status"), "completed");
  // One handler: the same answer and the same request to the Router, once per way in.
  EXPECT_EQ(by_form->child_text("note").value_or(""), *by_chat);
  EXPECT_EQ(*by_chat, "Paused until in 30 min: messages wait until then.");
  EXPECT_EQ(pauses,
            (std::vector<std::string>{"ann@example.org until +30", "ann@example.org until +30"}));
}

TEST_F(CommandTableTest, BadInputIsRefusedInChatAndShowsTheFormAgain) {
  bool refused = false;
  const auto by_chat = chat("ann@example.org", "pause soon", refused);
  EXPECT_TRUE(refused);
  EXPECT_EQ(*by_chat, "Say how long, e.g. \"pause 30m\", \"pause 2h\"; \"pause 0\" ends a pause.");
  const xmpp::Element* by_form = adhoc("ann@example.org", "pause", "duration", "soon");
  ASSERT_NE(by_form, nullptr);
  EXPECT_EQ(by_form->attr("status"), "executing");  // the form again, worded for forms
  EXPECT_EQ(by_form->child_text("note").value_or(""),
            "For how long? e.g. 30m, 2h, 1d; 0 ends a pause.");
  EXPECT_TRUE(pauses.empty());
}

TEST_F(CommandTableTest, EveryCommandIsAChatWordAndAnAdhocNode) {
  std::vector<std::string> names;
  for (const auto& c : table.commands()) names.emplace_back(c.name);
  const std::vector<std::string> user_nodes = listed("ann@example.org");
  EXPECT_EQ(user_nodes, names);  // the same list, in the same order
  for (const auto& name : names) {
    bool refused = false;
    EXPECT_TRUE(chat("ann@example.org", name, refused)) << name << " is no chat command";
  }
  bool refused = false;
  EXPECT_FALSE(chat("ann@example.org", "frobnicate", refused));  // help answers it, not a command
}

TEST_F(CommandTableTest, AdminCommandsOnlyForAdmins) {
  const std::vector<std::string> for_user = listed("ann@example.org");
  const std::vector<std::string> for_admin = listed("root@example.org");
  EXPECT_EQ(std::count(for_user.begin(), for_user.end(), "stats"), 0);
  EXPECT_EQ(std::count(for_admin.begin(), for_admin.end(), "stats"), 1);
  EXPECT_EQ(for_admin.size(), for_user.size() + admin.commands().size());
  bool refused = false;
  EXPECT_EQ(*chat("ann@example.org", "queues", refused),
            "Only Concierge's admins may use \"queues\".");
  EXPECT_EQ(*chat("root@example.org", "queues", refused), "Nothing is held.");
  const xmpp::Element* refused_form = adhoc("ann@example.org", "queues");
  EXPECT_EQ(refused_form, nullptr);  // an iq error, no command element
  EXPECT_EQ(out.stanzas.back().attr("type"), "error");
  const xmpp::Element* admin_form = adhoc("root@example.org", "queues");
  ASSERT_NE(admin_form, nullptr);
  EXPECT_EQ(admin_form->child_text("note").value_or(""), "Nothing is held.");
}

TEST_F(CommandTableTest, AnAliasIsAChatWordButNoNode) {
  bool refused = false;
  EXPECT_EQ(*chat("bob@example.org", "enroll Mars/Olympus", refused),
            "Unknown time zone \"Mars/Olympus\": use an IANA name such as Europe/Berlin.");
  EXPECT_TRUE(refused);
  adhoc("bob@example.org", "enroll");
  EXPECT_EQ(out.stanzas.back().attr("type"), "error");  // No such command.
  ASSERT_NE(adhoc("bob@example.org", "enrol"), nullptr);
}

}  // namespace
}  // namespace concierge::core::testing
