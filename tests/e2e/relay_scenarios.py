# SPDX-License-Identifier: MIT
"""The relay scenarios every server must pass, as a mixin for unittest.TestCase classes.

A subclass sets SERVER (Prosody or Ejabberd). setUpClass starts that server on free loopback
ports, registers alice and bob, starts Concierge (CONCIERGE_BINARY or build/concierge) with
alice@localhost and bob@localhost enrolled, and logs both users in with slixmpp.
"""

from __future__ import annotations

import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

from prosody import Concierge, proxy  # noqa: E402
from xmpp_clients import (CHAT_ACTIVE, CHAT_COMPOSING, NS_CHATSTATES, NS_CLIENT, NS_DISCO_INFO,  # noqa: E402
                          NS_PING, NS_RECEIPTS, RECEIPT_REQUEST, Client, bare, body, child,
                          error_condition, error_text, message, thread, to_string)

WAIT = 10.0  # seconds for any single expected stanza (loopback: normally a few milliseconds)
PASSWORD = "pw-e2e"
ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"
# Enrolled in Concierge's config, on a served domain the server does not host: Concierge cannot
# learn dave's presence (unknown, so messages are forwarded) and the server bounces them.
DAVE = "dave@nowhere.localhost"
OTHER_DOMAIN = "elsewhere.localhost"  # a second user domain on the server, not in served.domains


def start_stack(server_cls, users=("alice", "bob"), enrolled=(ALICE, BOB), extra_config: str = "",
                log_level: str | None = None, **server_args):
    """Server + Concierge + logged-in clients; returns (server, concierge, {user: Client}).
    `users` get accounts and log in; `enrolled` are Concierge's [users]; `extra_config` is
    appended to its config. On any failure everything already started is stopped before
    re-raising."""
    server = server_cls(**server_args).start()
    concierge = None
    clients = {}
    try:
        for u in users:
            server.register(u, PASSWORD)
        concierge = Concierge(server, users=enrolled, extra_config=extra_config,
                              log_level=log_level).start(timeout=WAIT)
        for u in users:
            clients[u] = Client(server, u, PASSWORD).connect(timeout=WAIT)
        return server, concierge, clients
    except BaseException:
        stop_stack(server, concierge, clients)
        raise


def stop_stack(server, concierge, clients):
    for c in clients.values():
        c.disconnect()
    if concierge is not None:
        concierge.stop()
        concierge.cleanup()
    server.stop()


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


