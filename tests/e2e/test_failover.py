# SPDX-License-Identifier: MIT
"""Active/standby on a real Prosody and a real PostgreSQL (issue #12, DESIGN §10): two Concierge
processes with the same config share one database; one holds the store's lease and is connected,
the other waits. Messages are held for a paused target and, while they are being released, the
active one is killed (-9), stopped (SIGSTOP) or silently cut off (its connections to PostgreSQL
and Prosody frozen in test-owned TCP relays: no FIN, no RST). The standby takes over and the target receives
every message — duplicates only with their original ids, in order per sender — and each sender
was told once that its messages wait. The takeover time of each fault kind is printed.

The Prosody config takes `component_conflict_resolve = "kick_old"` from the shipped snippet
(config/deploy/prosody.cfg.lua): the standby's new stream replaces a stopped active's.
"""

from __future__ import annotations

import datetime
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from relay_scenarios import ALICE, BOB, CAROL, PASSWORD, WAIT, Client, Concierge, message, proxy  # noqa: E402
from postgres import PostgreSQL  # noqa: E402
from prosody import Prosody  # noqa: E402
from tcp_relay import TcpRelay, Via  # noqa: E402
from xmpp_clients import body  # noqa: E402

COMPONENT = "sched.localhost"
PER_SENDER = int(os.environ.get("CONCIERGE_FAILOVER_MESSAGES", "1000")) // 2
RELEASE_RATE = 100  # messages/s: the release of all of them lasts long enough to fault in it
# The lease runs out 5 s after its last renewal; a standby tries every second: ~6 s at worst.
TAKEOVER_BOUND = 15.0
EXTRA_CONFIG = f"""
[release]
rate = {RELEASE_RATE}

[limits]
messages_per_sender_per_minute = 100000
holds_per_sender = {PER_SENDER + 10}
"""


def is_notice(m) -> bool:
    return (body(m) or "").startswith("Concierge:")


