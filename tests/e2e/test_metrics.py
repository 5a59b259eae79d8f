# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: the [metrics] listener, scraped while a conversation goes on. The numbers
move as the conversation does (a relay, a hold while bob is offline, its release when he is back,
a refusal), and the listener answers nothing but GET /metrics, bounded against huge and slow
requests.

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_metrics.py   (as root)
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import (ALICE, BOB, PASSWORD, WAIT, Client, message, proxy,  # noqa: E402
                             start_stack, stop_stack, unique)
from prosody import Prosody, free_port  # noqa: E402
from xmpp_clients import body  # noqa: E402

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def parse(text: str) -> dict[str, float]:
    """OpenMetrics text -> {'name{labels}': value}; the text must end with '# EOF'."""
    assert text.endswith("# EOF\n"), text[-200:]
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples


class Metrics(unittest.TestCase):
    def setUp(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.server, self.concierge, self.clients = start_stack(
            Prosody, users=("alice", "bob"), enrolled=(ALICE, BOB),
            extra_config=f'[metrics]\nlisten = "127.0.0.1:{self.port}"\n', log_level="debug")
        self.alice, self.bob = self.clients["alice"], self.clients["bob"]

    def tearDown(self):
        stop_stack(self.server, self.concierge, self.clients)

    def scrape(self) -> dict[str, float]:
        with urllib.request.urlopen(self.url, timeout=WAIT) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith("application/openmetrics-text"))
            return parse(r.read().decode())

    def wait_metric(self, name: str, value: float) -> dict[str, float]:
        """Scrapes until `name` shows `value` (bounded): the loop answers between stanzas."""
        deadline = time.monotonic() + WAIT
        while True:
            m = self.scrape()
            if m.get(name) == value or time.monotonic() > deadline:
                self.assertEqual(m.get(name), value, name)
                return m
            time.sleep(0.05)

    def wait_unavailable(self, user: str) -> None:
        """Until Concierge's debug log shows `user`'s unavailable presence coming in (bounded)."""
        line = re.compile(r'in: <presence[^\n]*(?:from="%s/[^\n]*type="unavailable"|'
                          r'type="unavailable"[^\n]*from="%s/)' % (re.escape(user), re.escape(user)))
        deadline = time.monotonic() + WAIT
        while not line.search(self.concierge.stderr_text()):
            self.assertLess(time.monotonic(), deadline, f"Concierge never saw {user} go offline")
            time.sleep(0.05)

    def test_numbers_move_with_the_conversation(self):
        m = self.wait_metric("concierge_connected", 1)
        self.assertEqual(m['concierge_enrolled_users{by="config"}'], 2)
        self.assertEqual(m["concierge_relayed_total"], 0)
        self.assertEqual(m['concierge_held_total{reason="offline"}'], 0)
        self.assertEqual(m["concierge_released_total"], 0)
        self.assertEqual(m["concierge_open_conversations"], 0)

        # bob goes offline: a message to him is held, and waits.
        self.bob.disconnect()
        self.wait_unavailable(BOB)
        held_id = self.alice.send_message(proxy(BOB), "are you there?", id=unique("h"))
        notice = self.alice.wait_for(message(frm=proxy(BOB), where=lambda m: (body(m) or "").startswith("Concierge:")),
                                     WAIT, what="the hold notice")
        self.assertIn("offline", body(notice))
        m = self.wait_metric('concierge_held_total{reason="offline"}', 1)
        self.assertEqual(m['concierge_holds_waiting{reason="offline"}'], 1)
        self.assertGreaterEqual(m["concierge_oldest_hold_age_seconds"], 0)
        self.assertEqual(m["concierge_released_total"], 0)
        self.assertEqual(m["concierge_hold_duration_seconds_count"], 0)
        self.assertEqual(self.concierge.count_log("released message"), 0)

        # bob is back: the held message is released, and the release is logged (no body).
        self.clients["bob"] = self.bob = Client(self.server, "bob", PASSWORD).connect(timeout=WAIT)
        self.bob.wait_for(message(frm=proxy(ALICE), id=held_id), WAIT, what="the released message")
        m = self.wait_metric('concierge_holds_waiting{reason="offline"}', 0)
        m = self.wait_metric("concierge_hold_duration_seconds_count", 1)
        self.assertEqual(m["concierge_released_total"], 1)
        self.assertEqual(m["concierge_release_latency_seconds_count"], 1)
        self.assertEqual(m['concierge_held_total{reason="offline"}'], 1, "a release is no new hold")
        self.assertEqual(m["concierge_oldest_hold_age_seconds"], 0)
        self.assertTrue(self.concierge.wait_log("the server took 1 released message", WAIT))
        self.assertNotIn("are you there?", self.concierge.stderr_text())

        # A relay while bob is online (the release opened a conversation: 1 stays 1).
        mid = self.alice.send_message(proxy(BOB), "hello", id=unique("m"))
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT)
        m = self.wait_metric("concierge_relayed_total", 1)
        self.assertEqual(m["concierge_open_conversations"], 1)
        self.assertEqual(m["concierge_released_total"], 1)

        # A refusal, by its condition.
        self.alice.send_message(proxy("nobody@localhost"), "hi")
        self.alice.wait_for(message(type="error"), WAIT, what="the refusal")
        self.wait_metric('concierge_refused_total{condition="item-not-found"}', 1)

    def test_only_get_metrics_and_bounded_requests(self):
        self.wait_metric("concierge_connected", 1)
        post = urllib.request.Request(self.url, data=b"x=1", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(post, timeout=WAIT)
        self.assertEqual(refused.exception.code, 405)
        self.assertEqual(refused.exception.headers["Allow"], "GET, HEAD")
        with self.assertRaises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=WAIT)
        self.assertEqual(missing.exception.code, 404)

        # A huge request: refused without being read to its end.
        with socket.create_connection(("127.0.0.1", self.port), timeout=WAIT) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 64_000 + b"\r\n\r\n")
            self.assertRegex(s.recv(100).decode(), r"^HTTP/1\.1 431 ")

        # A slow client (half a request line) holds nothing up and is cut after the timeout.
        slow = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        try:
            slow.sendall(b"GET /met")
            start = time.monotonic()
            self.assertEqual(self.scrape()["concierge_connected"], 1, "a scrape while the slow one waits")
            slow.settimeout(10 + WAIT)
            self.assertEqual(slow.recv(100), b"", "the slow connection is closed")
            self.assertLess(time.monotonic() - start, 10 + WAIT)
        finally:
            slow.close()
        self.assertEqual(self.scrape()["concierge_connected"], 1)


if __name__ == "__main__":
    unittest.main()