class RelayScenarios:
    """Mixin: needs SERVER set by the concrete TestCase."""

    SERVER = None
    COMPONENT = "sched.localhost"

    ENROLLED = (ALICE, BOB)
    EXTRA_HOSTS = ()

    @classmethod
    def setUpClass(cls):
        cls.server, cls.concierge, clients = start_stack(cls.SERVER, enrolled=cls.ENROLLED,
                                                         extra_hosts=cls.EXTRA_HOSTS)
        cls.alice, cls.bob = clients["alice"], clients["bob"]
        cls.clients = clients

    @classmethod
    def tearDownClass(cls):
        stop_stack(cls.server, cls.concierge, cls.clients)

    def setUp(self):
        # A crashed component makes every later wait time out; say so plainly instead.
        if not self.concierge.running:
            self.fail(f"Concierge is not running (exit {self.concierge.proc.poll()}); stderr:\n"
                      + self.concierge.stderr_text()[-4000:])

    def assert_from_proxy(self, stanza, user):
        self.assertEqual(bare(stanza.get("from")), proxy(user, self.COMPONENT), to_string(stanza))

    # -- relay both ways ------------------------------------------------------------------------
    def test_relay_alice_to_bob_keeps_id_type_thread_and_payloads(self):
        text = unique("Hi Bob")
        mid, tid = unique("id-a2b"), unique("thread")
        self.alice.send_message(proxy(BOB), text, id=mid, thread=tid, payload=[CHAT_ACTIVE, RECEIPT_REQUEST])
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what=f"relayed {mid}")
        self.assert_from_proxy(got, ALICE)
        self.assertEqual(bare(got.get("to")), BOB, to_string(got))
        self.assertEqual(got.get("type"), "chat", to_string(got))
        self.assertEqual(body(got), text)
        self.assertEqual(thread(got), tid)
        self.assertIsNotNone(child(got, NS_CHATSTATES, "active"), to_string(got))
        self.assertIsNotNone(child(got, NS_RECEIPTS, "request"), to_string(got))
        self.assertNotIn(text, self.concierge.stderr_text(), "message bodies must never reach the log")

    def test_relay_bob_reply_reaches_alice_from_bobs_proxy(self):
        first = self.alice.send_message(proxy(BOB), unique("question"))
        self.bob.wait_for(message(frm=proxy(ALICE), id=first), WAIT)
        text = unique("Hi Alice")
        mid, tid = unique("id-b2a"), unique("thread")
        self.bob.send_message(proxy(ALICE), text, id=mid, thread=tid, payload=[CHAT_ACTIVE, RECEIPT_REQUEST])
        got = self.alice.wait_for(message(frm=proxy(BOB), id=mid), WAIT, what=f"reply {mid}")
        self.assert_from_proxy(got, BOB)
        self.assertEqual(bare(got.get("to")), ALICE, to_string(got))
        self.assertEqual(got.get("type"), "chat", to_string(got))
        self.assertEqual(body(got), text)
        self.assertEqual(thread(got), tid)
        self.assertIsNotNone(child(got, NS_CHATSTATES, "active"), to_string(got))
        self.assertIsNotNone(child(got, NS_RECEIPTS, "request"), to_string(got))

    def test_bodiless_chat_state_is_relayed(self):
        # Chat states are relayed only when a message would go now (DESIGN §2): right after
        # startup Concierge may not know bob's presence yet, so open the conversation first.
        first = self.alice.send_message(proxy(BOB), unique("opening"))
        self.bob.wait_for(message(frm=proxy(ALICE), id=first), WAIT)
        mid = unique("composing")
        self.alice.send_message(proxy(BOB), None, id=mid, payload=CHAT_COMPOSING)
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed <composing/>")
        self.assertIsNotNone(child(got, NS_CHATSTATES, "composing"), to_string(got))
        self.assertIsNone(body(got), to_string(got))
        self.assertEqual(got.get("type"), "chat", to_string(got))

    # -- refusals -------------------------------------------------------------------------------
    def test_target_not_enrolled_gets_item_not_found_with_text(self):
        mid = unique("to-carol")
        self.alice.send_message(proxy(CAROL), "Hi Carol", id=mid)
        err = self.alice.wait_for(message(id=mid, type="error"), WAIT, what="error for a non-enrolled target")
        self.assertEqual(bare(err.get("from")), proxy(CAROL), to_string(err))
        self.assertEqual(error_condition(err), "item-not-found", to_string(err))
        self.assertTrue(error_text(err), f"the error needs a text: {to_string(err)}")

    def test_groupchat_gets_bad_request_and_is_not_relayed(self):
        mid = unique("groupchat")
        self.alice.send_message(proxy(BOB), "to the room?", type="groupchat", id=mid)
        err = self.alice.wait_for(message(id=mid, type="error"), WAIT, what="error for a groupchat message")
        self.assertEqual(error_condition(err), "bad-request", to_string(err))
        # Nothing observable says "not relayed"; a later chat message overtaking it does.
        marker = self.alice.send_message(proxy(BOB), unique("marker"))
        self.bob.wait_for(message(id=marker), WAIT)
        self.assertEqual(self.bob.find(message(id=mid)), [], "a groupchat message must not be relayed")

    # -- the component itself -------------------------------------------------------------------
    def test_help_to_the_component(self):
        self.alice.send_message(self.COMPONENT, "help")
        got = self.alice.wait_for(message(frm=self.COMPONENT, where=lambda m: m.get("type") != "error"),
                                  WAIT, what="help answer")
        self.assertEqual(bare(got.get("from")), self.COMPONENT)
        self.assertEqual(got.get("type"), "chat", to_string(got))
        self.assertTrue((body(got) or "").strip(), f"help text must not be empty: {to_string(got)}")

    def test_disco_info_on_the_component(self):
        res = self.alice.send_iq(self.COMPONENT, f'<query xmlns="{NS_DISCO_INFO}"/>', timeout=WAIT)
        self.assertEqual(res.get("type"), "result", to_string(res))
        query = child(res, NS_DISCO_INFO, "query")
        self.assertIsNotNone(query, to_string(res))
        self.assertTrue(query.findall(f"{{{NS_DISCO_INFO}}}identity"), f"no identity: {to_string(res)}")
        features = {f.get("var") for f in query.findall(f"{{{NS_DISCO_INFO}}}feature")}
        self.assertIn(NS_PING, features, to_string(res))
        self.assertIn(NS_DISCO_INFO, features, to_string(res))

    def test_ping_the_component(self):
        res = self.alice.send_iq(self.COMPONENT, f'<ping xmlns="{NS_PING}"/>', timeout=WAIT)
        self.assertEqual(res.get("type"), "result", to_string(res))


