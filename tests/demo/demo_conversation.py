#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A scripted conversation through Concierge between real XMPP users, printed as a transcript.

Started by tests/demo/demo.sh after the build (and by the ctest e2e_demo). Starts a private Prosody
on free loopback ports (temp folder) with our extension xmpp/server/prosody/mod_concierge.lua
loaded as config/deploy/prosody-transparent.cfg.lua says, creates alice, bob, carol and dave
@localhost, starts build/concierge (or CONCIERGE_BINARY / --binary) with [served] mode = "both",
logs the users in with slixmpp and plays conversation() below: first through proxy addresses,
then between plain addresses (transparent mode). Exits non-zero when an expected step does not
happen. Everything it started is stopped on exit, error or Ctrl-C. Needs root (Prosody runs as
user prosody).

To extend the demo, add steps to conversation(): each step sends as one user and prints what
the other side saw.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import textwrap
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from prosody import Concierge, Prosody, default_binary, proxy  # noqa: E402
from xmpp_clients import (NS_CHATSTATES, Client, bare, body, child, error_condition, error_text,  # noqa: E402
                          message, to_string)

WAIT = 10.0  # seconds for each expected stanza
USERS = ("alice", "bob", "carol", "dave")
IDLE_AFTER = 4       # seconds of silence that end a conversation (session.idle_after)
SHIFT_STARTS_IN = 8  # dave's calendar: his shift starts this many seconds after startup
CHAT_STATES = ("active", "composing", "paused", "inactive", "gone")
NS_DELAY = "urn:xmpp:delay"
QUIET = 1.0  # seconds a held message is given to show up (it must not)


class DemoFailed(Exception):
    pass


class Demo:
    """The running stack and the transcript printer; conversation() calls its step methods."""

    def __init__(self, server: Prosody, concierge: Concierge, clients: dict[str, Client]):
        self.server = server
        self.concierge = concierge
        self.clients = clients
        self.component = concierge.jid

    # -- addresses
    def jid(self, user: str) -> str:
        return f"{user}@{self.server.domain}"

    def proxy_of(self, user: str) -> str:
        return proxy(self.jid(user), self.component)

    # -- printing
    @staticmethod
    def line(who: str, arrow: str, text: str) -> None:
        prefix = f"[{who} {arrow}] "
        lines = text.splitlines() or [""]
        print(prefix + lines[0])
        for more in lines[1:]:
            print(" " * len(prefix) + more)
        sys.stdout.flush()

    @staticmethod
    def describe(stanza) -> str:
        if stanza.get("type") == "error":
            return f"(error: {error_condition(stanza)}) {error_text(stanza) or ''}".rstrip()
        text = body(stanza)
        states = [s for s in CHAT_STATES if child(stanza, NS_CHATSTATES, s) is not None]
        delay = child(stanza, "urn:xmpp:delay", "delay")
        if text is not None and delay is not None:
            return f"{text}   [held; stamped by {delay.get('from')}: originally sent {delay.get('stamp')}]"
        if text is not None:
            return text
        return f"({states[0]}…)" if states else "(no body)"

    def expect(self, user: str, frm: str, mid: str | None = None, what: str = "", where=None):
        """Waits until `user` received a message from `frm` (with id `mid`, matching `where`),
        prints and returns it. A full `frm` must match exactly and is printed in full."""
        try:
            got = self.clients[user].wait_for(message(frm=frm, id=mid, where=where), WAIT + SHIFT_STARTS_IN,
                                              what=what)
        except AssertionError as e:
            raise DemoFailed(f"{user} did not receive {what or 'the message'} from {frm} within {WAIT:.0f}s.\n{e}")
        self.line(user, f"received from {got.get('from') if '/' in frm else bare(got.get('from'))}",
                  self.describe(got))
        return got

    # -- steps
    def say(self, sender: str, target: str, text: str, delivered: bool = True) -> str:
        """sender writes `text` to target's proxy JID; with `delivered`, waits until target sees it
        from sender's proxy JID. Returns the message id (to expect() it later, e.g. once released)."""
        to = self.proxy_of(target)
        mid = self.clients[sender].send_message(to, text, payload=f'<active xmlns="{NS_CHATSTATES}"/>')
        self.line(sender, f"→ {to}", text)
        if delivered:
            self.expect(target, self.proxy_of(sender), mid, what=f"{sender}'s message")
        return mid

    def chat_state(self, sender: str, target: str, state: str = "composing") -> None:
        """A bodiless chat-state notification (XEP-0085) through the proxy."""
        to = self.proxy_of(target)
        mid = self.clients[sender].send_message(to, None, payload=f'<{state} xmlns="{NS_CHATSTATES}"/>')
        self.line(sender, f"→ {to}", f"({state}…)")
        self.expect(target, self.proxy_of(sender), mid, what=f"{sender}'s chat state")

    def ask_component(self, sender: str, command: str) -> None:
        """A chat command to the component's bare JID (e.g. "help"); prints its answer."""
        self.clients[sender].send_message(self.component, command)
        self.line(sender, f"→ {self.component}", command)
        self.expect(sender, self.component, None, what=f"the answer to '{command}'",
                    where=lambda m: not (body(m) or "Concierge:").startswith("Concierge:"))  # not a notice

    # -- transparent mode: plain addresses
    def write_plain(self, sender: str, target: str, text: str, held: bool = False) -> str:
        """sender writes `text` to target's plain address; unless `held`, waits until target
        sees it at once from sender's real JID, unstamped. Returns the message id."""
        to = self.jid(target)
        mid = self.clients[sender].send_message(to, text)
        self.line(sender, f"→ {to}", text)
        if not held:
            self.expect_plain(target, sender, mid, held=False)
        return mid

    def expect_plain(self, user: str, sender: str, mid: str, held: bool):
        """`user` receives `mid` from `sender`'s real JID (resource included), with Concierge's
        XEP-0203 stamp when it was `held`, without one otherwise."""
        got = self.expect(user, self.clients[sender].jid, mid,
                          what=f"{sender}'s {'released ' if held else ''}message from {self.clients[sender].jid}")
        delay = child(got, NS_DELAY, "delay")
        if held and (delay is None or delay.get("from") != self.component):
            raise DemoFailed(f"the released message lacks a <delay/> from {self.component}: {to_string(got)}")
        if not held and delay is not None:
            raise DemoFailed(f"a message delivered at once carries a <delay/>: {to_string(got)}")
        if held:
            self.note(f"from {sender}'s real JID, its id {mid} as sent, stamped by {self.component}")
        return got

    def notice_from_component(self, user: str, about: str) -> None:
        """The notice `user` gets from the component's bare JID naming `about`'s plain address."""
        target = self.jid(about)
        got = self.expect(user, self.component, None, what=f"Concierge's notice naming {target}",
                          where=lambda m: target in (body(m) or "") and "was delivered" not in body(m))
        if got.get("from") != self.component:
            raise DemoFailed(f"the notice came from {got.get('from')}, not the component's bare JID")

    def still_held(self, user: str, mid: str) -> None:
        """`user` has not received `mid` within QUIET seconds (the release is checked later)."""
        time.sleep(QUIET)
        if self.clients[user].find(message(id=mid)):
            raise DemoFailed(f"{user} received message {mid} although Concierge should hold it")
        self.note(f"{user} received nothing within {QUIET:.0f} s: Concierge holds the message")

    def note(self, text: str) -> None:
        print(f"  -- {text}")
        sys.stdout.flush()