class Failover(unittest.TestCase):
    def setUp(self):
        self.pg = PostgreSQL().start()
        self.addCleanup(self.pg.stop)
        self.server = Prosody(privilege=True).start()
        self.addCleanup(self.server.stop)
        for u in ("alice", "bob", "carol"):
            self.server.register(u, PASSWORD)
        self.instances = []
        self.relays = []

    def start_pair(self, relayed: bool = False) -> None:
        """The active instance `a` (reaching PostgreSQL and Prosody through test-owned relays
        when `relayed`), the standby `b`, and the three users' clients."""
        self.a = self.instance(relayed).start(timeout=WAIT)
        self.b = self.instance().start(wait_connected=False)
        self.assertTrue(self.b.wait_log("standby: the store's lease is held by", WAIT),
                        "the second instance stands by:\n" + self.b.stderr_text())
        self.assertEqual(self.b.count_log("connected to"), 0, "a standby does not connect")
        self.clients = {}
        for u in ("alice", "bob", "carol"):
            self.clients[u] = Client(self.server, u, PASSWORD).connect(timeout=WAIT)
            self.addCleanup(self.clients[u].disconnect)
        self.alice, self.bob, self.carol = self.clients["alice"], self.clients["bob"], self.clients["carol"]

    def relay(self, port: int) -> TcpRelay:
        relay = TcpRelay(("127.0.0.1", port))
        self.relays.append(relay)
        self.addCleanup(relay.stop)
        return relay

    def instance(self, relayed: bool = False) -> Concierge:
        server, url = self.server, self.pg.url
        if relayed:
            server = Via(self.server, self.relay(self.server.component_port).port)
            url = url.replace(f":{self.pg.port}/", f":{self.relay(self.pg.port).port}/")
        c = Concierge(server, users=(ALICE, BOB, CAROL), store_url=url,
                      store_password_file=self.pg.password_file, extra_config=EXTRA_CONFIG)
        self.instances.append(c)

        def stop():
            if c.proc is not None and c.proc.poll() is None:
                os.kill(c.proc.pid, signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            c.stop()
            c.cleanup()
        self.addCleanup(stop)
        return c

    def hold_all(self) -> dict:
        """Pauses bob, sends PER_SENDER messages from alice and from carol; returns id → sender
        once every one is a committed hold."""
        self.bob.send_message(COMPONENT, "pause 1h")
        paused = self.bob.wait_for(message(frm=COMPONENT, where=lambda m: not is_notice(m)), WAIT,
                                   what="the answer to pause")
        self.assertTrue((body(paused) or "").startswith("Paused until"), body(paused))
        sent = {}
        for i in range(PER_SENDER):
            for client, sender, tag in ((self.alice, ALICE, "a"), (self.carol, CAROL, "c")):
                mid = f"{tag}-{i:05d}"
                client.send_message(proxy(BOB), f"{tag} {i}", id=mid)
                sent[mid] = sender
        deadline = time.monotonic() + 60
        count = ""
        while time.monotonic() < deadline:
            count = self.pg.psql("SELECT count(*) FROM holds WHERE state = 0")
            if count == str(len(sent)):
                break
            time.sleep(0.1)
        self.assertEqual(count, str(len(sent)), "every message is a committed hold")
        self.assertEqual(self.bob.find(message(frm=proxy(ALICE))), [], "held, not delivered yet")
        return sent

    def received(self) -> list:
        return [m.get("id") for m in self.bob.find(message(where=lambda m: not is_notice(m)))
                if m.get("id", "")[:2] in ("a-", "c-")]

    def wait_received(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(set(self.received())) < n and time.monotonic() < deadline:
            time.sleep(0.05)

    def fail_over(self, fault: str, fault_signal: int | None) -> None:
        sent = self.hold_all()
        self.bob.send_message(COMPONENT, "end")  # bob is back: the release starts
        self.wait_received(len(sent) // 5, 30)
        before = set(self.received())
        self.assertGreater(len(before), 0, "the release had started")
        self.assertLess(len(before), len(sent), "the fault comes during the release")

        faulted = time.monotonic()
        self.fault_wall = time.time()
        if fault_signal is None:
            for relay in self.relays:
                relay.freeze()
        else:
            os.kill(self.a.proc.pid, fault_signal)
        self.assertTrue(self.b.wait_log("connected to", TAKEOVER_BOUND),
                        "the standby takes over:\n" + self.b.stderr_text()[-3000:])
        connected = time.monotonic() - faulted
        deadline = time.monotonic() + TAKEOVER_BOUND
        while not (set(self.received()) - before) and time.monotonic() < deadline:
            time.sleep(0.01)
        first_new = time.monotonic() - faulted
        self.wait_received(len(sent), 60)
        print(f"\nfailover ({fault}): standby connected {connected:.2f} s after the fault, first new "
              f"message to the target after {first_new:.2f} s; {len(sent)} messages, "
              f"{len(before)} delivered before the fault", file=sys.stderr)
        self.assertIn("took over the store's lease", self.b.stderr_text())

        got = self.received()
        self.assertEqual(set(got), set(sent), "every held message arrives, nothing else")
        self.assertEqual(len(got), len(self.bob.find(message(where=lambda m: not is_notice(m)
                                                             and m.get("id", "")[:2] in ("a-", "c-")))))
        for sender, tag in ((ALICE, "a-"), (CAROL, "c-")):
            firsts = []
            for mid in got:
                if mid.startswith(tag) and mid not in firsts:
                    firsts.append(mid)
            self.assertEqual(firsts, sorted(firsts), f"in order for {sender}")
            for m in self.bob.find(message(where=lambda m: (m.get("id") or "").startswith(tag))):
                self.assertEqual(body(m), f"{tag[0]} {int(m.get('id')[2:])}", "a duplicate is the original")
        duplicates = len(got) - len(set(got))
        print(f"failover ({fault}): {duplicates} duplicates (original ids)", file=sys.stderr)
        for client in (self.alice, self.carol):
            told = [m for m in client.find(message(frm=proxy(BOB), where=is_notice))
                    if "busy until" in (body(m) or "")]
            self.assertEqual(len(told), 1, "each sender is told once that its messages wait")

    def test_kill_9_of_the_active_during_release(self):
        self.start_pair()
        self.fail_over("kill -9", signal.SIGKILL)
        self.a.proc.wait(WAIT)

    def test_sigstop_of_the_active_during_release(self):
        self.start_pair()
        self.fail_over("SIGSTOP", signal.SIGSTOP)
        # The stopped one resumes: it finds its lease gone and stands by without sending.
        connected = self.a.count_log("connected to")
        os.kill(self.a.proc.pid, signal.SIGCONT)
        self.assertTrue(self.a.wait_log("fenced:", WAIT), self.a.stderr_text()[-3000:])
        mid = self.alice.send_message(proxy(BOB), "after the resume", id="after-resume")
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed by the new active")
        self.assertEqual(body(got), "after the resume")
        self.assertEqual(self.a.count_log("connected to"), connected, "the fenced one does not reconnect")
        self.assertTrue(self.a.running)

    def test_a_pause_and_the_told_notices_survive_a_takeover(self):
        # DESIGN §10: the new active knows bob paused himself and that alice was told. Her
        # message after the takeover is held without a second notice; carol, a new sender, is
        # told (the notices still flow, and bob is still paused on the new active).
        self.start_pair()
        self.bob.send_message(COMPONENT, "pause 1h")
        self.bob.wait_for(message(frm=COMPONENT, where=lambda m: (body(m) or "").startswith("Paused until")),
                          WAIT, what="the answer to pause")
        busy = lambda m: is_notice(m) and "busy until" in (body(m) or "")  # noqa: E731
        self.alice.send_message(proxy(BOB), "before", id="before")
        self.alice.wait_for(message(frm=proxy(BOB), where=busy), WAIT, what="alice's hold notice")
        os.kill(self.a.proc.pid, signal.SIGKILL)
        self.a.proc.wait(WAIT)
        self.assertTrue(self.b.wait_log("connected to", TAKEOVER_BOUND),
                        "the standby takes over:\n" + self.b.stderr_text()[-3000:])
        self.alice.send_message(proxy(BOB), "after", id="after")
        self.carol.send_message(proxy(BOB), "new", id="new")
        self.carol.wait_for(message(frm=proxy(BOB), where=busy), WAIT, what="carol's hold notice")
        deadline = time.monotonic() + WAIT
        count = ""
        while time.monotonic() < deadline and count != "3":
            count = self.pg.psql("SELECT count(*) FROM holds WHERE state = 0")
            time.sleep(0.1)
        self.assertEqual(count, "3", "all three are held: bob is still paused")
        self.assertEqual(self.bob.find(message(frm=proxy(ALICE))), [], "nothing went to bob")
        self.assertEqual(len(self.alice.find(message(frm=proxy(BOB), where=busy))), 1,
                         "alice was told once, before the takeover")
        # bob ends the pause on the new active: everything arrives; alice hears "delivered" once.
        self.bob.send_message(COMPONENT, "end")
        for mid in ("before", "after", "new"):
            self.bob.wait_for(message(id=mid), WAIT, what=f"released {mid}")
        delivered = lambda m: is_notice(m) and "delivered" in (body(m) or "")  # noqa: E731
        self.alice.wait_for(message(frm=proxy(BOB), where=delivered), WAIT, what="delivered")
        self.assertEqual(len(self.alice.find(message(frm=proxy(BOB), where=busy))), 1)

    def test_silent_cut_of_the_active_during_release(self):
        # The active's connections to PostgreSQL and to Prosody freeze: no FIN, no RST.
        self.start_pair(relayed=True)
        self.fail_over("silent cut", None)
        # The cut-off active stops on its own clock once its term runs out — unless its loop is
        # inside a store commit at the cut: libpq then waits on the frozen connection (the relay's
        # kernel still acknowledges), so it sends nothing, and it fences once the commit returns
        # (a known gap: commits have no client-side deadline yet). Either way it ends fenced.
        early = self.a.wait_log("fenced:", 6.0)
        for relay in self.relays:
            relay.thaw()  # its connections come back: it stays a standby
        self.assertTrue(early or self.a.wait_log("fenced:", WAIT), self.a.stderr_text()[-3000:])
        fenced_line = next(line for line in self.a.stderr_text().splitlines() if "fenced:" in line)
        stamp = datetime.datetime.strptime(fenced_line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
        fenced_after = stamp.replace(tzinfo=datetime.timezone.utc).timestamp() - self.fault_wall
        print(f"failover (silent cut): the cut-off active fenced itself {fenced_after:.2f} s after "
              f"the cut, {'before' if early else 'after'} the thaw ({fenced_line.split(' ', 2)[2]})",
              file=sys.stderr)
        mid = self.alice.send_message(proxy(BOB), "after the thaw", id="after-thaw")
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed by the new active")
        self.assertEqual(body(got), "after the thaw")
        self.assertEqual(len(self.bob.find(message(id=mid))), 1)


class DatabaseDown(unittest.TestCase):
    """PostgreSQL goes away: the active cannot renew its lease, drops its stream (senders get
    the server's bounce meanwhile), says so, and comes back by itself when the database does."""

    def test_the_active_fences_itself_and_recovers(self):
        pg = PostgreSQL().start()
        self.addCleanup(pg.stop)
        server = Prosody(privilege=True).start()
        self.addCleanup(server.stop)
        for u in ("alice", "bob"):
            server.register(u, PASSWORD)
        concierge = Concierge(server, users=(ALICE, BOB), store_url=pg.url,
                              store_password_file=pg.password_file).start(timeout=WAIT)
        self.addCleanup(concierge.cleanup)
        self.addCleanup(concierge.stop)
        alice = Client(server, "alice", PASSWORD).connect(timeout=WAIT)
        self.addCleanup(alice.disconnect)
        bob = Client(server, "bob", PASSWORD).connect(timeout=WAIT)
        self.addCleanup(bob.disconnect)
        mid = alice.send_message(proxy(BOB), "before", id="before-outage")
        bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed while the database is up")

        pg.halt()
        self.assertTrue(concierge.wait_log("fenced:", TAKEOVER_BOUND), concierge.stderr_text()[-3000:])
        self.assertIn("does not answer the lease", concierge.stderr_text())
        mid = alice.send_message(proxy(BOB), "during", id="during-outage")
        bounce = alice.wait_for(lambda m: m.get("id") == mid and m.get("type") == "error", WAIT,
                                what="the server's bounce while no instance is connected")
        self.assertIsNotNone(bounce)
        self.assertEqual(bob.find(message(id=mid)), [], "nothing is relayed without the lease")

        connected = concierge.count_log("connected to")
        pg.resume()
        self.assertTrue(concierge.wait_log("connected to", TAKEOVER_BOUND + 10, count=connected + 1),
                        concierge.stderr_text()[-3000:])
        self.assertIn("answers the lease again", concierge.stderr_text())
        mid = alice.send_message(proxy(BOB), "after", id="after-outage")
        got = bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed once the database is back")
        self.assertEqual(body(got), "after")


if __name__ == "__main__":
    unittest.main()
