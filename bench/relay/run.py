#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Relay benchmark: Concierge beside a trivial echo component, through one private Prosody.

    python3 bench/relay/run.py --build-dir build

One Prosody on free loopback ports serves both components: Concierge as sched.localhost and the
echo component (bench/relay/echo_component) as echo.localhost. The same load generator
(bench/relay/loadgen, a libstrophe client) drives both routes:

  echo:       alice -> bob\\40localhost@echo.localhost  -> echo component -> alice
  concierge:  alice -> bob\\40localhost@sched.localhost -> Concierge      -> bob

Each round measures the routes in two ways, so that both share the machine's noise:
  - back to back (echo then Concierge, then the other way round in the next round): a saturation
    run (--saturate messages, --window outstanding) and a latency run (--rate msg/s for
    --duration s) per route, with the CPU time the component and Prosody spent per message
    (utime+stime from /proc/PID/stat, clock-tick resolution);
  - interleaved, in one loadgen run: saturation alternating chunks of messages between the routes
    with the window kept full (each arrival is charged the gap since the previous one), then a
    paced run alternating message by message (each route at --rate). A stall of the machine then
    hits both routes alike: these runs give the ratios that count.
Summary: throughput per route = all its messages / all its charged time over the rounds; latency
percentiles of all samples pooled. The last line is machine-readable (SUMMARY ...).

--candidate echo replaces Concierge by a second echo component (echo2.localhost): a harness check
whose ratios should be ~1.0 within the noise. Everything is bounded: the loadgen has a hard
wall-clock cap, every subprocess a timeout, and no round starts after --budget seconds.
Exit 0 when every measurement completed, 1 otherwise (a missed target alone is not a failure
unless --check is given), 2 when a binary is missing.
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
# The measuring and the report, in parts: rounds.py (processes, routes, rounds), report.py.
from report import report  # noqa: E402
from rounds import PASSWORD, Bench, EchoComponent, Route, boost_autogroup, renice  # noqa: E402

COMPONENT = "sched.localhost"
COMPONENT_SECRET = "s3cr3t-component"
ECHO = "echo.localhost"
ECHO_SECRET = "echo-s3cr3t"
ECHO2 = "echo2.localhost"
ECHO2_SECRET = "echo2-s3cr3t"

# Concierge's flood limit (limits.messages_per_sender_per_minute, default 120) would refuse a
# benchmark's traffic: lift it so that the relay path, not the limiter, is measured.
CONCIERGE_EXTRA = """[limits]
messages_per_sender_per_minute = 100000000
"""


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=str(REPO_ROOT / "build"))
    ap.add_argument("--concierge", help="binary (default BUILD/concierge)")
    ap.add_argument("--echo", help="binary (default BUILD/bench/relay/echo_component)")
    ap.add_argument("--loadgen", help="binary (default BUILD/bench/relay/loadgen)")
    ap.add_argument("--candidate", choices=["concierge", "echo"], default="concierge",
                    help="what to compare with the echo baseline (echo: harness check, ratio ~1)")
    ap.add_argument("--baseline", choices=["echo", "forward"], default="echo",
                    help="echo: the component sends each message back to its sender; forward: "
                         "it relays alice -> bob like Concierge (same server path, no logic)")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--saturate", type=int, default=6000, help="messages per saturation run "
                    "(per route in the interleaved run)")
    ap.add_argument("--window", type=int, default=50, help="outstanding messages at saturation")
    ap.add_argument("--chunk", type=int, default=500,
                    help="interleaved saturation: messages per route before switching")
    ap.add_argument("--rate", type=int, default=1000, help="msg/s of the latency runs")
    ap.add_argument("--duration", type=float, default=2.0, help="seconds of one latency run")
    ap.add_argument("--warmup", type=int, default=200, help="messages before each measured run")
    ap.add_argument("--max-seconds", type=float, default=30.0, help="cap of one loadgen run")
    ap.add_argument("--budget", type=float, default=150.0, help="no round starts after this (s)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--pin", action="store_true",
                    help="pin Prosody to the last CPU and everything else to the others")
    ap.add_argument("--nice", type=int, default=0,
                    help="niceness (and autogroup niceness, in a session of its own) for "
                         "everything this run starts, e.g. -10 as root on a machine busy with "
                         "builds")
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    args.concierge = args.concierge or str(build / "concierge")
    args.echo = args.echo or str(build / "bench" / "relay" / "echo_component")
    args.loadgen = args.loadgen or str(build / "bench" / "relay" / "loadgen")
    return args


