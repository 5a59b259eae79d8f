# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: an upgrade, on each store backend. The store of the previous release
(schema version 2, built from tests/e2e/fixtures/store_schema_v2_{sqlite,postgresql}.sql, with
two messages alice sent bob while he was off duty and a user who enrolled herself) is opened by
this build: it is migrated in place, the held messages are still held (alice's `held` lists
them, bob gets nothing while off duty), then released when bob's working time starts, each with
its original time stamp; the self-enrolled user is still enrolled.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from relay_scenarios import ALICE, BOB, PASSWORD, WAIT, Client, Concierge, message, proxy, stop_stack  # noqa: E402
from postgres import PostgreSQL  # noqa: E402
from prosody import Prosody  # noqa: E402
from test_scheduler import NS_DELAY, calendar_starting_in  # noqa: E402
from xmpp_clients import body, child, to_string  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
COMPONENT = "sched.localhost"
ERIN = "erin@localhost"  # enrolled herself (a row in the old store), not in the config
OFF_HOURS = 0  # core::HoldReason::off_hours
HELD = 0  # core::HoldState::held
SHIFT_STARTS_IN = 12  # seconds: bob's working time starts after the holds were checked


def old_rows(now_ms: int) -> tuple[list[tuple], tuple]:
    """The rows the previous release wrote: (holds, erin's enrolment)."""
    holds = []
    for n, (minutes_ago, text) in enumerate([(120, "sent before the upgrade"), (60, "and again")], 1):
        stanza = (f'<message xmlns="jabber:component:accept" from="alice\\40localhost@{COMPONENT}"'
                  f' to="{BOB}" type="chat" id="old-{n}"><body>{text}</body>'
                  f'<origin-id xmlns="urn:xmpp:sid:0" id="origin-old-{n}"/></message>')
        holds.append((n, ALICE, BOB, stanza, f"old-{n}", now_ms - minutes_ago * 60_000, OFF_HOURS, HELD, 0))
    return holds, (ERIN, "Europe/Berlin", "", now_ms - 86_400_000)


