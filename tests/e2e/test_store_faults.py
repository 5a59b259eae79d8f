# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: what users see when the store fails (issue #14).

- The store on a full file system (a small tmpfs: needs root, as CI runs): a message that would
  be held is refused to its sender with resource-constraint (type wait); `held` does not count
  it; messages that go at once still go; once space returns, messages are held again, survive a
  kill -9 and are released; the refused ones never reappear.
- A damaged store (random bytes over its data pages, after 20 holds): Concierge refuses to
  start (exit 2) naming the file and the recovery, and does not write to it.
- A zero-byte store file becomes a new store with a warning naming it.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import (ALICE, BOB, CAROL, PASSWORD, WAIT, Client, Concierge, message, proxy,  # noqa: E402
                             stop_stack, unique)
from prosody import Prosody  # noqa: E402
from xmpp_clients import NS_CLIENT, body, child, error_condition, error_text, to_string  # noqa: E402

COMPONENT = "sched.localhost"
PAGE = 4096


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def is_notice(m) -> bool:
    return (body(m) or "").startswith("Concierge:")


class StoreFaults(unittest.TestCase):
    def start(self, store_path: str | None = None):
        self.server = Prosody().start()
        self.concierge = None
        self.clients = {}
        self.addCleanup(lambda: stop_stack(self.server, self.concierge, self.clients))
        for u in ("alice", "bob", "carol"):
            self.server.register(u, PASSWORD)
        self.concierge = Concierge(self.server, users=(ALICE, BOB, CAROL), store_path=store_path).start(timeout=WAIT)
        for u in ("alice", "bob", "carol"):
            self.clients[u] = Client(self.server, u, PASSWORD).connect(timeout=WAIT)
        self.alice, self.bob, self.carol = (self.clients[u] for u in ("alice", "bob", "carol"))

    def chat(self, client: Client, text: str) -> str:
        """Sends `text` to the component's bare JID; its answer (not a notice)."""
        client.send_message(COMPONENT, text)
        answer = client.wait_for(message(frm=COMPONENT, where=lambda m: not is_notice(m)), WAIT,
                                 what=f"the answer to {text!r}")
        return body(answer) or ""

    def wait_error(self, mid: str):
        got = self.alice.wait_for(message(frm=proxy(BOB), id=mid, type="error"), WAIT,
                                  what=f"the error for {mid}")
        self.assertEqual(error_condition(got), "resource-constraint", to_string(got))
        self.assertEqual(child(got, NS_CLIENT, "error").get("type"), "wait", to_string(got))
        self.assertEqual(error_text(got), "Not delivered: bob@localhost can't take messages now, and Concierge "
                                          "cannot store them for later (its storage is failing). Send it again later.")

    # -- a full disk ------------------------------------------------------------------------------
    def test_full_disk_refuses_messages_to_hold_and_holds_again_once_space_returns(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs for the store needs root (CI runs as root)")
        mount = tempfile.mkdtemp(prefix="concierge-tmpfs-")
        self.addCleanup(os.rmdir, mount)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mount], check=False)
        self.start(store_path=os.path.join(mount, "concierge.db"))
        self.assertTrue(self.chat(self.bob, "pause 1h").startswith("Paused until"))

        filler = os.path.join(mount, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for _ in range(1024):  # 1 MiB at most, in 1 KiB steps
                os.write(fd, b"\0" * 1024)
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)
        self.assertEqual(os.statvfs(mount).f_bavail, 0, "the tmpfs is full")

        # The first message's hold cannot be committed: refused to alice; so is the next, at once.
        m1 = self.alice.send_message(proxy(BOB), "first while full", id=unique("full1"))
        self.wait_error(m1)
        m2 = self.alice.send_message(proxy(BOB), "second while full", id=unique("full2"))
        self.wait_error(m2)
        self.assertEqual(self.chat(self.alice, "held"), "Nothing you sent is held.")
        # A message that goes at once still goes.
        c1 = self.alice.send_message(proxy(CAROL), "to carol while full", id=unique("carol"))
        self.carol.wait_for(message(frm=proxy(ALICE), id=c1), WAIT, what="a message forwarded at once")
        self.assertEqual(self.alice.find(message(frm=proxy(BOB), where=is_notice)), [],
                         "no held notice for what is not stored")
        self.assertIn("the store refused a commit (database or disk is full)", self.concierge.stderr_text())

        # Space returns: Concierge notices by itself, and holds again.
        os.remove(filler)
        self.assertTrue(self.concierge.wait_log("the store commits again", WAIT), self.concierge.stderr_text())
        m3 = self.alice.send_message(proxy(BOB), "after space returned", id=unique("held"))
        notice = self.alice.wait_for(message(frm=proxy(BOB), where=is_notice), WAIT, what="the held notice")
        self.assertIn("bob@localhost is busy until", body(notice))
        self.assertIn("bob@localhost: 1 message,", self.chat(self.alice, "held"))

        # kill -9: what was held survives, and so does bob's pause (both are in the store); once
        # bob ends it the hold is released; what was refused never reappears.
        os.kill(self.concierge.proc.pid, signal.SIGKILL)
        self.concierge.proc.wait(WAIT)
        self.concierge.start(timeout=WAIT)
        self.assertEqual(self.chat(self.bob, "end"), "Pause ended: messages reach you again.",
                         "the pause survived the kill")
        self.bob.wait_for(message(frm=proxy(ALICE), id=m3), WAIT, what="the held message, released")
        self.assertEqual(self.bob.find(message(id=m1)) + self.bob.find(message(id=m2)), [],
                         "refused messages are never delivered")

    # -- a damaged store --------------------------------------------------------------------------
    def test_a_damaged_store_stops_startup_naming_the_recovery_and_is_not_written(self):
        self.start()
        self.assertTrue(self.chat(self.bob, "pause 1h").startswith("Paused until"))
        for i in range(20):
            self.alice.send_message(proxy(BOB), f"{i:02d} " + "x" * 1000, id=f"hold-{i}")
        self.alice.wait_for(message(frm=proxy(BOB), where=is_notice), WAIT, what="the held notice")
        deadline = time.monotonic() + WAIT
        while "bob@localhost: 20 messages" not in (held := self.chat(self.alice, "held")):
            self.assertLess(time.monotonic(), deadline, held)
            time.sleep(0.1)
        self.assertEqual(self.concierge.stop(), 0)

        path = os.path.join(self.concierge.dir, "concierge.db")
        size = os.path.getsize(path)
        self.assertGreaterEqual(size, 8 * PAGE)
        noise = random.Random(14)
        with open(path, "r+b") as f:  # the holds' data pages, written last
            f.seek(size - 4 * PAGE)
            f.write(bytes(noise.randrange(256) for _ in range(4 * PAGE)))
        damaged = read_bytes(path)

        self.concierge.start(wait_connected=False)
        self.assertEqual(self.concierge.wait_exit(WAIT), 2, self.concierge.stderr_text())
        err = self.concierge.stderr_text()
        self.assertIn(f"cannot open the store {path}: the file is damaged", err)
        self.assertIn(f"sqlite3 {path} .recover | sqlite3 NEW.db", err)
        self.assertIn('the admin\'s "backup" command', err)
        self.assertEqual(read_bytes(path), damaged, "Concierge wrote to the damaged store")

    def test_a_zero_byte_store_becomes_a_new_store_with_a_warning(self):
        self.start()
        self.assertEqual(self.concierge.stop(), 0)
        path = os.path.join(self.concierge.dir, "concierge.db")
        self.assertFalse(os.path.exists(path + "-wal"), "closed cleanly")
        self.assertNotIn(" warn the store ", self.concierge.stderr_text(), "no warning for a store that was sound")
        open(path, "wb").close()  # zero bytes
        self.concierge.start(timeout=WAIT)
        self.assertIn(f" warn the store {path} was an empty file (zero bytes): it is now a new, empty store",
                      self.concierge.stderr_text())
        self.assertGreater(os.path.getsize(path), 0, "a new store was made in its place")


if __name__ == "__main__":
    unittest.main()