def main() -> int:
    args = parse_args()
    needed = [args.echo, args.loadgen] + ([args.concierge] if args.candidate == "concierge" else [])
    for binary in needed:
        if not os.access(binary, os.X_OK):
            print(f"run.py: missing binary {binary} (build the targets echo_component, loadgen "
                  f"and concierge)", file=sys.stderr)
            return 2
    renice(args)
    cpus = sorted(os.sched_getaffinity(0))
    if args.pin and len(cpus) < 2:
        print("run.py: --pin needs two CPUs; ignored", file=sys.stderr)
        args.pin = False
    if args.pin:
        os.sched_setaffinity(0, set(cpus[:-1]))  # inherited by everything started below

    started = time.monotonic()
    server = Prosody(component_domain=COMPONENT, component_secret=COMPONENT_SECRET,
                     extra_components=[(ECHO, ECHO_SECRET), (ECHO2, ECHO2_SECRET)]).start()
    if args.nice:
        boost_autogroup(server.proc.pid, args.nice)  # Prosody runs in a session of its own
    if args.pin:
        os.sched_setaffinity(server.proc.pid, {cpus[-1]})
    workdir = tempfile.mkdtemp(prefix="concierge-bench-")
    echo = echo2 = concierge = None
    try:
        server.register("alice", PASSWORD)
        server.register("bob", PASSWORD)
        # The echo route's receiver is the sender itself; the forwarding one delivers to bob.
        forward = args.baseline == "forward"
        receiver = "bob@localhost" if forward else "alice@localhost"
        echo = EchoComponent(args.echo, server, ECHO, ECHO_SECRET, workdir, forward)
        baseline = Route(args.baseline, echo.proc, receiver, proxy("bob@localhost", ECHO))
        if args.candidate == "echo":
            echo2 = EchoComponent(args.echo, server, ECHO2, ECHO2_SECRET, workdir, forward)
            candidate = Route(args.baseline + "2", echo2.proc, receiver,
                              proxy("bob@localhost", ECHO2))
        else:
            concierge = Concierge(server, binary=args.concierge,
                                  users=("alice@localhost", "bob@localhost"),
                                  extra_config=CONCIERGE_EXTRA).start()
            candidate = Route("concierge", concierge.proc, "bob@localhost",
                              proxy("bob@localhost", COMPONENT))
        bench = Bench(args, server, workdir)

        bench.run("relay", [baseline, candidate], started)
    except (RuntimeError, OSError, TimeoutError) as e:  # a process that would not start
        print(f"run.py: {e}", file=sys.stderr)
        return 1
    finally:
        for comp in (concierge, echo2, echo):
            if comp is not None:
                comp.stop()
        if concierge is not None:
            complaints = [ln for ln in concierge.stderr_text().splitlines()
                          if re.search(r"\b(error|warn)", ln, re.I)]
            if complaints:
                print(f"(Concierge logged {len(complaints)} warn/error lines, "
                      f"e.g. {complaints[:2]})")
            concierge.cleanup()
        server.stop()
        for f in Path(workdir).glob("*"):
            f.unlink()
        os.rmdir(workdir)

    missed = report(args, baseline, candidate, bench.failed, started)
    if bench.failed:
        return 1
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
