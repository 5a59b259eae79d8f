# SPDX-License-Identifier: MIT
"""End-to-end: enrolment by XEP-0077 from a real client, presence tracking, proxy presence,
state rebuilt after a restart, and presence through XEP-0356 (Prosody mod_privilege).

Observable to users: a subscriber of bob's proxy JID sees only Concierge's derived status —
available, or dnd "in a conversation" — never bob's own show, status text or idle time.
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import (ALICE, BOB, PASSWORD, WAIT, Client, Concierge, message, proxy,  # noqa: E402
                             start_stack, stop_stack, unique)
from prosody import Ejabberd, Prosody  # noqa: E402
from xmpp_clients import bare, body, child, stanza, to_string  # noqa: E402

NS_REGISTER = "jabber:iq:register"
NS_DATA = "jabber:x:data"
CAROL = "carol@localhost"


def proxy_presence(of: str, show: str | None = "any", type: str | None = None):
    """A presence from `of`'s proxy; show "any" matches any show, None only no <show/>."""
    def where(p):
        if p.get("type") != type:
            return False
        s = p.find("{jabber:client}show")
        if show == "any":
            return True
        return (s is None and show is None) or (s is not None and s.text == show)
    return stanza("presence", frm=proxy(of), where=where)


def roster_push(of: str, subscription: str):
    """The server's roster push for `of`'s proxy once its subscription state is `subscription`
    (Prosody applies a proxy's `subscribed`/`unsubscribed` to the roster and pushes that)."""
    def where(el):
        for item in el.iter("{jabber:iq:roster}item"):
            if item.get("jid") == proxy(of) and item.get("subscription") == subscription \
                    and item.get("ask") is None:
                return True
        return False
    return stanza("iq", where=where)


def become_interested(client) -> None:
    """Requests the roster: only then is a resource 'interested' (RFC 6121 §2.1.6) and gets
    subscription approvals and roster pushes."""
    iid = client.next_id("roster")
    client.send_raw(f'<iq type="get" id="{iid}"><query xmlns="jabber:iq:roster"/></iq>')
    client.wait_for(stanza("iq", id=iid), WAIT, what="roster result")


def restart(concierge) -> None:
    """Stops and starts Concierge, waiting for the new process's own 'connected to'."""
    concierge.stop()
    concierge.start(timeout=WAIT)


def register_form(timezone: str, url: str = "") -> str:
    return (f'<query xmlns="{NS_REGISTER}"><x xmlns="{NS_DATA}" type="submit">'
            f'<field var="FORM_TYPE"><value>{NS_REGISTER}</value></field>'
            f'<field var="timezone"><value>{timezone}</value></field>'
            f'<field var="calendar_url"><value>{url}</value></field></x></query>')


class Enrolment(unittest.TestCase):
    """carol is not in the config: she enrols herself from her client, and it survives a restart."""

    def setUp(self):
        self.server, self.concierge, self.clients = start_stack(Prosody, users=("alice", "carol"),
                                                                enrolled=(ALICE,))

    def tearDown(self):
        stop_stack(self.server, self.concierge, self.clients)

    def test_register_then_reachable_then_unregister(self):
        alice, carol = self.clients["alice"], self.clients["carol"]
        # Before: carol's proxy is refused.
        mid = alice.send_message(proxy(CAROL), "are you there?", id=unique("before"))
        err = alice.wait_for(message(id=mid, type="error"), WAIT, what="refusal before enrolment")
        self.assertIn("item-not-found", to_string(err))

        form = carol.send_iq("sched.localhost", f'<query xmlns="{NS_REGISTER}"/>')
        self.assertEqual(form.get("type"), "result", to_string(form))
        self.assertIn('var="timezone"', to_string(form))

        bad = carol.send_iq("sched.localhost", register_form("Mars/Olympus"), type="set")
        self.assertEqual(bad.get("type"), "error", to_string(bad))
        self.assertIn("Unknown time zone", to_string(bad))

        done = carol.send_iq("sched.localhost", register_form("Europe/Paris"), type="set")
        self.assertEqual(done.get("type"), "result", to_string(done))
        # XEP-0100: the component asks for carol's presence (slixmpp approves it).
        carol.wait_for(stanza("presence", frm="sched.localhost", where=lambda p: p.get("type") == "subscribe"),
                       WAIT, what="subscription request from the component")

        mid = alice.send_message(proxy(CAROL), "hello carol", id=unique("after"))
        got = carol.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed after enrolment")
        self.assertEqual(body(got), "hello carol")

        # The enrolment is stored: a restarted Concierge still relays to carol.
        restart(self.concierge)
        mid = alice.send_message(proxy(CAROL), "still there?", id=unique("restart"))
        carol.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed after a restart")

        bye = carol.send_iq("sched.localhost", f'<query xmlns="{NS_REGISTER}"><remove/></query>', type="set")
        self.assertEqual(bye.get("type"), "result", to_string(bye))
        mid = alice.send_message(proxy(CAROL), "gone?", id=unique("gone"))
        alice.wait_for(message(id=mid, type="error"), WAIT, what="refusal after unregistering")


