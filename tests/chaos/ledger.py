# SPDX-License-Identifier: MIT
"""The chaos run's ledger: every numbered message sent, and what became of it (issue 14).

Pure: the run records what it sent and what each client received; classify() decides, for every
message, one class and lists every broken promise:

- delivered          reached its target (at least once) without Concierge's delay stamp
- held_delivered     reached its target with Concierge's delay stamp (it was held, then released)
- refused            its sender got a stanza error with its id, and it never reached the target
                     (e.g. resource-constraint while the store could not commit: a message that
                     would be held is refused rather than taken into memory, issue 14 point 1)
- lost_in_flight     neither, and the server took it within a Concierge crash window: allowed only
                     for a message forwarded at once (not in the store)
- not_taken          neither, and the sender's server never confirmed taking it (the sender's own
                     stream broke while it was sent): not Concierge's to deliver

Violations: a held message lost (in the store, or stamped as held, yet not delivered); a loss
outside a crash window; a copy with another id; a message at someone it was not sent to; first
copies out of order per (sender, target); a message stamped as held that the store does not hold;
a message both delivered and refused; a message refused to its sender that the store still
holds (it would be released later against the error its sender was shown).
"""

from __future__ import annotations

from dataclasses import dataclass, field

CLASSES = ("delivered", "held_delivered", "refused", "lost_in_flight", "not_taken")


@dataclass
class Sent:
    n: int  # the message number: its body is "chaos <n>", its id "<prefix>-<n>"
    sender: str  # bare JIDs
    target: str
    id: str
    sent_at: float  # monotonic seconds, before the send
    taken_at: float | None = None  # the sender's server answered a ping sent after it


@dataclass
class Received:
    n: int
    at: str  # bare JID of the client that received it
    frm: str  # bare JID the copy came from (the sender's proxy address)
    id: str
    held: bool  # it carries Concierge's delay stamp (from the component)


@dataclass
class Outcome:
    classes: dict = field(default_factory=dict)  # n -> class
    duplicates: int = 0
    violations: list = field(default_factory=list)

    def counts(self) -> dict:
        out = {c: 0 for c in CLASSES}
        for c in self.classes.values():
            out[c] += 1
        return out


def classify(sent: list[Sent], received: list[Received], refused_ids: set[str], stored_ids: set[str],
             crash_windows: list[tuple[float, float]], proxy_of) -> Outcome:
    """`received`: every chaos message any client got, in arrival order per client;
    `refused_ids`: ids of stanza errors the senders got back; `stored_ids`: stanza ids in the
    store's holds table at the end; `crash_windows`: (start, end) monotonic seconds around each
    kill -9 of Concierge (from a little before the kill until it is connected again);
    `proxy_of(bare)`: the proxy address a copy from `bare` must come from."""
    out = Outcome()
    by_n = {m.n: m for m in sent}
    copies: dict[int, list[Received]] = {}
    for r in received:
        m = by_n.get(r.n)
        if m is None:
            out.violations.append(f"message {r.n} arrived at {r.at} but was never sent")
            continue
        if r.at != m.target:
            out.violations.append(f"message {r.n} for {m.target} arrived at {r.at}")
            continue
        if r.id != m.id:
            out.violations.append(f"message {r.n} arrived with id {r.id!r}, sent as {m.id!r}")
        if r.frm != proxy_of(m.sender):
            out.violations.append(f"message {r.n} arrived from {r.frm}, not from {proxy_of(m.sender)}")
        copies.setdefault(r.n, []).append(r)
    # Order per (sender, target): the first copies arrive in the order the messages were sent
    # (`received` is in arrival order per client, and one pair's copies all go to one client).
    last: dict[tuple[str, str], int] = {}
    seen: set[int] = set()
    for r in received:
        m = by_n.get(r.n)
        if m is None or r.at != m.target or r.n in seen:
            continue
        seen.add(r.n)
        key = (m.sender, m.target)
        if last.get(key, 0) > r.n:
            out.violations.append(f"{m.sender} -> {m.target}: message {r.n} arrived after {last[key]}")
        last[key] = max(last.get(key, 0), r.n)
    for m in sent:
        got = copies.get(m.n, [])
        out.duplicates += max(0, len(got) - 1)
        held = any(r.held for r in got)
        if got:
            out.classes[m.n] = "held_delivered" if held else "delivered"
            if held and m.id not in stored_ids:
                out.violations.append(f"message {m.n} was released as held but is not in the store")
            if m.id in refused_ids:
                out.violations.append(f"message {m.n} was delivered and also refused to its sender")
            continue
        if m.id in refused_ids:
            out.classes[m.n] = "refused"
            if m.id in stored_ids:
                out.violations.append(f"message {m.n} was refused to its sender but is held in the store")
            continue
        if m.id in stored_ids:
            out.violations.append(f"message {m.n} ({m.sender} -> {m.target}) is held in the store "
                                  "but was never delivered")
            out.classes[m.n] = "lost_in_flight"
            continue
        if m.taken_at is None:
            out.classes[m.n] = "not_taken"
            continue
        out.classes[m.n] = "lost_in_flight"
        if not any(start <= m.sent_at <= end for start, end in crash_windows):
            out.violations.append(f"message {m.n} ({m.sender} -> {m.target}, id {m.id}) was lost outside "
                                  "any Concierge crash")
    return out

