# SPDX-License-Identifier: MIT
"""The chaos ledger's rules (ledger.py) on hand-made histories: each broken promise is caught."""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ledger import Received, Sent, classify  # noqa: E402

A, B, C = "alice@x", "bob@x", "carol@x"


def proxy(jid: str) -> str:
    return jid.replace("@", "\\40") + "@sched.x"


def sent(n, sender=A, target=B, at=10.0, taken=True):
    return Sent(n, sender, target, f"m-{n}", at, at + 0.01 if taken else None)


def got(n, at=B, frm=A, id=None, held=False):
    return Received(n, at, proxy(frm), id or f"m-{n}", held)


def run(sent_, received, refused=(), stored=(), windows=()):
    return classify(sent_, received, set(refused), set(stored), list(windows), proxy)


class Ledger(unittest.TestCase):
    def test_every_class(self):
        out = run([sent(1), sent(2), sent(3), sent(4, at=50.0), sent(5, taken=False)],
                  [got(1), got(1), got(2, held=True)], refused=["m-3"], stored=["m-2"], windows=[(49.0, 52.0)])
        self.assertEqual(out.violations, [])
        self.assertEqual(out.classes, {1: "delivered", 2: "held_delivered", 3: "refused", 4: "lost_in_flight",
                                       5: "not_taken"})
        self.assertEqual(out.duplicates, 1)

    def test_a_loss_outside_a_crash_window_is_a_violation(self):
        out = run([sent(1, at=10.0)], [], windows=[(49.0, 52.0)])
        self.assertEqual(len(out.violations), 1, out.violations)
        self.assertIn("lost outside any Concierge crash", out.violations[0])

    def test_a_held_message_is_never_lost_even_in_a_crash(self):
        out = run([sent(1, at=50.0)], [], stored=["m-1"], windows=[(49.0, 52.0)])
        self.assertEqual(len(out.violations), 1, out.violations)
        self.assertIn("held in the store but was never delivered", out.violations[0])

    def test_released_as_held_but_not_in_the_store(self):
        out = run([sent(1)], [got(1, held=True)])
        self.assertIn("not in the store", " ".join(out.violations))

    def test_a_copy_with_another_id_or_sender_or_at_someone_else(self):
        out = run([sent(1), sent(2), sent(3)],
                  [got(1, id="other"), got(2, frm=C), got(3, at=C)])
        text = " | ".join(out.violations)
        self.assertIn("arrived with id 'other'", text)
        self.assertIn("arrived from", text)
        self.assertIn("for bob@x arrived at carol@x", text)

    def test_first_copies_out_of_order_per_pair_but_duplicates_may_come_late(self):
        out = run([sent(1), sent(2), sent(3, sender=C)], [got(2), got(1), got(3, frm=C)])
        self.assertEqual(out.violations, ["alice@x -> bob@x: message 1 arrived after 2"])
        ok = run([sent(1), sent(2)], [got(1), got(2), got(1)])
        self.assertEqual(ok.violations, [])

    def test_delivered_and_refused(self):
        out = run([sent(1)], [got(1)], refused=["m-1"])
        self.assertIn("delivered and also refused", " ".join(out.violations))

    def test_refused_yet_held_in_the_store(self):
        out = run([sent(1)], [], refused=["m-1"], stored=["m-1"])
        self.assertEqual(out.classes, {1: "refused"})
        self.assertIn("refused to its sender but is held in the store", " ".join(out.violations))


if __name__ == "__main__":
    unittest.main()
