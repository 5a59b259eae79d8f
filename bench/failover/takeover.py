# SPDX-License-Identifier: MIT
"""Takeover time of a standby with a large store (issue #12): USERS enrolled users with weekly
hours, HOLDS held messages for an off-duty target in PostgreSQL, two Concierge instances on a
private Prosody and PostgreSQL; the active one is killed (-9) and the time until the standby is
connected is measured, with what the standby logged about loading the store.

    python3 bench/failover/takeover.py --holds 1000000 --users 10000

Needs root (or the prosody and postgres users), like the e2e tests. The last line is
machine-readable: SUMMARY holds=… users=… takeover_s=… load_ms=… rss_mb=…
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))

from postgres import PostgreSQL  # noqa: E402
from prosody import Concierge, Prosody  # noqa: E402
from xmpp_clients import Client  # noqa: E402

PASSWORD = "pw-bench"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--holds", type=int, default=100000)
    ap.add_argument("--users", type=int, default=10000)
    args = ap.parse_args()

    with PostgreSQL() as pg, Prosody(privilege=True) as server:
        for u in ("alice", "bob"):
            server.register(u, PASSWORD)
        # bob is off duty all week but one minute at 03:00 on Mondays; the others work office hours.
        users = "".join(f'[users."u{i}@localhost"]\ntimezone = "Europe/Berlin"\n'
                        f'hours = "Mon-Fri 0{8 + i % 2}:00-17:00"\n\n' for i in range(args.users))
        extra = ('[users."bob@localhost"]\ntimezone = "UTC"\nhours = "Mon 03:00-03:01"\n\n'
                 "[limits]\nmessages_per_sender_per_minute = 100000\n\n" + users)

        def instance() -> Concierge:
            return Concierge(server, users=("alice@localhost",), store_url=pg.url,
                             store_password_file=pg.password_file, extra_config=extra)

        a = instance().start(timeout=120)
        alice = Client(server, "alice", PASSWORD).connect()
        alice.send_message("bob\\40localhost@sched.localhost", "seed", id="seed")
        deadline = time.monotonic() + 30
        while pg.psql("SELECT count(*) FROM holds") != "1" and time.monotonic() < deadline:
            time.sleep(0.1)
        alice.disconnect()
        a.stop()
        # The seed hold, copied HOLDS - 1 times with ids of their own.
        t = time.monotonic()
        pg.psql("INSERT INTO holds (id, sender, target, stanza, stanza_id, received_ms, reason, state, sent_at_ms)"
                " SELECT h.id + g, h.sender, h.target, replace(h.stanza, 'id=\"seed\"', 'id=\"seed-' || g || '\"'),"
                " 'seed-' || g, h.received_ms + g, h.reason, h.state, 0"
                f" FROM holds h, generate_series(1, {args.holds - 1}) g")
        print(f"{pg.psql('SELECT count(*) FROM holds')} holds in PostgreSQL ({time.monotonic() - t:.1f} s to write)")

        a.start(timeout=300)
        b = instance().start(wait_connected=False)
        if not b.wait_log("standby: the store's lease is held by", 300):
            print(b.stderr_text()[-2000:])
            return 1
        # Let the standby compile its users' schedules before the fault.
        deadline = time.monotonic() + 300
        while "compiled schedules of" not in b.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        standby_rss = rss_mb(b.proc.pid)
        faulted = time.monotonic()
        os.kill(a.proc.pid, signal.SIGKILL)
        a.proc.wait(10)
        if not b.wait_log("connected to", 300):
            print(b.stderr_text()[-2000:])
            return 1
        took = time.monotonic() - faulted
        line = next(x for x in b.stderr_text().splitlines() if "took over the store's lease" in x)
        load_ms = int(re.search(r"in (\d+) ms", line).group(1))
        print(line)
        print(f"takeover after kill -9: standby connected {took:.2f} s after the kill "
              f"(of which loading the store {load_ms} ms); standby RSS before {standby_rss:.0f} MB, "
              f"after {rss_mb(b.proc.pid):.0f} MB")
        print(f"SUMMARY holds={args.holds} users={args.users} takeover_s={took:.2f} load_ms={load_ms} "
              f"rss_mb={rss_mb(b.proc.pid):.0f}")
        b.stop()
        a.cleanup()
        b.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
