# SPDX-License-Identifier: MIT
"""End-to-end on Prosody: DESIGN §2's conversation rules with clients that behave like people
(the scenarios are in conversation_rule_scenarios.py; test_ejabberd.py runs them on ejabberd).

Run: /usr/bin/python3 -m unittest -v tests/e2e/test_conversation_rules.py   (as root).
"""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from conversation_rule_scenarios import ConversationRuleScenarios  # noqa: E402
from prosody import Prosody  # noqa: E402  (path set up by relay_scenarios)


class ConversationRules(ConversationRuleScenarios, unittest.TestCase):
    SERVER = Prosody
    CSI_MODULES = ("csi_simple",)  # Prosody 0.12's own; needs mod_csi, which it loads
    SM_MODULES = ("smacks",)  # Prosody 0.12's own mod_smacks


if __name__ == "__main__":
    unittest.main()