class SqliteBackend:
    """The previous release's store as an SQLite file."""

    def __init__(self, test: unittest.TestCase, tmp: str):
        self.path = os.path.join(tmp, "concierge.db")

    def write_old_store(self, now_ms: int) -> None:
        holds, erin = old_rows(now_ms)
        db = sqlite3.connect(self.path)
        try:
            db.executescript((FIXTURES / "store_schema_v2_sqlite.sql").read_text())
            db.executemany("INSERT INTO holds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", holds)
            db.execute("INSERT INTO enrolments VALUES (?, ?, ?, ?)", erin)
            db.commit()
        finally:
            db.close()

    def concierge_args(self) -> dict:
        return {"store_path": self.path}

    def version_and_tables(self) -> tuple[int, set[str]]:
        db = sqlite3.connect(self.path)
        try:
            # Still Concierge's file (application_id "CNCG"), or no version at all.
            if db.execute("PRAGMA application_id").fetchone()[0] != 0x434E4347:
                return -1, set()
            return (db.execute("PRAGMA user_version").fetchone()[0],
                    {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")})
        finally:
            db.close()


def this_builds_version(binary: str, tmp: str) -> int:
    """The schema version this build writes: user_version of a new SQLite store it creates
    (Concierge started on a closed port, stopped once the store has its version). Both backends
    run the same steps (component/store/pg_schema.cpp)."""
    path = os.path.join(tmp, "fresh.db")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    config = Path(tmp, "fresh.toml")
    config.write_text(f'[component]\njid = "{COMPONENT}"\nsecret = "fresh-store"\nhost = "127.0.0.1"\n'
                      f'port = {closed}\n[served]\ndomains = ["localhost"]\n[store]\npath = "{path}"\n')
    log = Path(tmp, "fresh.log")
    with open(log, "wb") as err:
        proc = subprocess.Popen([binary, "--config", str(config)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, cwd=tmp)
    try:
        # The store is open and migrated (step by step, each its own commit) before the first
        # connection attempt: read the version only once that attempt failed.
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and proc.poll() is None:
            if "could not connect to" in log.read_text(errors="replace"):
                db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                try:
                    return db.execute("PRAGMA user_version").fetchone()[0]
                finally:
                    db.close()
            time.sleep(0.05)
        raise AssertionError("Concierge wrote no new store")
    finally:
        proc.terminate()
        proc.wait(WAIT)


def sql_literal(value) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


class PostgresBackend:
    """The previous release's store in a PostgreSQL database of its own (a server the test starts)."""

    def __init__(self, test: unittest.TestCase, tmp: str):
        self.pg = PostgreSQL().start()
        test.addCleanup(self.pg.stop)

    def write_old_store(self, now_ms: int) -> None:
        holds, erin = old_rows(now_ms)
        rows = ",".join("(" + ",".join(sql_literal(v) for v in h) + ")" for h in holds)
        self.pg.psql((FIXTURES / "store_schema_v2_postgresql.sql").read_text() +
                     f"\nINSERT INTO holds VALUES {rows};\n"
                     f"INSERT INTO enrolments VALUES ({','.join(sql_literal(v) for v in erin)});\n")

    def concierge_args(self) -> dict:
        return {"store_url": self.pg.url, "store_password_file": self.pg.password_file}

    def version_and_tables(self) -> tuple[int, set[str]]:
        tables = self.pg.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split()
        return int(self.pg.psql("SELECT version FROM concierge_schema")), set(tables)


class UpgradeScenario:
    """Mixin: BACKEND is SqliteBackend or PostgresBackend."""
    BACKEND: type

    def test_the_previous_releases_store_is_migrated_and_its_holds_released(self):
        tmp = tempfile.mkdtemp(prefix="concierge-upgrade-")
        self.addCleanup(shutil.rmtree, tmp, True)
        store = self.BACKEND(self, tmp)
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        store.write_old_store(int(now.timestamp()) * 1000)
        self.assertEqual(store.version_and_tables()[0], 2)
        calendar = os.path.join(tmp, "bob.ics")
        Path(calendar).write_text(calendar_starting_in(SHIFT_STARTS_IN))

        server = Prosody().start()
        concierge, clients = None, {}
        self.addCleanup(lambda: stop_stack(server, concierge, clients))
        for u in ("alice", "bob"):
            server.register(u, PASSWORD)
        concierge = Concierge(server, users=(ALICE,), **store.concierge_args(),
                              extra_config=f'[users."{BOB}"]\ntimezone = "UTC"\ncalendar = "{calendar}"\n')
        concierge.start(timeout=WAIT)
        alice = clients["alice"] = Client(server, "alice", PASSWORD).connect(timeout=WAIT)
        bob = clients["bob"] = Client(server, "bob", PASSWORD).connect(timeout=WAIT)
        self.assertTrue(concierge.wait_log(f"schedule of {BOB} compiled", WAIT) or
                        concierge.wait_log("compiled schedules of", WAIT), concierge.stderr_text()[-2000:])

        # Migrated in place: the same store at this build's version, the old tables kept.
        version, tables = store.version_and_tables()
        self.assertEqual(version, this_builds_version(concierge.binary, tmp))
        self.assertGreater(version, 2)
        self.assertTrue({"holds", "enrolments", "user_settings"} <= tables, tables)

        # The holds survived: alice sees both waiting for bob, and bob (off duty) got nothing.
        alice.send_message(COMPONENT, "held")
        answer = alice.wait_for(message(frm=COMPONENT), WAIT, what="the answer to 'held'")
        self.assertIn(f"{BOB}: 2 messages, oldest 2 h", body(answer))
        self.assertEqual(bob.find(message(frm=proxy(ALICE))), [])
        # erin's enrolment survived too (not in the config): she is a target.
        alice.send_message(COMPONENT, f"when {ERIN}")
        answer = alice.wait_for(message(frm=COMPONENT, where=lambda m: ERIN in (body(m) or "")), WAIT)
        self.assertEqual(body(answer), f"{ERIN} is free now.")

        # bob's shift starts: both are released in order, stamped when alice sent them.
        for n, minutes_ago, text in ((1, 120, "sent before the upgrade"), (2, 60, "and again")):
            got = bob.wait_for(message(frm=proxy(ALICE), id=f"old-{n}"), SHIFT_STARTS_IN + WAIT,
                               what=f"released message {n}")
            self.assertEqual(body(got), text)
            delay = child(got, NS_DELAY, "delay")
            self.assertIsNotNone(delay, to_string(got))
            stamp = dt.datetime.strptime(delay.get("stamp")[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
            self.assertEqual(stamp, now - dt.timedelta(minutes=minutes_ago))
        alice.send_message(COMPONENT, "held")
        answer = alice.wait_for(message(frm=COMPONENT, where=lambda m: "held" in (body(m) or "")), WAIT)
        self.assertEqual(body(answer), "Nothing you sent is held.")


class UpgradeOnSqlite(UpgradeScenario, unittest.TestCase):
    BACKEND = SqliteBackend


class UpgradeOnPostgresql(UpgradeScenario, unittest.TestCase):
    BACKEND = PostgresBackend


if __name__ == "__main__":
    unittest.main()
