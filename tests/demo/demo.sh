#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo: installs what is missing, builds, starts a private Prosody on free loopback ports with
# our mod_concierge, creates alice, bob, carol and dave, starts Concierge ([served] mode = "both"),
# plays a short conversation between real XMPP clients through proxy addresses and then between
# plain addresses (transparent mode), prints what each user saw, and stops everything it started
# (also on error/Ctrl-C). Exits non-zero when an expected step does not happen (ctest e2e_demo).
# Usage: bash tests/demo/demo.sh [-v]     (-v prints Concierge's log at the end)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)   # Prosody runs as user prosody: starting it needs root

echo "demo: checking packages (.ci/setup.sh) …"
bash .ci/setup.sh

echo "demo: building (build/) …"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build

# slixmpp is installed for the system Python (STACK.md); another python3 may come first on PATH.
exec "${sudo_cmd[@]}" /usr/bin/python3 tests/demo/demo_conversation.py --binary "$PWD/build/concierge" "$@"
