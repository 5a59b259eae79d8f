# SPDX-License-Identifier: MIT
"""DESIGN §2's conversation rules with clients that behave like people, as a mixin for
unittest.TestCase classes: a subclass sets SERVER (Prosody or Ejabberd); each scenario starts
its own server, Concierge and clients (start) and stops them (tearDown).

bob's client never answers Concierge's subscription request, or denies it, or revokes it later;
he has a phone and a desktop with different show and priority; he goes dnd, away, xa; he pauses
while talking to alice. What alice and bob see is checked as a slixmpp client receives it.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import (ALICE, BOB, CAROL, PASSWORD, WAIT, Client, Concierge, message, proxy,  # noqa: E402
                             stop_stack, unique)
from prosody import Prosody  # noqa: E402
from xmpp_clients import APPROVE, DENY, IGNORE, body, child, stanza, to_string  # noqa: E402

COMPONENT = "sched.localhost"


def notice(of: str, containing: str = ""):
    """A Concierge notice about `of`, as the sender's client gets it: from `of`'s proxy."""
    return message(frm=proxy(of), where=lambda m: (body(m) or "").startswith("Concierge:")
                   and containing in (body(m) or ""))


class ConversationRuleScenarios:
    """Mixin: needs SERVER set by the concrete TestCase."""

    SERVER = None
    CSI_MODULES = ()  # the server's modules for XEP-0352 client state indication
    SM_MODULES = ()  # the server's modules for XEP-0198 stream management

    def start(self, bob: str = APPROVE, extra_config: str = "", bob_online: bool = True,
              bob_show: str | None = None, server_modules=(), bob_sm: bool = False):
        """The server, Concierge (alice, bob, carol enrolled; debug log to see presence arrive),
        alice and carol online; bob online (unless not) answering subscriptions as `bob`."""
        self.server = self.SERVER(modules=server_modules).start()
        self.concierge = None
        self.clients = {}
        try:
            for u in ("alice", "bob", "carol"):
                self.server.register(u, PASSWORD)
            self.concierge = Concierge(self.server, users=(ALICE, BOB, CAROL), extra_config=extra_config,
                                       log_level="debug").start(timeout=WAIT)
            for u in ("alice", "carol"):
                self.clients[u] = Client(self.server, u, PASSWORD).connect(timeout=WAIT)
            self.clients["bob"] = Client(self.server, "bob", PASSWORD, resource="desktop", subscriptions=bob,
                                      stream_management=bob_sm)
            if bob_online:
                self.clients["bob"].connect(timeout=WAIT, show=bob_show)
        except BaseException:
            stop_stack(self.server, self.concierge, self.clients)
            raise
        self.alice, self.bob, self.carol = (self.clients[u] for u in ("alice", "bob", "carol"))

    def tearDown(self):
        stop_stack(self.server, self.concierge, self.clients)

    def wait_log_line(self, *parts: str, count: int = 1) -> None:
        """Until Concierge's debug log has `count` incoming stanzas whose line has every part."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            lines = [line for line in self.concierge.stderr_text().splitlines()
                     if " in: " in line and all(p in line for p in parts)]
            if len(lines) >= count:
                return
            time.sleep(0.05)
        self.fail(f"Concierge never took in a stanza with {parts}; log:\n"
                  + self.concierge.stderr_text()[-3000:])

    def wait_bob_presence(self, show: str | None = None) -> None:
        """Until Concierge has taken in bob's desktop presence (with `show`)."""
        parts = ['<presence', 'from="bob@localhost/desktop"']
        if show:
            parts.append(f"<show>[{len(show)} bytes]</show>")  # the log shows sizes, never texts
        self.wait_log_line(*parts)

    def assert_no_notice(self, client, of: str, why: str) -> None:
        self.assertEqual(client.find(notice(of)), [], why)

    # -- 1. presence counts only by right -------------------------------------------------------

    def test_a_target_who_never_answers_the_subscription_request_still_gets_messages(self):
        self.start(bob=IGNORE)
        if self.SERVER is Prosody:
            # Prosody acknowledges Concierge's request with an `unavailable` from bob's bare JID
            # (ejabberd sends nothing: bob's presence is simply never seen).
            self.wait_log_line('<presence', 'from="bob@localhost"', 'type="unavailable"')
        mid = self.alice.send_message(proxy(BOB), "are you there?", id=unique("ignored"))
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="delivered, not held as offline")
        self.assertEqual(body(got), "are you there?")
        self.assert_no_notice(self.alice, BOB, "nobody is told bob is offline")

    def test_a_target_who_denies_the_subscription_still_gets_messages(self):
        self.start(bob=DENY)
        self.wait_log_line('<presence', 'from="bob@localhost"', 'type="unsubscribed"')
        mid = self.alice.send_message(proxy(BOB), "hello", id=unique("denied"))
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="delivered to a denier")
        self.assert_no_notice(self.alice, BOB, "no hold notice")

    def test_a_target_who_revokes_later_is_unknown_again_not_offline(self):
        self.start()
        self.bob.set_presence("dnd")
        self.wait_bob_presence("dnd")  # by right: bob's dnd counts, alice waits in line
        first = self.alice.send_message(proxy(BOB), "first", id=unique("dnd"))
        self.alice.wait_for(notice(BOB, "you are #1 in line."), WAIT, what="the dnd notice")
        # bob stops sharing his presence: Prosody routes `unsubscribed`, then `unavailable` from
        # his resource. Concierge knows nothing of him any more: messages go through.
        self.bob.revoke(COMPONENT)
        self.wait_log_line('<presence', 'from="bob@localhost"', 'type="unsubscribed"')
        if self.SERVER is not Prosody:
            # ejabberd's mod_privilege still gives Concierge bob's presence by XEP-0356 right:
            # the subscription was never what made it count. He is still dnd, so alice's message
            # waits until he is available again (not lost, not told "offline").
            self.assertEqual(self.bob.find(message(id=first)), [], "still held while dnd")
            self.bob.set_presence(None)
        self.bob.wait_for(message(frm=proxy(ALICE), id=first), WAIT, what="released: presence unknown")
        mid = self.alice.send_message(proxy(BOB), "second", id=unique("revoked"))
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="delivered after the revocation")

    # -- 2 and 7. a release opens nothing; notices as a client shows them ---------------------

    def test_a_released_message_opens_no_conversation_and_the_sender_is_told_it_was_delivered(self):
        self.start(bob_online=False)
        self.bob.connect(timeout=WAIT)
        self.wait_bob_presence()
        self.bob.disconnect()
        self.wait_log_line('<presence', 'from="bob@localhost/desktop"', 'type="unavailable"')
        mid = self.alice.send_message(proxy(BOB), "while you were out", id=unique("held"))
        held = self.alice.wait_for(notice(BOB, "is offline"), WAIT, what="the offline notice")
        # What a slixmpp client receives: a chat message from bob's proxy address, marked as
        # Concierge's, that no archive or offline storage should keep.
        self.assertEqual(held.get("type"), "chat", to_string(held))
        self.assertTrue(body(held).startswith("Concierge: bob@localhost is offline;"), body(held))
        self.assertIsNotNone(child(held, "urn:xmpp:hints", "no-store"), to_string(held))

        self.bob = self.clients["bob"] = Client(self.server, "bob", PASSWORD, resource="desktop").connect(timeout=WAIT)
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="the release")

        # bob never answered: no conversation. He leaves; alice's next message is held again,
        # and she is told — not silently handed to the server's offline storage.
        self.bob.disconnect()
        self.wait_log_line('<presence', 'from="bob@localhost/desktop"', 'type="unavailable"', count=2)
        self.alice.send_message(proxy(BOB), "one more", id=unique("again"))
        again = self.alice.wait_for(notice(BOB, "is offline"), WAIT, what="a second offline notice")
        self.assertIn("delivered when they are back", body(again))

        # Between the two, once the server took the release: alice was told, once.
        done = self.alice.wait_for(notice(BOB, "was delivered"), WAIT, what="told it was delivered")
        self.assertEqual(body(done), "Concierge: your held message to bob@localhost was delivered.")
        self.assertIsNotNone(child(done, "urn:xmpp:hints", "no-store"), to_string(done))
        self.assertEqual(len(self.alice.find(notice(BOB, "was delivered"))), 1)

    # -- 4. a pause holds the people bob is talking to --------------------------------------

    def test_a_pause_holds_messages_from_someone_bob_is_talking_to(self):
        self.start()
        self.wait_bob_presence()
        mid = self.alice.send_message(proxy(BOB), "quick question", id=unique("q"))
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT)
        rid = self.bob.send_message(proxy(ALICE), "go ahead")
        self.alice.wait_for(message(frm=proxy(BOB), id=rid), WAIT)
        self.bob.send_message(COMPONENT, "pause 1h")
        self.bob.wait_for(message(frm=COMPONENT), WAIT, what="the answer to pause")
        mid = self.alice.send_message(proxy(BOB), "and another thing", id=unique("paused"))
        told = self.alice.wait_for(notice(BOB, "is busy until"), WAIT, what="the pause notice")
        self.assertIn("your message will be delivered then", body(told))
        self.assertEqual(self.bob.find(message(id=mid)), [], "held during the pause")
        self.bob.send_message(COMPONENT, "end")
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="released when the pause ends")

    # -- 5 and 6. dnd is "busy"; away and xa are available; two resources ---------------------

    def test_dnd_is_busy_and_leaving_it_for_away_releases_while_xa_holds_nothing(self):
        self.start(bob_show="xa")
        self.wait_bob_presence("xa")
        cid = self.carol.send_message(proxy(BOB), "hi bob", id=unique("xa"))
        self.bob.wait_for(message(frm=proxy(CAROL), id=cid), WAIT, what="xa counts as available")
        self.bob.set_presence("dnd")
        self.wait_bob_presence("dnd")
        mid = self.alice.send_message(proxy(BOB), "when you can", id=unique("dnd"))
        told = self.alice.wait_for(notice(BOB), WAIT, what="the dnd notice")
        self.assertEqual(body(told), "Concierge: bob@localhost is busy; you are #1 in line.")
        self.assertEqual(self.bob.find(message(id=mid)), [], "held while dnd")
        self.bob.set_presence("away")
        self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="released on leaving dnd for away")

    def test_a_phone_below_zero_priority_does_not_make_a_dnd_desktop_available(self):
        self.start(bob_show="dnd")
        phone = self.clients["phone"] = Client(self.server, "bob", PASSWORD, resource="phone")
        phone.connect(timeout=WAIT, show="away", priority=-1)
        self.wait_bob_presence("dnd")
        self.wait_log_line('<presence', 'from="bob@localhost/phone"')
        mid = self.alice.send_message(proxy(BOB), "busy?", id=unique("two"))
        self.alice.wait_for(notice(BOB, "is busy; you are #1 in line."), WAIT,
                            what="held: the phone takes no bare-JID messages")
        phone.set_presence("away", priority=1)
        got = phone.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="released once the phone counts")
        self.assertEqual(body(got), "busy?")

    # -- clients that behave like phones ----------------------------------------------------------

    def test_a_target_whose_client_is_inactive_still_gets_messages(self):
        # XEP-0352 `inactive` is a hint for the server's traffic to bob's client (his screen is
        # off); Concierge never sees it, and bob is still available: nothing is held.
        self.start(server_modules=self.CSI_MODULES)
        self.wait_bob_presence()
        self.bob.set_client_state(active=False)
        mid = self.alice.send_message(proxy(BOB), "are you around?", id=unique("inactive"))
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="delivered to an inactive client")
        self.assertEqual(body(got), "are you around?")
        self.assert_no_notice(self.alice, BOB, "nobody is told bob is offline or busy")
        self.bob.set_client_state(active=True)
        rid = self.bob.send_message(proxy(ALICE), "yes")
        self.alice.wait_for(message(frm=proxy(BOB), id=rid), WAIT, what="bob's answer once active")

    def test_a_target_whose_network_drops_gets_the_message_when_his_stream_resumes(self):
        # bob's phone loses its network (no stream close) and resumes its stream (XEP-0198): the
        # server keeps his session, so he stays available for Concierge; alice's message waits
        # in the server's queue for his stream and arrives on resumption. Nobody says "offline".
        self.start(server_modules=self.SM_MODULES, bob_sm=True)
        self.wait_bob_presence()
        self.bob.cut_network()
        mid = self.alice.send_message(proxy(BOB), "did you get this?", id=unique("cut"))
        self.wait_log_line('<message', f'id="{mid}"')  # Concierge took it in (and forwarded it)
        self.bob.resume(timeout=WAIT)
        got = self.bob.wait_for(message(frm=proxy(ALICE), id=mid), WAIT, what="delivered after resumption")
        self.assertEqual(body(got), "did you get this?")
        self.assert_no_notice(self.alice, BOB, "nobody is told bob is offline while his session waits")
