# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: schedule URLs fetched from a local HTTP server (DESIGN §7, issue #6) —
ETag and 304, a bad calendar that keeps the old schedule, the size cap, the redirect cap — and
the same URL refused without schedule.allow_private_urls.
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from commands_base import DAVE, CalendarServer, CommandsBase, calendar  # noqa: E402
from relay_scenarios import WAIT, message  # noqa: E402
from xmpp_clients import body  # noqa: E402


class CalendarUrls(CommandsBase):
    CONFIG = ('[schedule]\nallow_private_urls = true\nrefresh = "2s"\nmax_bytes = 20000\n')

    def test_refetch_with_etag_then_bad_calendar_size_cap_and_redirect_cap_keep_the_old_schedule(self):
        cal = CalendarServer()
        self.addCleanup(cal.stop)
        cal.answers["/d.ics"] = (200, {"ETag": '"v1"', "Content-Type": "text/calendar"}, calendar("v1").encode())
        self.chat(self.dave, f"enrol UTC {cal.url('/d.ics')}")
        self.wait_settings(self.dave, "calendar: http://127.0.0.1:")
        self.wait_status(self.dave, "You are working")

        # refresh = 2s: fetched again with If-None-Match, answered 304, nothing recompiled.
        second = cal.wait_hits("/d.ics", 2)[1]
        self.assertEqual(second.get("If-None-Match"), '"v1"', cal.requests)
        self.assertTrue(self.concierge.wait_log(f"schedule of {DAVE}: calendar not modified", WAIT))
        # A setting changes the meaning of the cached calendar at once (no new fetch needed):
        # read as a personal calendar, its all-day event is an appointment — busy.
        self.assertEqual(self.chat(self.dave, "kind personal"), "Your calendar now counts as a personal calendar.")
        self.wait_status(self.dave, "You are busy")
        self.chat(self.dave, "kind work")
        self.wait_status(self.dave, "You are working")

        # The publisher breaks the file: dave is told once, the old schedule stays.
        cal.answers["/d.ics"] = (200, {"ETag": '"v2"'}, b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026")
        told = self.notice(self.dave, "Concierge: your calendar cannot be used:")
        self.assertTrue(told.endswith("Your previous schedule stays in force."), told)
        self.assertTrue(self.chat(self.dave, "status").startswith("You are working"))
        cal.wait_hits("/d.ics", len(cal.hits("/d.ics")) + 2)  # two more fetches of the same bad file
        self.assertEqual(len(self.dave.find(message(where=lambda m: (body(m) or "").startswith(
            "Concierge: your calendar cannot be used:")))), 1, "the same problem is told once")

        # Larger than schedule.max_bytes.
        cal.answers["/d.ics"] = (200, {"ETag": '"v3"'}, calendar("big").encode() + b"X-PAD:" + b"x" * 30000 + b"\r\n")
        told = self.notice(self.dave, "Concierge: your calendar cannot be used: it could not be fetched")
        self.assertIn("20000", told)
        # A redirect loop: at most 3 redirects are followed.
        cal.answers["/d.ics"] = (302, {"Location": "/d.ics"}, b"")
        told = self.notice(self.dave, "Concierge: your calendar cannot be used: it could not be fetched")
        self.assertIn("redirect", told)
        self.assertTrue(self.chat(self.dave, "status").startswith("You are working"), "still the first schedule")
        self.assertNotIn("/d.ics", self.concierge.stderr_text(), "URLs are secrets: never in the log")

        # A new URL that does not work leaves the old one in force.
        cal.answers["/d.ics"] = (200, {"ETag": '"v1"'}, calendar("v1").encode())
        self.assertIn("Fetching your calendar", self.chat(self.dave, f"calendar {cal.url('/missing.ics')}"))
        told = self.notice(self.dave, "Concierge: your new calendar cannot be used: it could not be fetched")
        self.assertIn("404", told)
        cal.wait_hits("/d.ics", len(cal.hits("/d.ics")) + 1)  # the old URL is still the one refreshed

        # A new URL whose body is broken, or empty: refused with the reason; the calendar in force
        # (and its cached body) stays, and a setting change still applies to it at once.
        cal.answers["/bad.ics"] = (200, {}, b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n")
        cal.answers["/empty.ics"] = (200, {}, b"")
        self.chat(self.dave, f"calendar {cal.url('/bad.ics')}")
        self.notice(self.dave, "Concierge: your new calendar cannot be used:")
        self.chat(self.dave, f"calendar {cal.url('/empty.ics')}")
        self.assertIn("is empty", self.notice(self.dave, "Concierge: your new calendar cannot be used:"))
        self.chat(self.dave, "kind personal")
        self.wait_status(self.dave, "You are busy")
        self.chat(self.dave, "kind work")
        self.wait_status(self.dave, "You are working")

        # A server that never answers: given up after the 30 s total time limit, the old
        # schedule stays.
        cal.answers["/slow.ics"] = (0, {}, b"")
        self.assertIn("Fetching your calendar", self.chat(self.dave, f"calendar {cal.url('/slow.ics')}"))
        told = self.notice(self.dave, "Concierge: your new calendar cannot be used: it could not be fetched", 45)
        self.assertIn("took too long to answer", told)
        self.assertTrue(self.chat(self.dave, "status").startswith("You are working"))


class PrivateUrlsRefused(CommandsBase):
    CONFIG = ""  # schedule.allow_private_urls = false: the default

    def test_the_same_loopback_url_is_refused(self):
        cal = CalendarServer()
        self.addCleanup(cal.stop)
        cal.answers["/d.ics"] = (200, {}, calendar("x").encode())
        self.assertIn("https", self.chat(self.dave, f"enrol UTC {cal.url('/d.ics')}"), "plain http is refused")
        self.assertIn("You are enrolled", self.chat(self.dave, "enrol UTC"))
        self.assertIn("Fetching", self.chat(self.dave, f"calendar {cal.url('/d.ics', 'https')}"))
        told = self.notice(self.dave, "Concierge: your new calendar cannot be used: it could not be fetched")
        self.assertIn("not allowed", told)
        self.assertEqual(cal.requests, [], "the address was refused before anything was sent")


if __name__ == "__main__":
    unittest.main()
