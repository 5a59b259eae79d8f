# SPDX-License-Identifier: MIT
"""What the command tests share (test_commands.py, test_calendar_urls.py): a Prosody with Concierge,
alice, bob and carol enrolled and dave not; the two ways of saying one thing (a XEP-0050 form and
its chat twin); a local HTTP server that serves calendars and records what was asked of it."""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time
import unittest
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import ALICE, BOB, CAROL, WAIT, Client, message, start_stack, stop_stack  # noqa: E402
from prosody import Prosody  # noqa: E402
from xmpp_clients import body, child, to_string  # noqa: E402

NS = "http://jabber.org/protocol/commands"
COMPONENT = "sched.localhost"
DAVE = "dave@localhost"  # enrols himself, from his client


def calendar(label: str) -> str:
    """A work calendar: working every day, all day (so status reads "working")."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//concierge e2e//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{label}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\n"
            "DTEND:20260101T235900Z\r\nRRULE:FREQ=DAILY\r\nSUMMARY:On duty\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


class CalendarServer:
    """A local HTTP server whose answer for each path the test sets; records every request."""

    def __init__(self):
        self.answers: dict[str, tuple[int, dict, bytes]] = {}  # status 0: never answer
        self.requests: list[tuple[str, dict]] = []
        self.stopping = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.requests.append((self.path, dict(self.headers)))
                status, headers, payload = owner.answers.get(self.path, (404, {}, b"no such calendar"))
                if status == 0:
                    owner.stopping.wait(60)  # a server that accepts and never answers
                    return
                if status == 200 and headers.get("ETag") and self.headers.get("If-None-Match") == headers["ETag"]:
                    status, payload = 304, b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.httpd.server_port}{path}"

    def hits(self, path: str) -> list[dict]:
        return [h for p, h in self.requests if p == path]

    def wait_hits(self, path: str, n: int, timeout: float = 3 * WAIT) -> list[dict]:
        """Until `path` was asked for at least `n` times (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.hits(path)) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} was fetched {len(self.hits(path))} times, not {n}, "
                                     f"within {timeout}s")
            time.sleep(0.05)  # the requests come from Concierge's own timer: nothing to wait on
        return self.hits(path)

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class CommandsBase(unittest.TestCase):
    CONFIG = ""

    def setUp(self):
        self.server, self.concierge, self.clients = start_stack(
            Prosody, users=("alice", "bob", "carol", "dave"), enrolled=(ALICE, BOB, CAROL),
            extra_config=self.CONFIG, log_level="debug")
        self.addCleanup(stop_stack, self.server, self.concierge, self.clients)
        self.alice, self.bob, self.carol, self.dave = (self.clients[u] for u in ("alice", "bob", "carol", "dave"))

    # -- the two ways of saying the same thing --------------------------------------------------

    def form(self, client: Client, node: str, fields: dict | None = None) -> str:
        """Runs ad-hoc command `node`: execute, fill in the form it returns, submit. The note of the
        completed command."""
        ask = client.send_iq(COMPONENT, f'<command xmlns="{NS}" node="{node}" action="execute"/>', type="set")
        cmd = child(ask, NS, "command")
        self.assertIsNotNone(cmd, to_string(ask))
        if cmd.get("status") != "completed":
            self.assertEqual(cmd.get("status"), "executing", to_string(ask))
            offered = {f.get("var") for f in cmd.iter("{jabber:x:data}field")}
            for var in (fields or {}):
                self.assertIn(var, offered, f"the {node} form has no field {var}: {to_string(ask)}")
            submitted = ""
            for var, value in (fields or {}).items():
                values = value if isinstance(value, list) else [value]
                submitted += f'<field var="{var}">' + "".join(f"<value>{escape(v)}</value>" for v in values) + "</field>"
            done = client.send_iq(
                COMPONENT,
                f'<command xmlns="{NS}" node="{node}" sessionid="{cmd.get("sessionid")}">'
                f'<x xmlns="jabber:x:data" type="submit">{submitted}</x></command>', type="set")
            cmd = child(done, NS, "command")
            self.assertIsNotNone(cmd, to_string(done))
            self.assertEqual(cmd.get("status"), "completed", to_string(done))
        note = child(cmd, NS, "note")
        self.assertIsNotNone(note, to_string(cmd))
        return note.text or ""

    def chat(self, client: Client, text: str) -> str:
        """Sends `text` to the component's bare JID; its answer (not a later notice)."""
        client.send_message(COMPONENT, text)
        answer = client.wait_for(message(frm=COMPONENT, where=lambda m: not (body(m) or "").startswith("Concierge:")),
                                 WAIT, what=f"the answer to {text[:30]!r}")
        return body(answer) or ""

    def wait_settings(self, client: Client, contains: str) -> str:
        """Asks for the settings until they show `contains` (a calendar is read asynchronously)."""
        deadline = time.monotonic() + WAIT
        while True:
            settings = self.chat(client, "settings")
            if contains in settings or time.monotonic() > deadline:
                self.assertIn(contains, settings)
                return settings
            time.sleep(0.1)

    def wait_status(self, client: Client, starts: str) -> str:
        """Asks for the status until it starts with `starts` (schedules compile asynchronously)."""
        deadline = time.monotonic() + WAIT
        while True:
            status = self.chat(client, "status")
            if status.startswith(starts) or time.monotonic() > deadline:
                self.assertTrue(status.startswith(starts), status)
                return status
            time.sleep(0.1)

    def notice(self, client: Client, starts: str, timeout: float = WAIT) -> str:
        """The next message from the component starting with `starts` (what Concierge says by
        itself: a schedule in force, a calendar that cannot be used)."""
        m = client.wait_for(message(frm=COMPONENT, where=lambda m: (body(m) or "").startswith(starts)),
                            timeout, what=f"a message starting {starts!r}")
        return body(m) or ""
