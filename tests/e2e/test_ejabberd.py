# SPDX-License-Identifier: MIT
"""The relay scenarios of test_relay.py and the conversation rules of test_conversation_rules.py on a real ejabberd 23.01 (a second, different server).

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
from conversation_rule_scenarios import ConversationRuleScenarios  # noqa: E402


@unittest.skipUnless(Ejabberd.installed(),
                     "ejabberd is not installed (ejabberdctl not found); .ci/setup.sh installs it")
class RelayOnEjabberd(RelayScenarios, RelayDetailScenarios, unittest.TestCase):
    SERVER = Ejabberd
    ENROLLED = (ALICE, BOB, DAVE)
    EXTRA_HOSTS = (OTHER_DOMAIN,)


@unittest.skipUnless(Ejabberd.installed(),
                     "ejabberd is not installed (ejabberdctl not found); .ci/setup.sh installs it")
class ConversationRulesOnEjabberd(ConversationRuleScenarios, unittest.TestCase):
    """The conversation rules of test_conversation_rules.py on ejabberd. ejabberd sends no
    `unavailable` acknowledgement for an unanswered subscription request, and its built-in
    mod_privilege (in the test config, as config/deploy/ejabberd.yml ships it) gives Concierge
    bob's presence by XEP-0356 right whatever he answers."""

    SERVER = Ejabberd
    CSI_MODULES = ("mod_client_state",)
    SM_MODULES = ("mod_stream_mgmt",)


if __name__ == "__main__":
    unittest.main()