class ProxyPresence(unittest.TestCase):
    """alice subscribes to bob's proxy and follows what Concierge knows of bob."""

    SERVER = Prosody
    SERVER_ARGS: dict = {}

    def setUp(self):
        self.server, self.concierge, self.clients = start_stack(self.SERVER, users=("alice", "bob", "carol"),
                                                                enrolled=(ALICE, BOB, CAROL),
                                                                **self.SERVER_ARGS)
        self.alice, self.bob = self.clients["alice"], self.clients["bob"]

    def tearDown(self):
        stop_stack(self.server, self.concierge, self.clients)

    def subscribe_alice_to_bob(self):
        become_interested(self.alice)
        self.alice.send_raw(f'<presence to="{proxy(BOB)}" type="subscribe"/>')
        self.alice.wait_for(proxy_presence(BOB, type="subscribed"), WAIT, what="subscription approved")
        self.alice.wait_for(roster_push(BOB, "to"), WAIT, what="roster: subscribed to bob's proxy")
        self.alice.wait_for(proxy_presence(BOB, show=None), WAIT, what="bob's proxy available")

    def wait_bob_known(self):
        # Concierge asked bob for his presence at connect; slixmpp approved; the server then
        # sends bob's presence. Wait until Concierge has it: bob's dnd must show through.
        self.bob.send_raw("<presence><show>dnd</show><status>at the dentist</status>"
                          '<idle xmlns="urn:xmpp:idle:1" since="2026-01-01T08:00:00Z"/></presence>')
        return self.alice.wait_for(proxy_presence(BOB, show="dnd"), WAIT, what="bob's proxy in dnd")

    def test_derived_status_only_never_raw_presence(self):
        self.subscribe_alice_to_bob()
        busy = self.wait_bob_known()
        text = to_string(busy)
        self.assertIn("in a conversation", text)
        self.assertNotIn("dentist", text)
        self.assertNotIn("idle", text)
        self.bob.send_raw("<presence><show>away</show><status>lunch</status></presence>")
        free = self.alice.wait_for(proxy_presence(BOB, show=None), WAIT, what="bob's proxy available again")
        self.assertNotIn("lunch", to_string(free))

    def test_a_conversation_makes_the_proxy_busy(self):
        self.subscribe_alice_to_bob()
        self.wait_bob_known()
        self.bob.send_raw("<presence/>")
        self.alice.wait_for(proxy_presence(BOB, show=None), WAIT, what="bob available")
        carol = self.clients["carol"]
        mid = carol.send_message(proxy(BOB), "quick question", id=unique("q"))
        self.bob.wait_for(message(frm=proxy(CAROL), id=mid), WAIT)
        mid = self.bob.send_message(proxy(CAROL), "go ahead", id=unique("a"))
        carol.wait_for(message(frm=proxy(BOB), id=mid), WAIT)
        got = self.alice.wait_for(proxy_presence(BOB, show="dnd"), WAIT, what="bob in a conversation")
        self.assertIn("in a conversation", to_string(got))
        carol.send_message(proxy(BOB), None, payload='<gone xmlns="http://jabber.org/protocol/chatstates"/>')
        self.alice.wait_for(proxy_presence(BOB, show=None), WAIT, what="conversation ended by gone")

    def test_restart_rebuilds_presence_from_probes(self):
        self.subscribe_alice_to_bob()
        self.wait_bob_known()
        self.concierge.stop()
        # Shutdown: unavailable from every proxy with subscribers.
        self.alice.wait_for(proxy_presence(BOB, type="unavailable"), WAIT, what="unavailable on shutdown")
        self.concierge.start(timeout=WAIT)
        # The proxy subscription was stored; the probe of bob brings his dnd back.
        self.alice.wait_for(proxy_presence(BOB, show="dnd"), WAIT, what="dnd again after restart")

    def test_other_domains_may_not_subscribe_to_a_proxy(self):
        # Only a same-domain subscriber is approved by default; an unknown target never.
        become_interested(self.alice)
        self.alice.send_raw(f'<presence to="{proxy("nobody@localhost")}" type="subscribe"/>')
        self.alice.wait_for(proxy_presence("nobody@localhost", type="unsubscribed"), WAIT,
                            what="subscription declined")
        self.assertEqual(self.alice.find(proxy_presence("nobody@localhost", type=None)), [])