NS_MARKERS = "urn:xmpp:chat-markers:0"
NS_OOB = "jabber:x:oob"
NS_VERSION = "jabber:iq:version"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class RelayDetailScenarios:
    """Mixin with more of issue 2 than the first contract: the whole stanza survives, bodiless
    receipts, headline, loops, errors from the server, no open relay, service basics on proxy
    JIDs. Needs the stack of RelayScenarios with ENROLLED = (ALICE, BOB, DAVE) and
    EXTRA_HOSTS = (OTHER_DOMAIN,)."""

    def test_sender_outside_served_domains_is_refused_with_text_not_relayed(self):
        self.server.register("mallory", PASSWORD, host=OTHER_DOMAIN)
        mallory = Client(self.server, "mallory", PASSWORD, domain=OTHER_DOMAIN).connect(timeout=WAIT)
        try:
            mid = unique("from-outside")
            mallory.send_message(proxy(BOB), "let me in", id=mid)
            err = mallory.wait_for(message(id=mid, type="error"), WAIT,
                                   what="error for a sender outside served.domains")
            self.assertTrue(error_condition(err), to_string(err))
            self.assertTrue(error_text(err), f"the error needs a text: {to_string(err)}")
        finally:
            mallory.disconnect()
        marker = self.alice.send_message(proxy(BOB), unique("marker"))
        self.bob.wait_for(message(id=marker), WAIT)
        self.assertEqual(self.bob.find(message(id=mid)), [], "no open relay: a foreign sender must not get through")

    def test_relay_keeps_subject_lang_markers_and_oob_of_a_normal_message(self):
        mid, text = unique("normal"), unique("Bonjour Bob")
        url = "https://example.org/" + unique("file") + ".png"
        self.alice.send_raw(
            f"<message to='{proxy(BOB)}' id='{mid}' xml:lang='fr'><subject>Sujet</subject><body>{text}</body>"
            f"<markable xmlns='{NS_MARKERS}'/><x xmlns='{NS_OOB}'><url>{url}</url></x></message>")
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed normal message")
        self.assertIn(got.get("type"), (None, "normal"), to_string(got))
        self.assertEqual(body(got), text)
        self.assertEqual(got.findtext(f"{{{NS_CLIENT}}}subject"), "Sujet", to_string(got))
        self.assertEqual(got.get(XML_LANG), "fr", to_string(got))
        self.assertIsNotNone(child(got, NS_MARKERS, "markable"), to_string(got))
        oob = child(got, NS_OOB, "x")
        self.assertIsNotNone(oob, to_string(got))
        self.assertEqual(oob.findtext(f"{{{NS_OOB}}}url"), url, to_string(got))

    def test_bodiless_receipt_and_displayed_marker_go_back(self):
        first = self.alice.send_message(proxy(BOB), unique("please confirm"), payload=RECEIPT_REQUEST)
        self.bob.wait_for(message(frm=proxy(ALICE), id=first), WAIT)
        rid = self.bob.send_message(proxy(ALICE), None, payload=f"<received xmlns='{NS_RECEIPTS}' id='{first}'/>")
        got = self.alice.wait_for(message(frm=proxy(BOB), id=rid), WAIT, what="relayed receipt")
        received = child(got, NS_RECEIPTS, "received")
        self.assertIsNotNone(received, to_string(got))
        self.assertEqual(received.get("id"), first, to_string(got))
        did = self.bob.send_message(proxy(ALICE), None, payload=f"<displayed xmlns='{NS_MARKERS}' id='{first}'/>")
        got = self.alice.wait_for(message(frm=proxy(BOB), id=did), WAIT, what="relayed displayed marker")
        self.assertIsNotNone(child(got, NS_MARKERS, "displayed"), to_string(got))

    def test_headline_is_relayed(self):
        mid, text = unique("headline"), unique("FYI")
        self.alice.send_message(proxy(BOB), text, type="headline", id=mid)
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="relayed headline")
        self.assertEqual(got.get("type"), "headline", to_string(got))
        self.assertEqual(body(got), text)

    def test_proxy_of_a_proxy_is_refused_not_relayed(self):
        loop_target = proxy(proxy(BOB))  # bob\5c40localhost\40sched.localhost@sched.localhost
        mid = unique("loop")
        self.alice.send_message(loop_target, "round and round", id=mid)
        err = self.alice.wait_for(message(id=mid, type="error"), WAIT, what="error for a proxy of a proxy")
        self.assertTrue(error_condition(err), to_string(err))
        marker = self.alice.send_message(proxy(BOB), unique("marker"))
        self.bob.wait_for(message(id=marker), WAIT)
        self.assertEqual(self.bob.find(message(id=mid)), [], "a looped message must not reach anyone")

    def test_error_from_the_server_goes_back_to_the_sender_from_the_proxy(self):
        # dave's domain is not hosted by the server: it bounces the relayed message.
        mid = unique("to-dave")
        self.alice.send_message(proxy(DAVE), "Hi Dave", id=mid)
        err = self.alice.wait_for(message(id=mid, type="error"), WAIT, what="the server's bounce, via Concierge")
        self.assertEqual(bare(err.get("from")), proxy(DAVE), to_string(err))
        self.assertTrue(error_condition(err), to_string(err))

    def test_ping_and_disco_info_on_a_proxy_jid(self):
        res = self.alice.send_iq(proxy(BOB), f'<ping xmlns="{NS_PING}"/>', timeout=WAIT)
        self.assertEqual(res.get("type"), "result", to_string(res))
        res = self.alice.send_iq(proxy(BOB), f'<query xmlns="{NS_DISCO_INFO}"/>', timeout=WAIT)
        self.assertEqual(res.get("type"), "result", to_string(res))
        query = child(res, NS_DISCO_INFO, "query")
        self.assertIsNotNone(query, to_string(res))
        self.assertTrue(query.findall(f"{{{NS_DISCO_INFO}}}identity"), f"no identity: {to_string(res)}")

    def test_software_version_of_the_component(self):
        res = self.alice.send_iq(self.COMPONENT, f'<query xmlns="{NS_VERSION}"/>', timeout=WAIT)
        self.assertEqual(res.get("type"), "result", to_string(res))
        query = child(res, NS_VERSION, "query")
        self.assertIsNotNone(query, to_string(res))
        self.assertTrue(query.findtext(f"{{{NS_VERSION}}}name"), to_string(res))
        self.assertTrue(query.findtext(f"{{{NS_VERSION}}}version"), to_string(res))


__all__ = ["RelayScenarios", "RelayDetailScenarios", "start_stack", "stop_stack", "unique",
           "WAIT", "PASSWORD", "ALICE", "BOB", "CAROL", "DAVE", "OTHER_DOMAIN",
           "Client", "Concierge", "proxy", "message", "iq", "NS_CLIENT"]