def shift_calendar(starts_in: int) -> str:
    """A work calendar with one shift starting `starts_in` seconds from now (UTC)."""
    import datetime as dt
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=starts_in)
    end = start + dt.timedelta(hours=8)
    fmt = "%Y%m%dT%H%M%SZ"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//concierge demo//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:demo-shift\r\nDTSTAMP:{start:{fmt}}\r\nDTSTART:{start:{fmt}}\r\nDTEND:{end:{fmt}}\r\n"
            "SUMMARY:Shift\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def notice(d: Demo, user: str, about: str) -> None:
    """Waits for the "Concierge: …" notice `user` gets from `about`'s proxy and prints it."""
    d.expect(user, d.proxy_of(about), None, what="Concierge's notice")


def conversation(d: Demo) -> None:
    """The scripted conversation. Add steps here."""
    d.say("alice", "bob", "Hi Bob, do you have a minute for the release notes?")
    d.chat_state("bob", "alice", "composing")
    d.say("bob", "alice", "Sure, send them over.")

    d.note("bob is now in a conversation with alice: carol's message waits in line")
    mid = d.say("carol", "bob", "Bob, quick question about the budget?", delivered=False)
    notice(d, "carol", "bob")
    d.say("alice", "bob", "Thanks! Sending now.")
    d.note(f"alice and bob go quiet; after {IDLE_AFTER} s the conversation ends and carol's turn comes")
    d.expect("bob", d.proxy_of("carol"), mid, what="carol's released message")
    d.say("bob", "carol", "Sure, what about it?")

    d.note("dave is off duty until his shift starts (his calendar says so)")
    mid = d.say("alice", "dave", "Dave, please look at the ticket when you start.", delivered=False)
    notice(d, "alice", "dave")
    d.note("… waiting for dave's shift to start …")
    d.expect("dave", d.component, None, what="the summary of what was held")
    d.expect("dave", d.proxy_of("alice"), mid, what="alice's released message")

    d.note("alice asks Concierge itself what it can do")
    d.ask_component("alice", "help")

    d.note("transparent mode: plain addresses; the server's mod_concierge hands the chat to Concierge")
    d.note(f"bob ends his conversation with carol (unless {IDLE_AFTER} s of silence ended it already): he is free")
    d.ask_component("bob", "end")
    d.write_plain("alice", "bob", "Bob, is the build green?")
    d.note("bob pauses: Concierge holds what is written to bob@… until he ends the pause")
    d.ask_component("bob", "pause 10m")
    mid = d.write_plain("alice", "bob", "Bob, please sign off the release when you can.", held=True)
    d.notice_from_component("alice", "bob")
    d.still_held("bob", mid)
    d.ask_component("bob", "end")
    d.expect_plain("bob", "alice", mid, held=True)


