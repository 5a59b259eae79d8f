# SPDX-License-Identifier: MIT
"""The relay scenarios of test_relay.py on a real ejabberd 23.01 (a second, different server).

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_ejabberd.py   (as root). Skipped, saying so,
only when ejabberd is not installed.
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from relay_scenarios import ALICE, BOB, DAVE, OTHER_DOMAIN, RelayDetailScenarios, RelayScenarios  # noqa: E402
from prosody import Ejabberd  # noqa: E402  (path set up by relay_scenarios)
from test_conversation_rules import ConversationRules  # noqa: E402


@unittest.skipUnless(Ejabberd.installed(),
                     "ejabberd is not installed (ejabberdctl not found); .ci/setup.sh installs it")
class RelayOnEjabberd(RelayScenarios, RelayDetailScenarios, unittest.TestCase):
    SERVER = Ejabberd
    ENROLLED = (ALICE, BOB, DAVE)
    EXTRA_HOSTS = (OTHER_DOMAIN,)


@unittest.skipUnless(Ejabberd.installed(),
                     "ejabberd is not installed (ejabberdctl not found); .ci/setup.sh installs it")
class SubscriptionsOnEjabberd(unittest.TestCase):
    """A user who never answers or denies Concierge's subscription request has unknown presence:
    a message to them is delivered, never held as offline (DESIGN §4)."""

    SERVER = Ejabberd
    start = ConversationRules.start
    tearDown = ConversationRules.tearDown
    wait_log_line = ConversationRules.wait_log_line
    assert_no_notice = ConversationRules.assert_no_notice
    test_unanswered = ConversationRules.test_a_target_who_never_answers_the_subscription_request_still_gets_messages
    # ejabberd grants XEP-0356 presence and follows a denial with `unavailable` from bob's
    # resource: it must not make him offline.
    test_denied = ConversationRules.test_a_target_who_denies_the_subscription_still_gets_messages


if __name__ == "__main__":
    unittest.main()
