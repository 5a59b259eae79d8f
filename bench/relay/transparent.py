#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Transparent-path benchmark (issue 10): people write to each other's real addresses and
Prosody's mod_concierge hands every chat to an enrolled user to Concierge, which answers
`deliver` for a free target. Measured against direct delivery through the same Prosody in the
same run, beside the proxy path:

    python3 bench/relay/transparent.py --build-dir build

One private Prosody on free loopback ports with mod_concierge loaded as
config/deploy/prosody-transparent.cfg.lua says, and Concierge with [served] mode = "both"
(bob enrolled, alice not: her messages to dave are none of Concierge's business). The same
load generator as run.py (bench/relay/loadgen) drives three routes:

  direct:       alice -> dave@localhost (not enrolled: the extension does not touch it) -> dave
  transparent:  alice -> bob@localhost -> divert iq -> Concierge: deliver -> the extension
                delivers its own copy -> bob
  proxy:        alice -> bob\\40localhost@sched.localhost -> Concierge -> bob

Each round measures every route back to back (saturation and --rate msg/s, CPU per message),
then direct and transparent interleaved in one loadgen run (rounds.py): the interleaved ratio is
the one that counts. The proxy path is measured back to back only, for scale. Target:
transparent >= 0.5 x direct throughput. A divert the extension had to deliver without a verdict
(its timeout) makes the run fail.
Exit codes as run.py's.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
from prosody import Concierge, Prosody, proxy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import report  # noqa: E402
from rounds import PASSWORD, Bench, Route, boost_autogroup, renice  # noqa: E402
from run import CONCIERGE_EXTRA  # noqa: E402

COMPONENT = "sched.localhost"
COMPONENT_SECRET = "s3cr3t-component"
TARGET = 0.5  # transparent throughput / direct throughput (issue 10)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=str(REPO_ROOT / "build"))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--saturate", type=int, default=6000)
    ap.add_argument("--window", type=int, default=50)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--max-seconds", type=float, default=30.0)
    ap.add_argument("--budget", type=float, default=150.0, help="no round starts after this (s)")
    ap.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    ap.add_argument("--nice", type=int, default=0, help="as run.py's --nice")
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    args.concierge = str(build / "concierge")
    args.loadgen = str(build / "bench" / "relay" / "loadgen")
    return args


def main() -> int:
    args = parse_args()
    for binary in (args.concierge, args.loadgen):
        if not os.access(binary, os.X_OK):
            print(f"transparent.py: missing binary {binary} (build concierge and loadgen)",
                  file=sys.stderr)
            return 2
    renice(args)

    started = time.monotonic()
    server = Prosody(component_domain=COMPONENT, component_secret=COMPONENT_SECRET,
                     transparent=True).start()
    if args.nice:
        boost_autogroup(server.proc.pid, args.nice)
    workdir = tempfile.mkdtemp(prefix="concierge-bench-")
    concierge = None
    try:
        if not _logged(server, "mod_concierge ready", 1):
            raise RuntimeError(f"mod_concierge did not load:\n{server.log_text()}")
        for user in ("alice", "bob", "dave"):
            server.register(user, PASSWORD)
        concierge = Concierge(server, binary=args.concierge, users=("bob@localhost",),
                              served_mode="both", extra_config=CONCIERGE_EXTRA).start()
        if not _logged(server, "Enrolled set generation", 1):
            raise RuntimeError(f"no enrolled set arrived:\n{server.log_text()}")
        # CPU per message is charged to Concierge on every route (direct: it should be ~0).
        direct = Route("direct", concierge.proc, "dave@localhost", "dave@localhost")
        transparent = Route("transparent", concierge.proc, "bob@localhost", "bob@localhost")
        via_proxy = Route("proxy", concierge.proc, "bob@localhost", proxy("bob@localhost", COMPONENT))
        bench = Bench(args, server, workdir)

        bench.run("transparent", [direct, transparent, via_proxy], started)
    except (RuntimeError, OSError, TimeoutError) as e:
        print(f"transparent.py: {e}", file=sys.stderr)
        return 1
    finally:
        if concierge is not None:
            concierge.stop()
            complaints = [ln for ln in concierge.stderr_text().splitlines()
                          if re.search(r"\b(error|warn)", ln, re.I)]
            if complaints:
                print(f"(Concierge logged {len(complaints)} warn/error lines, e.g. {complaints[:2]})")
            concierge.cleanup()
        undecided = server.log_text().count("did not decide")
        server.stop()
        for f in Path(workdir).glob("*"):
            f.unlink()
        os.rmdir(workdir)
    print(f"(log lines of diverts the extension delivered without a verdict: {undecided})")
    missed = report(args, direct, transparent, bench.failed, started, target=TARGET,
                    latency_target=False)
    print()
    # The proxy path against the same direct route, back to back only (for scale).
    report(args, direct, via_proxy, bench.failed, started, target=TARGET, latency_target=False)
    if bench.failed or undecided:
        return 1
    return 1 if (args.check and missed) else 0


def _logged(server, line: str, count: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while server.log_text().count(line) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.log_text().count(line) >= count


if __name__ == "__main__":
    sys.exit(main())
