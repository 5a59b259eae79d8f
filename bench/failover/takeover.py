# SPDX-License-Identifier: MIT
"""Takeover time of a standby with a large store (issue #12), per fault kind: USERS enrolled
users with weekly hours and HOLDS held messages in PostgreSQL, two Concierge instances on a
private Prosody and PostgreSQL. Bob's messages are being released when the active instance is
killed (-9), stopped (SIGSTOP: frozen, its lease runs out) or silently cut off (its connections to
PostgreSQL and to Prosody go through test-owned TCP relays that stop forwarding: no FIN, no RST).
Measured from the fault: until the standby logged "connected to", and until bob received the
first released message from it (and the first one he had not received yet: the others are the
old active's releases it could not confirm, sent again with their original ids).

    python3 bench/failover/takeover.py --holds 1000000 --users 10000           # all three faults
    python3 bench/failover/takeover.py --holds 10000 --users 1000 --faults cut

Every fault kind gets a fresh pair of instances on the same PostgreSQL and Prosody; the holds are
written once (each round releases a few hundred of them). Needs root (or the prosody and postgres
users), like the e2e tests. One machine-readable line per fault:
SUMMARY fault=… holds=… users=… connected_s=… first_release_s=… first_new_s=… load_ms=… rss_mb=… hwm_mb=…
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "support"))

from postgres import PostgreSQL  # noqa: E402
from prosody import Concierge, Prosody, proxy  # noqa: E402
from tcp_relay import TcpRelay, Via  # noqa: E402
from xmpp_clients import Client, body  # noqa: E402

PASSWORD = "pw-bench"
COMPONENT = "sched.localhost"
FAULTS = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP, "cut": None}
RELEASE_RATE = 100  # messages/s: each round releases a few hundred holds, not the store
BEFORE_FAULT = 30  # released messages bob has received when the fault comes
STEP_TIMEOUT = 300.0  # seconds for any one step (starting with 10^6 holds takes a while)
TAKEOVER_TIMEOUT = 60.0
RELEASE_TIMEOUT = 300.0  # after the takeover, for its first release


def status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def stamp(line: str) -> float:
    """The wall time of a log line: its first word is an ISO timestamp in UTC."""
    t = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def released(client: Client) -> list:
    return [m.get("id") for m in client.find(lambda m: (m.get("id") or "").startswith("seed"))]


def wait_until(condition, timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


class Bench:
    def __init__(self, pg: PostgreSQL, server: Prosody, users: int, show_log: bool):
        self.pg, self.server, self.show_log = pg, server, show_log
        # bob has no hours (always on duty); his pause holds the seed. The others work office hours.
        enrolled = "".join(f'[users."u{i}@localhost"]\ntimezone = "Europe/Berlin"\n'
                           f'hours = "Mon-Fri 0{8 + i % 2}:00-17:00"\n\n' for i in range(users))
        self.extra = (f"[release]\nrate = {RELEASE_RATE}\n\n"
                      "[limits]\nmessages_per_sender_per_minute = 100000\n\n" + enrolled)
        self.relays: list[TcpRelay] = []

    def instance(self, relayed: bool = False) -> Concierge:
        server, url = self.server, self.pg.url
        if relayed:
            xmpp, store = TcpRelay(("127.0.0.1", self.server.component_port)), TcpRelay(("127.0.0.1", self.pg.port))
            self.relays += [xmpp, store]
            server = Via(self.server, xmpp.port)
            url = url.replace(f":{self.pg.port}/", f":{store.port}/")
        return Concierge(server, users=("alice@localhost", "bob@localhost"), store_url=url,
                         store_password_file=self.pg.password_file, extra_config=self.extra)

    def seed(self, holds: int) -> None:
        """One hold written by Concierge (bob paused), copied HOLDS - 1 times with ids of their own."""
        c = self.instance().start(timeout=STEP_TIMEOUT)
        alice = Client(self.server, "alice", PASSWORD).connect()
        bob = Client(self.server, "bob", PASSWORD).connect()
        bob.send_message(COMPONENT, "pause 24h")
        bob.wait_for(lambda m: (body(m) or "").startswith("Paused until"), 30, what="the answer to pause")
        alice.send_message(proxy("bob@localhost"), "seed", id="seed")
        if not wait_until(lambda: self.pg.psql("SELECT count(*) FROM holds") == "1", 30, 0.1):
            raise RuntimeError("the seed was not held")
        alice.disconnect()
        bob.disconnect()
        c.stop()
        c.cleanup()
        t = time.monotonic()
        self.pg.psql("INSERT INTO holds (id, sender, target, stanza, stanza_id, received_ms, reason, state, sent_at_ms)"
                     " SELECT h.id + g, h.sender, h.target, replace(h.stanza, 'id=\"seed\"', 'id=\"seed-' || g || '\"'),"
                     " 'seed-' || g, h.received_ms + g, h.reason, h.state, 0"
                     f" FROM holds h, generate_series(1, {holds - 1}) g")
        print(f"{self.pg.psql('SELECT count(*) FROM holds')} holds in PostgreSQL "
              f"({time.monotonic() - t:.1f} s to write)", flush=True)

    def round(self, fault: str, first: bool) -> dict:
        a = self.instance(relayed=fault == "cut").start(timeout=STEP_TIMEOUT)
        b = self.instance().start(wait_connected=False)
        bob = None
        try:
            if not b.wait_log("standby: the store's lease is held by", STEP_TIMEOUT):
                raise RuntimeError("no standby:\n" + b.stderr_text()[-2000:])
            # The standby compiles its users' schedules before the fault, as it would while waiting.
            if not b.wait_schedules("u0@localhost", STEP_TIMEOUT):
                raise RuntimeError("the standby compiled nothing:\n" + b.stderr_text()[-2000:])
            holds = self.pg.psql("SELECT count(*) FROM holds WHERE state = 0")
            bob = Client(self.server, "bob", PASSWORD).connect()
            if first:
                bob.send_message(COMPONENT, "end")  # ends the pause that held the seed
            if not wait_until(lambda: len(released(bob)) >= BEFORE_FAULT, STEP_TIMEOUT, 0.1):
                raise RuntimeError("no release before the fault:\n" + a.stderr_text()[-2000:])
            standby_rss = status_kb(b.proc.pid, "VmRSS") / 1024

            before = set(released(bob))
            fault_wall, faulted = time.time(), time.monotonic()
            if FAULTS[fault] is None:
                for relay in self.relays:
                    relay.freeze()
            else:
                os.kill(a.proc.pid, FAULTS[fault])
            if not b.wait_log("connected to", TAKEOVER_TIMEOUT):
                raise RuntimeError("the standby did not take over:\n" + b.stderr_text()[-2000:])
            # What arrives from now on comes from the new active (the old one's last stanzas
            # arrived within milliseconds of the fault, or wait in a frozen relay).
            had = released(bob)
            lines = b.stderr_text().splitlines()
            took_over = next(x for x in lines if "took over the store's lease" in x)
            connected = next(x for x in lines if "connected to" in x)
            first_release = first_new = None
            deadline = time.monotonic() + RELEASE_TIMEOUT
            while (first_release is None or first_new is None) and time.monotonic() < deadline:
                ids = released(bob)
                if first_release is None and len(ids) > len(had):
                    first_release = time.monotonic() - faulted
                if first_new is None and set(ids) - set(had):
                    first_new = time.monotonic() - faulted
                time.sleep(0.005)
            lines = b.stderr_text().splitlines()
            if self.show_log:
                tail = lines[max(0, lines.index(took_over) - 3):]
                print("\n".join(["the new active's log from its takeover on:"] + tail[:40]), flush=True)
            return {
                "fault": fault, "holds": holds, "before": len(before), "in_flight": len(had) - len(before),
                "connected_s": stamp(connected) - fault_wall,
                "took_over_s": stamp(took_over) - fault_wall,
                "first_release_s": first_release, "first_new_s": first_new,
                "load_ms": int(re.search(r"in (\d+) ms", took_over).group(1)),
                "standby_rss_mb": standby_rss,
                "rss_mb": status_kb(b.proc.pid, "VmRSS") / 1024, "hwm_mb": status_kb(b.proc.pid, "VmHWM") / 1024,
            }
        finally:
            if bob is not None:
                bob.disconnect()
            if a.running:
                os.kill(a.proc.pid, signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            for relay in self.relays:
                relay.stop()
            self.relays = []
            for c in (a, b):
                c.stop()
                c.cleanup()


def seconds(x: float | None) -> str:
    return "none" if x is None else f"{x:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--holds", type=int, default=100000)
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--faults", default="kill,stop,cut", help="comma-separated: kill, stop, cut")
    ap.add_argument("--log", action="store_true", help="print the new active's log after each takeover")
    args = ap.parse_args()
    faults = args.faults.split(",")
    if not faults or any(f not in FAULTS for f in faults):
        ap.error(f"--faults takes {', '.join(FAULTS)}")

    started = time.monotonic()
    with PostgreSQL() as pg, Prosody(privilege=True) as server:
        for u in ("alice", "bob"):
            server.register(u, PASSWORD)
        bench = Bench(pg, server, args.users, args.log)
        bench.seed(args.holds)
        for i, fault in enumerate(faults):
            r = bench.round(fault, first=i == 0)
            print(f"{fault}: standby took the lease {r['took_over_s']:.2f} s after the fault, loaded "
                  f"{r['holds']} holds in {r['load_ms']} ms, connected after {r['connected_s']:.2f} s; "
                  f"first release to bob after {seconds(r['first_release_s'])} s, first one he had not received "
                  f"after {seconds(r['first_new_s'])} s ({r['before']} received before the fault, "
                  f"{r['in_flight']} after it from the old active); "
                  f"standby RSS {r['standby_rss_mb']:.0f} MB before, {r['rss_mb']:.0f} MB after, "
                  f"peak {r['hwm_mb']:.0f} MB", flush=True)
            print(f"SUMMARY fault={fault} holds={r['holds']} users={args.users} "
                  f"connected_s={r['connected_s']:.2f} first_release_s={seconds(r['first_release_s'])} "
                  f"first_new_s={seconds(r['first_new_s'])} load_ms={r['load_ms']} "
                  f"rss_mb={r['rss_mb']:.0f} hwm_mb={r['hwm_mb']:.0f}", flush=True)
    print(f"whole run {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
