# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: what a user sets up from an XMPP client (DESIGN §7, issue #6).

Every user command through its XEP-0050 form and through its chat twin, with the same answer;
admin commands refused to others. Schedule URLs fetched from a local HTTP server are in
test_calendar_urls.py.
"""

from __future__ import annotations

import asyncio
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from commands_base import COMPONENT, DAVE, NS, CalendarServer, CommandsBase, calendar  # noqa: E402
from relay_scenarios import ALICE, BOB, CAROL, WAIT, Client, message, proxy, unique  # noqa: E402
from xmpp_clients import _shared_loop, body, error_condition, to_string  # noqa: E402


class Commands(CommandsBase):
    CONFIG = '[admin]\njids = ["alice@localhost"]\n\n[schedule]\nallow_private_urls = true\n'

    def test_every_user_command_through_its_form_and_its_chat_twin(self):
        help_text = self.chat(self.dave, "help")
        for word in ("enrol", "timezone", "calendar", "hours", "kind", "through", "urgent", "subscribers",
                     "privacy", "pause", "end", "when", "block", "waiting", "held", "cancel", "status"):
            self.assertIn(f"  {word}", help_text)

        # Enrolment: the form, then the chat twin updates it.
        self.assertIn("not enrolled", self.chat(self.dave, "hours Mon-Fri 09:00-17:00"))
        self.assertEqual(self.form(self.dave, "enrol", {"timezone": "UTC"}),
                         "You are enrolled (time zone UTC). Others now reach you through "
                         "dave\\40localhost@sched.localhost; your settings are in this command menu.")
        self.assertEqual(self.chat(self.dave, "enrol UTC"),
                         "Your enrolment is updated (time zone UTC). Others now reach you through "
                         "dave\\40localhost@sched.localhost; send \"help\" for your settings.")

        # Each setting: its form and its chat twin answer alike.
        twins = [
            ("timezone", {"timezone": "Europe/Berlin"}, "timezone Europe/Berlin", "Time zone set to Europe/Berlin."),
            ("hours", {"hours": "Mon-Sun 00:00-24:00"}, "hours Mon-Sun 00:00-24:00",
             "Your weekly hours are Mon-Sun 00:00-24:00."),
            ("kind", {"kind": "work"}, "kind work", "Your calendar now counts as a work calendar."),
            ("through", {"jids": [ALICE, CAROL]}, f"through {ALICE}, {CAROL}",
             f"Always through: {ALICE}, {CAROL}."),
            ("urgent", {"from": "anyone"}, "urgent anyone",
             "Anyone may now send you urgent messages (at most 3 an hour each)."),
            ("subscribers", {"who": "served"}, "subscribers served", "Who may see your status: people of localhost."),
            ("privacy", {"level": "wait"}, "privacy wait",
             "Privacy set to wait: senders learn only that a message will wait."),
            # The chat twin comes second: what the form did is said to be so already.
            ("block", {"jid": CAROL}, f"block {CAROL}",
             (f"Blocked {CAROL}: their messages to you are refused.", f"You already block {CAROL}.")),
            ("blocked", None, "blocked", f"You block:\n  {CAROL}"),
            ("unblock", {"jid": CAROL}, f"unblock {CAROL}", (f"Unblocked {CAROL}.", f"You do not block {CAROL}.")),
            ("waiting", None, "waiting", "Nothing is held for you."),
            ("held", None, "held", "Nothing you sent is held."),
            ("cancel", None, "cancel", "Nothing you sent is held."),
            ("when", {"jid": "nobody@localhost"}, "when nobody@localhost", "nobody@localhost does not use Concierge."),
        ]
        for node, fields, line, expected in twins:
            with self.subTest(command=node):
                by_form, by_chat = expected if isinstance(expected, tuple) else (expected, expected)
                self.assertEqual(self.form(self.dave, node, fields), by_form, "the form")
                self.assertEqual(self.chat(self.dave, line), by_chat, "the chat twin")
        # One answer per change (issue 15 point 14): the compiles they caused say nothing more.
        self.wait_status(self.dave, "You are working")

        settings = self.form(self.dave, "settings")
        self.assertEqual(settings, self.chat(self.dave, "settings"))
        for line in ("time zone: Europe/Berlin", "hours: Mon-Sun 00:00-24:00", "kind: work",
                     f"always through: {ALICE}, {CAROL}", "urgent from: anyone",
                     "proxy subscribers: people of localhost", "privacy: wait: ", "pause: none",
                     "blocked: nobody"):
            self.assertIn(line, settings)

        status = self.form(self.dave, "status")
        self.assertTrue(status.startswith("You are working"), status)
        self.assertIn("Working time this week (Europe/Berlin):", status)
        self.assertEqual(self.chat(self.dave, "status").split("\n")[1:], status.split("\n")[1:])

        # pause and end, each way.
        for way in ("form", "chat"):
            paused = self.form(self.dave, "pause", {"duration": "1h"}) if way == "form" else self.chat(self.dave, "pause 1h")
            self.assertTrue(paused.startswith("Paused until"), paused)
            ended = self.form(self.dave, "end") if way == "form" else self.chat(self.dave, "end")
            self.assertEqual(ended, "Pause ended: messages reach you again.", way)

        # What is held for dave, while he pauses: who sent it and how long ago, never the text.
        self.chat(self.dave, "pause 1h")
        mid = self.alice.send_message(proxy(DAVE), "the secret plan", id=unique("held"))
        self.alice.wait_for(message(frm=proxy(DAVE), where=lambda m: (body(m) or "").startswith("Concierge:")),
                            WAIT, what="the hold notice")
        waiting = self.form(self.dave, "waiting")
        self.assertTrue(waiting.startswith(f"Held for you:\n  {ALICE}: 1 message, oldest under a minute old"), waiting)
        self.assertNotIn("secret", waiting)
        self.assertEqual(self.chat(self.dave, "held for me").split("\n")[:-1], waiting.split("\n")[:-1])
        self.assertIn(f"{DAVE}: 1 message", self.form(self.alice, "held"))
        self.assertEqual(self.chat(self.dave, "end"), "Pause ended: messages reach you again.")
        self.dave.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="the held message once the pause ends")

        # A calendar by URL and by upload, each way: one answer; in force without a second one.
        cal = CalendarServer()
        self.addCleanup(cal.stop)
        cal.answers["/dave.ics"] = (200, {"ETag": '"d1"'}, calendar("dave").encode())
        for way in ("form", "chat"):
            answer = (self.form(self.dave, "calendar", {"url": cal.url("/dave.ics")}) if way == "form"
                      else self.chat(self.dave, f"calendar {cal.url('/dave.ics')}"))
            self.assertEqual(answer, "Fetching your calendar: it is in force as soon as it is read; you hear "
                                     "from me only if something is wrong with it.", way)
            self.wait_settings(self.dave, "calendar: http://127.0.0.1:")
            self.wait_status(self.dave, "You are working")
        self.assertIn("calendar: http://127.0.0.1:", self.chat(self.dave, "settings"))
        self.assertNotIn("/dave.ics", self.chat(self.dave, "settings"), "URLs are secrets: host only")
        ics = calendar("upload")
        for way in ("form", "chat"):
            answer = (self.form(self.dave, "upload", {"ics": ics.split("\r\n")}) if way == "form"
                      else self.chat(self.dave, ics))
            self.assertEqual(answer, "Reading your calendar: it is in force as soon as it is read; you hear "
                                     "from me only if something is wrong with it.", way)
            self.wait_settings(self.dave, "calendar: uploaded")
        self.assertIn("calendar: uploaded", self.chat(self.dave, "settings"))
        # A broken upload is refused with the reason; the good one stays.
        self.chat(self.dave, "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026")
        told = self.notice(self.dave, "Concierge: your new calendar cannot be used:")
        self.assertTrue(told.endswith("Your previous schedule stays in force."), told)
        self.assertIn("calendar: uploaded", self.chat(self.dave, "settings"))
        self.assertTrue(self.chat(self.dave, "status").startswith("You are working"))
        # Of all those changes, only the one that failed was told again after its answer.
        notices = [b for b in (body(m) or "" for m in self.dave.find(message(frm=COMPONENT)))
                   if b.startswith("Concierge:") and ("schedule" in b or "calendar" in b)]
        self.assertEqual(notices, [told], "no change was answered twice")

        # Unenrol: the form (confirmed), then the chat twin after enrolling again.
        gone = "You are unenrolled; messages held for you went back to their senders."
        self.assertEqual(self.form(self.dave, "unenrol", {"confirm": "1"}), gone)
        self.assertIn("not enrolled", self.chat(self.dave, "settings"))
        self.chat(self.dave, "enrol UTC")
        self.assertEqual(self.chat(self.dave, "unenrol"), gone)

    def test_admin_settings_win_and_admin_commands_are_refused_to_others(self):
        # bob is enrolled by the config: his time zone is the admin's.
        self.assertEqual(self.form(self.bob, "timezone", {"timezone": "Asia/Tokyo"}), "Your timezone is set by your admin.")
        self.assertEqual(self.chat(self.bob, "timezone Asia/Tokyo"), "Your timezone is set by your admin.")
        items = self.bob.send_iq(COMPONENT, f'<query xmlns="http://jabber.org/protocol/disco#items" node="{NS}"/>')
        self.assertIn('node="hours"', to_string(items))
        self.assertNotIn('node="stats"', to_string(items), "admin commands are not offered to bob")
        for node in ("stats", "queues", "reload", "backup", "flush", "drop"):
            with self.subTest(node=node):
                refused = self.bob.send_iq(COMPONENT, f'<command xmlns="{NS}" node="{node}" action="execute"/>',
                                           type="set")
                self.assertEqual(refused.get("type"), "error", to_string(refused))
                self.assertEqual(error_condition(refused), "forbidden")
                self.assertIn("Only Concierge's admins", self.chat(self.bob, node))
        self.assertIn("Enrolled: 3 by the config", self.form(self.alice, "stats"))
        self.assertEqual(self.form(self.alice, "drop", {"jid": BOB, "confirm": "1"}), f"Nothing is held for {BOB}.")


class AdhocAsClientsShowIt(CommandsBase):
    """Ad-hoc commands through slixmpp's own XEP-0050 plugin, as a client with a command menu
    drives them (issue 15 points 16-19), and chat answers that misled (points 10-13)."""
    CONFIG = '[admin]\njids = ["alice@localhost"]\n'

    def adhoc(self, client: Client, call):
        """Runs `call(plugin)` (a coroutine or future of slixmpp's xep_0050) on the client's loop."""
        xmpp = client._xmpp  # noqa: SLF001 - the plugin lives on the slixmpp client
        loop = _shared_loop()
        loop.call(lambda: "xep_0050" in xmpp.plugin or xmpp.register_plugin("xep_0050"))

        async def run():
            return await call(xmpp["xep_0050"])
        return asyncio.run_coroutine_threadsafe(run(), loop.loop).result(WAIT)

    def nodes(self, client: Client) -> list[str]:
        iq = self.adhoc(client, lambda p: p.get_commands(COMPONENT))
        # In document order, as a client's menu shows them (slixmpp's ["items"] is a set).
        return [item.get("node") for item in iq.xml.iter("{http://jabber.org/protocol/disco#items}item")]

    def execute(self, client: Client, node: str):
        return self.adhoc(client, lambda p: p.send_command(COMPONENT, node))["command"]

    def submit(self, client: Client, node: str, sessionid: str, values: dict):
        def call(p):
            form = client._xmpp["xep_0004"].make_form(ftype="submit")  # noqa: SLF001
            for var, value in values.items():
                form.add_field(var=var, value=value)
            return p.send_command(COMPONENT, node, action="complete", payload=form, sessionid=sessionid)
        return self.adhoc(client, call)["command"]

    @staticmethod
    def notes(command) -> list[tuple[str, str]]:
        return list(command["notes"] or [])

    def test_17_the_list_is_in_the_order_people_look_admin_last(self):
        # Someone new starts with Enrol.
        self.assertEqual(self.nodes(self.dave)[0], "enrol")
        bob = self.nodes(self.bob)
        self.assertEqual(bob[:5], ["status", "settings", "timezone", "hours", "calendar"])
        self.assertEqual(bob[-2:], ["enrol", "unenrol"])
        self.assertNotIn("stats", bob)
        self.assertEqual(self.nodes(self.alice)[-6:], ["stats", "queues", "reload", "backup", "flush", "drop"])

    def test_18_bad_input_returns_the_form_with_an_error_note(self):
        self.chat(self.dave, "enrol Europe/Berlin")
        for node, var, bad, why in (("timezone", "timezone", "Europe/Berln", 'Unknown time zone "Europe/Berln"'),
                                    ("hours", "hours", "Mon-Fri 9-17", "Those hours cannot be read")):
            with self.subTest(node=node):
                asked = self.execute(self.dave, node)
                self.assertEqual(asked["status"], "executing")
                again = self.submit(self.dave, node, asked["sessionid"], {var: bad})
                self.assertEqual(again["status"], "executing", str(again))
                (kind, text), = self.notes(again)
                self.assertEqual(kind, "error")
                self.assertTrue(text.startswith(why), text)
                self.assertEqual(again["form"].get_fields()[var]["value"], bad)
        self.assertIn("time zone: Europe/Berlin", self.chat(self.dave, "settings"), "nothing changed")

    def test_19_forms_show_what_is_in_force(self):
        self.chat(self.dave, "enrol Europe/Berlin")
        self.chat(self.dave, "hours Mon-Thu 08:00-12:00")
        self.assertEqual(self.execute(self.dave, "hours")["form"].get_fields()["hours"]["value"], "Mon-Thu 08:00-12:00")
        self.assertEqual(self.execute(self.dave, "timezone")["form"].get_fields()["timezone"]["value"], "Europe/Berlin")

    def test_16_unenrol_asks_first_saying_what_goes_back(self):
        self.chat(self.dave, "enrol Europe/Berlin")
        self.chat(self.dave, "pause 1h")
        self.alice.send_message(proxy(DAVE), "for later", id=unique("held"))
        self.alice.wait_for(message(frm=proxy(DAVE), where=lambda m: (body(m) or "").startswith("Concierge:")),
                            WAIT, what="the hold notice")
        asked = self.execute(self.dave, "unenrol")
        self.assertEqual(asked["status"], "executing")
        self.assertEqual(asked["form"].get_fields()["confirm"]["type"], "boolean")
        self.assertTrue(asked["form"]["instructions"].startswith("1 message held for you will go back to its sender."),
                        asked["form"]["instructions"])
        kept = self.submit(self.dave, "unenrol", asked["sessionid"], {"confirm": False})
        self.assertEqual(self.notes(kept), [("info", "You are still enrolled; nothing changed.")])
        self.assertEqual(self.chat(self.dave, "waiting").split("\n")[1], f"  {ALICE}: 1 message, oldest under a minute old")
        asked = self.execute(self.dave, "unenrol")
        gone = self.submit(self.dave, "unenrol", asked["sessionid"], {"confirm": True})
        self.assertEqual(self.notes(gone), [("info", "You are unenrolled; messages held for you went back to their "
                                                     "senders.")])
        self.alice.wait_for(message(frm=proxy(DAVE), where=lambda m: "could not be delivered" in (body(m) or "")),
                            WAIT, what="the bounce of the held message")

    def test_chat_answers_say_who_and_what(self):
        # 11: a name without domain is no address; nothing is cancelled by it.
        self.chat(self.bob, "pause 1h")
        self.alice.send_message(proxy(BOB), "later", id=unique("held"))
        self.alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                            WAIT, what="the hold notice")
        self.assertEqual(self.chat(self.alice, "cancel bob"),
                         '"bob" is not an address (user@domain); did you mean bob@localhost?')
        self.assertEqual(self.chat(self.alice, "when bob"),
                         '"bob" is not an address (user@domain); did you mean bob@localhost?')
        # 12: a pause is "busy until"; 10: status counts in words.
        self.assertTrue(self.chat(self.alice, f"when {BOB}").startswith(f"{BOB} is busy until "))
        self.assertIn(" 1 message is held for you.", self.chat(self.bob, "status"))
        self.assertEqual(self.chat(self.alice, f"cancel {BOB}"), "Cancelled 1 held message.")
        # 13: nothing changed is said so.
        self.assertEqual(self.chat(self.bob, f"unblock {CAROL}"), f"You do not block {CAROL}.")
        self.assertEqual(self.chat(self.bob, "end"), "Pause ended: messages reach you again.")
        self.assertEqual(self.chat(self.bob, "pause 0"), "You are not paused.")
        self.assertTrue(self.chat(self.dave, "status").startswith('You are not enrolled with Concierge: send '
                                                                  '"enrol Europe/Berlin"'))


if __name__ == "__main__":
    unittest.main()