class PrivilegedPresence(unittest.TestCase):
    """With mod_privilege (XEP-0356 urn:xmpp:privilege:2) bob's presence reaches Concierge even
    though bob refused the component's subscription. The grant is config/deploy/'s snippet, as
    shipped (tests/support/deploy_snippets.py)."""

    SERVER = Prosody
    SERVER_ARGS = {"privilege": True}
    EXPECT_PRIVILEGE = True

    def setUp(self):
        self.server, self.concierge, self.clients = start_stack(self.SERVER, users=("alice", "bob"),
                                                                enrolled=(ALICE, BOB), **self.SERVER_ARGS)
        self.alice, self.bob = self.clients["alice"], self.clients["bob"]

    def tearDown(self):
        stop_stack(self.server, self.concierge, self.clients)

    def test_presence_arrives_without_the_subscription(self):
        if self.EXPECT_PRIVILEGE:
            self.assertTrue(self.concierge.wait_log("grants presence access", WAIT),
                            self.concierge.stderr_text()[-3000:])
        # bob revokes both directions of his subscription with the component.
        self.bob.send_raw('<presence to="sched.localhost" type="unsubscribed"/>')
        self.bob.send_raw('<presence to="sched.localhost" type="unsubscribe"/>')
        become_interested(self.alice)
        self.alice.send_raw(f'<presence to="{proxy(BOB)}" type="subscribe"/>')
        self.alice.wait_for(proxy_presence(BOB, type="subscribed"), WAIT, what="subscription approved")
        self.bob.send_raw("<presence><show>dnd</show></presence>")
        if self.EXPECT_PRIVILEGE:
            self.alice.wait_for(proxy_presence(BOB, show="dnd"), WAIT, what="dnd through the privilege")
            # Concierge looks for the grant 5 s after connecting: with it, nothing is said.
            self.assertFalse(self.concierge.wait_log("grants no presence access", 7),
                             self.concierge.stderr_text()[-3000:])
        else:
            # Without the grant the admin is told so (info), once.
            self.assertTrue(self.concierge.wait_log("the server grants no presence access", WAIT),
                            self.concierge.stderr_text()[-3000:])
            self.assertEqual(self.concierge.count_log("grants presence access"), 0)
            # The control: without the privilege, a revoked subscription means Concierge no
            # longer learns bob's presence (bounded wait for something that must not come).
            with self.assertRaises(AssertionError):
                self.alice.wait_for(proxy_presence(BOB, show="dnd"), 3.0)


class UnprivilegedControl(PrivilegedPresence):
    """The same on a Prosody without mod_privilege: the dnd must not come through."""

    SERVER_ARGS = {}
    EXPECT_PRIVILEGE = False


@unittest.skipUnless(Ejabberd.installed(), "ejabberd is not installed")
class EjabberdPrivilegedPresence(PrivilegedPresence):
    """ejabberd 23.01's mod_privilege speaks urn:xmpp:privilege:1 and replays nothing."""

    SERVER = Ejabberd
    SERVER_ARGS = {}


@unittest.skipUnless(Ejabberd.installed(), "ejabberd is not installed")
class EjabberdGrantsOnlyConcierge(unittest.TestCase):
    """The shipped ejabberd snippet grants presence to Concierge's domain only: another
    component domain of the same listener gets nothing (`managed_entity: all` would grant it
    too). ejabberd 23.01 advertises the grants of every domain of the listener to the connection
    that comes up, in one burst: Concierge's debug log shows each advertisement."""

    def test_another_component_gets_no_grant(self):
        server, concierge, clients = start_stack(Ejabberd, users=("alice",), enrolled=(ALICE,), log_level="debug",
                                                 extra_components=(("other.localhost", "other-secret"),))
        try:
            self.assertTrue(concierge.wait_log("the server grants presence access", WAIT),
                            concierge.stderr_text()[-3000:])
            advertised = [line for line in concierge.stderr_text().splitlines() if "<privilege " in line]
            self.assertTrue(any('to="sched.localhost"' in line and 'type="managed_entity"' in line
                                for line in advertised), advertised)
            self.assertEqual([line for line in advertised if 'to="other.localhost"' in line], [])
        finally:
            stop_stack(server, concierge, clients)


@unittest.skipUnless(Ejabberd.installed(), "ejabberd is not installed")
class EjabberdProxyPresence(ProxyPresence):
    SERVER = Ejabberd


if __name__ == "__main__":
    unittest.main()