def run(binary: str, verbose: bool) -> int:
    server = concierge = None
    clients: dict[str, Client] = {}
    try:
        print("demo: starting a private Prosody on loopback …", flush=True)
        # mod_concierge from xmpp/server/prosody, loaded as config/deploy/prosody-transparent.cfg.lua says
        server = Prosody(transparent=True).start()
        print(f"demo: Prosody c2s 127.0.0.1:{server.c2s_port}, components 127.0.0.1:{server.component_port}, "
              f"run folder {server.rundir}")
        if not server.wait_log("mod_concierge ready", WAIT):
            raise DemoFailed(f"Prosody did not load mod_concierge:\n{server.log_text()[-3000:]}")
        print(f"demo: Prosody loaded mod_concierge (plugin_paths {server.rundir}/plugins, "
              f"release key {server.rundir}/concierge-release.key)")
        passwords = {u: secrets.token_hex(8) for u in USERS}
        for u in USERS:
            server.register(u, passwords[u])
        print(f"demo: users {', '.join(f'{u}@{server.domain}' for u in USERS)} created")
        import tempfile
        calendar = os.path.join(tempfile.mkdtemp(prefix="concierge-demo-"), "dave.ics")
        with open(calendar, "w") as f:
            f.write(shift_calendar(SHIFT_STARTS_IN))
        dave = f"dave@{server.domain}"
        concierge = Concierge(server, binary=binary, users=[f"{u}@{server.domain}" for u in USERS if u != "dave"],
                              extra_config=f'[session]\nidle_after = "{IDLE_AFTER}s"\n\n'
                                           f'[users."{dave}"]\ntimezone = "Europe/Berlin"\n'
                                           f'calendar = "{calendar}"\n',
                              served_mode="both")
        try:
            concierge.start(timeout=WAIT)
        except (RuntimeError, FileNotFoundError) as e:
            raise DemoFailed(str(e))
        print(f"demo: Concierge {binary} connected as {concierge.jid}, [served] mode = \"both\" "
              f"(config {concierge.config_path})")
        # Concierge pushes the enrolled users on connect; until the extension stored them, nothing is diverted.
        if not server.wait_log("Enrolled set generation", WAIT):
            raise DemoFailed(f"mod_concierge never stored the enrolled set:\n{server.log_text()[-3000:]}")
        for u in USERS:
            clients[u] = Client(server, u, passwords[u], resource="demo").connect(timeout=WAIT)
        print(f"demo: {', '.join(USERS)} logged in with slixmpp")
        # Concierge learns who is online from their presence; wait until it knows bob's.
        if not concierge.wait_schedules(dave, WAIT):
            raise DemoFailed("dave's calendar was not compiled")
        clients["bob"].send_raw("<presence/>")
        time.sleep(0.5)
        print()
        print("Transcript (what each user sent and saw):\n")
        conversation(Demo(server, concierge, clients))
        print("\ndemo: conversation done")
        return 0
    except DemoFailed as e:
        print(f"\ndemo FAILED: {e}", file=sys.stderr)
        if concierge is not None:
            print("--- Concierge log (last lines):\n" + textwrap.indent(concierge.stderr_text()[-3000:], "  "),
                  file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        return 130
    finally:
        for c in clients.values():
            c.disconnect()
        if concierge is not None:
            code = concierge.stop()
            if verbose:
                print("--- Concierge log:\n" + textwrap.indent(concierge.stderr_text(), "  "))
            concierge.cleanup()
            print(f"demo: stopped Concierge (exit {code})")
        if server is not None:
            server.stop()
            print("demo: stopped Prosody and removed its run folder")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=default_binary(), help="the concierge binary (default: %(default)s)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print Concierge's log at the end")
    args = ap.parse_args()
    # SIGTERM/SIGHUP end the demo like Ctrl-C does, so the finally-block stops what was started.
    def interrupt(_sig, _frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    return run(args.binary, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
