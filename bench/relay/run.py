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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
from prosody import Concierge, Prosody, proxy  # noqa: E402

COMPONENT = "sched.localhost"
COMPONENT_SECRET = "s3cr3t-component"
ECHO = "echo.localhost"
ECHO_SECRET = "echo-s3cr3t"
ECHO2 = "echo2.localhost"
ECHO2_SECRET = "echo2-s3cr3t"
PASSWORD = "bench-pw"
TICK = os.sysconf("SC_CLK_TCK")

# Concierge's flood limit (limits.messages_per_sender_per_minute, default 120) would refuse a
# benchmark's traffic: lift it so that the relay path, not the limiter, is measured.
CONCIERGE_EXTRA = """[limits]
messages_per_sender_per_minute = 100000000
"""


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of proc(5)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def boost_autogroup(pid: int, nice: int) -> None:
    """With sched_autogroup (Linux), a niceness counts only inside the process's session: set
    the session's own weight too, so that a busy machine (parallel builds) disturbs less."""
    try:
        Path(f"/proc/{pid}/autogroup").write_text(f"{nice}\n")
    except OSError as e:
        print(f"run.py: cannot set the autogroup niceness of {pid}: {e}", file=sys.stderr)


def percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, round(p * (len(sorted_values) - 1)))]


def read_samples(path: str) -> list[float]:
    """A loadgen --latencies file (µs per line) in ms; empty when missing."""
    try:
        return [float(x) / 1000 for x in Path(path).read_text().split()]
    except OSError:
        return []


class EchoComponent:
    """bench/relay/echo_component as a child process, connected before the constructor returns."""

    def __init__(self, binary: str, server: Prosody, domain: str, secret: str, logdir: str,
                 forward: bool = False):
        self.domain = domain
        self.log_path = os.path.join(logdir, f"{domain}.stderr")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(server.component_port),
             "--domain", domain, "--secret", secret] + (["--forward"] if forward else []),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 10
        while "connected as" not in self.log_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"echo component {domain} did not connect:\n{self.log_text()}")
            time.sleep(0.02)

    def log_text(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class Route:
    """One measured path and everything measured on it."""

    def __init__(self, name: str, proc: subprocess.Popen, receiver: str, to: str):
        self.name, self.proc, self.receiver, self.to = name, proc, receiver, to
        self.rates: list[float] = []        # back-to-back saturation runs
        self.samples_ms: list[float] = []   # back-to-back latency runs, pooled
        self.samples_by_round: dict[int, list[float]] = {}
        self.mixed_msgs = 0                 # interleaved saturation: messages and charged time
        self.mixed_seconds = 0.0
        self.mixed_rates: list[float] = []
        self.mixed_ms: list[float] = []     # interleaved latency runs, pooled
        self.mixed_by_round: dict[int, list[float]] = {}
        self.sat_msgs = self.sat_comp_s = self.sat_srv_s = 0.0  # CPU, back-to-back saturation
        self.lat_msgs = self.lat_comp_s = 0.0                   # CPU, back-to-back paced


class Bench:
    def __init__(self, args, server: Prosody, workdir: str):
        self.args, self.server, self.workdir = args, server, workdir
        self.failed = False

    def loadgen(self, route: Route, mode_args: list[str], route2: Route | None = None):
        """Runs the loadgen; returns {(mode, route number): RESULT fields}, or None on failure
        (then reported)."""
        a = self.args
        cmd = [a.loadgen, "--host", "127.0.0.1", "--port", str(self.server.c2s_port),
               "--sender", "alice@localhost", "--password", PASSWORD,
               "--receiver", route.receiver, "--to", route.to, "--warmup", str(a.warmup),
               "--window", str(a.window), "--max-seconds", str(a.max_seconds), *mode_args]
        if route2 is not None:
            cmd += ["--receiver2", route2.receiver, "--to2", route2.to, "--chunk", str(a.chunk)]
        try:
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                 timeout=a.max_seconds + 20)
        except subprocess.TimeoutExpired:
            print("       ! loadgen did not exit in time", flush=True)
            self.failed = True
            return None
        results = {}
        for line in res.stdout.splitlines():
            if line.startswith("RESULT "):
                f = dict(kv.split("=", 1) for kv in line.split()[1:])
                results[(f["mode"], int(f.get("route", "1")))] = f
        if res.returncode != 0:
            self.failed = True
            print(f"       ! loadgen exit {res.returncode}: {res.stderr.strip()[-400:]}",
                  flush=True)
        for r in (route, route2):
            if r is not None and r.proc.poll() is not None:
                self.failed = True
                print(f"       ! {r.name} exited with {r.proc.returncode}", flush=True)
        return results

    def back_to_back(self, route: Route, round_no: int) -> None:
        a = self.args
        srv = self.server.proc.pid
        c0, s0 = cpu_seconds(route.proc.pid), cpu_seconds(srv)
        res = self.loadgen(route, ["--saturate", str(a.saturate)]) or {}
        c1, s1 = cpu_seconds(route.proc.pid), cpu_seconds(srv)
        sat = res.get(("saturate", 1))
        rate = comp_us = srv_us = None
        if sat:
            relayed = int(sat["received"]) + a.warmup
            rate = float(sat["rate"])
            route.rates.append(rate)
            comp_us, srv_us = (c1 - c0) / relayed * 1e6, (s1 - s0) / relayed * 1e6
            route.sat_msgs += relayed
            route.sat_comp_s += c1 - c0
            route.sat_srv_s += s1 - s0

        samples = os.path.join(self.workdir, f"lat-{route.name}-{round_no}.txt")
        c0 = cpu_seconds(route.proc.pid)
        res = self.loadgen(route, ["--rate", str(a.rate), "--duration", str(a.duration),
                                   "--latencies", samples]) or {}
        c1 = cpu_seconds(route.proc.pid)
        lat = res.get(("latency", 1))
        paced_us = None
        if lat:
            samples_ms = read_samples(samples)
            route.samples_ms += samples_ms
            route.samples_by_round[round_no] = sorted(samples_ms)
            paced = int(lat["received"]) + a.warmup
            paced_us = (c1 - c0) / paced * 1e6
            route.lat_msgs += paced
            route.lat_comp_s += c1 - c0
        print_row(round_no, route.name, rate, lat, comp_us, srv_us, paced_us)

    def interleaved(self, first: Route, second: Route, round_no: int) -> None:
        a = self.args
        samples = os.path.join(self.workdir, f"mixed-{round_no}.txt")
        res = self.loadgen(first, ["--saturate", str(a.saturate), "--rate", str(a.rate),
                                   "--duration", str(a.duration), "--latencies", samples],
                           route2=second) or {}
        for n, (route, path) in enumerate(((first, samples), (second, samples + ".2")), start=1):
            sat, lat = res.get(("saturate", n)), res.get(("latency", n))
            rate = None
            if sat:
                rate = float(sat["rate"])
                route.mixed_rates.append(rate)
                route.mixed_msgs += int(sat["received"])
                route.mixed_seconds += float(sat["seconds"])
            if lat:
                samples_ms = read_samples(path)
                route.mixed_ms += samples_ms
                route.mixed_by_round[round_no] = sorted(samples_ms)
            print_row(round_no, route.name + "*", rate, lat, None, None, None)


def fmt(value, spec: str) -> str:
    if value is not None:
        return format(value, spec)
    width = re.match(r">?(\d*)", spec).group(1)
    return format("-", f">{width}") if width else "-"


def print_row(round_no, name, rate, lat, comp_us, srv_us, paced_us) -> None:
    p = (lambda k: float(lat[k])) if lat else (lambda k: None)
    print(f"{round_no:>5}  {name:<11} {fmt(rate, '>9.0f')}  {fmt(p('p50_ms'), '>7.3f')} "
          f"{fmt(p('p99_ms'), '>7.3f')} {fmt(p('max_ms'), '>7.2f')}   {fmt(comp_us, '>7.1f')} "
          f"{fmt(srv_us, '>8.1f')}  {fmt(paced_us, '>8.1f')}", flush=True)


def summarize(route: Route) -> dict:
    back, mixed = sorted(route.samples_ms), sorted(route.mixed_ms)
    return {
        "rate": statistics.median(route.rates) if route.rates else None,
        "mixed_rate": route.mixed_msgs / route.mixed_seconds if route.mixed_seconds else None,
        "p50": percentile(back, 0.5), "p99": percentile(back, 0.99),
        "max": back[-1] if back else None,
        "mixed_p50": percentile(mixed, 0.5), "mixed_p99": percentile(mixed, 0.99),
        "mixed_max": mixed[-1] if mixed else None,
        "comp_us": route.sat_comp_s / route.sat_msgs * 1e6 if route.sat_msgs else None,
        "srv_us": route.sat_srv_s / route.sat_msgs * 1e6 if route.sat_msgs else None,
        "paced_us": route.lat_comp_s / route.lat_msgs * 1e6 if route.lat_msgs else None,
    }


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


def report(args, baseline: Route, candidate: Route, failed: bool, started: float) -> bool:
    """Prints the summary; returns whether a target was missed."""
    b, c = summarize(baseline), summarize(candidate)

    def num(v, spec=".3f"):
        return "nan" if v is None else format(v, spec)

    def ratio(key):
        return c[key] / b[key] if b[key] and c[key] else None

    def diff(key):
        return None if b[key] is None or c[key] is None else c[key] - b[key]

    print(f"loadavg at the end: {loadavg()}\n")
    print("               sat msg/s                latency ms p50 / p99 / max (pooled)"
          "                   CPU us/msg")
    print("route        interleaved  back-to-back  interleaved              back-to-back"
          "             comp sat; comp paced; Prosody sat")
    for route, s in ((baseline, b), (candidate, c)):
        print(f"{route.name:<11} {fmt(s['mixed_rate'], '>9.0f')}     {fmt(s['rate'], '>9.0f')}  "
              f"{fmt(s['mixed_p50'], '.3f')} / {fmt(s['mixed_p99'], '.3f')} / "
              f"{fmt(s['mixed_max'], '.1f')}   {fmt(s['p50'], '.3f')} / {fmt(s['p99'], '.3f')} / "
              f"{fmt(s['max'], '.1f')}   {fmt(s['comp_us'], '.1f')}; {fmt(s['paced_us'], '.1f')}; "
              f"{fmt(s['srv_us'], '.1f')}")
    mixed_ratio, back_ratio = ratio("mixed_rate"), ratio("rate")
    paired = [y / x for x, y in zip(baseline.mixed_rates, candidate.mixed_rates) if x > 0]
    print(f"throughput {candidate.name}/{baseline.name}: interleaved {num(mixed_ratio)} (rounds: "
          f"{', '.join(f'{r:.2f}' for r in paired)}); back-to-back medians {num(back_ratio)}; "
          f"target >= 0.9")
    added_p50, added_p99 = diff("mixed_p50"), diff("mixed_p99")
    print(f"added latency at {args.rate} msg/s, interleaved: p50 {num(added_p50, '+.3f')} ms, "
          f"p99 {num(added_p99, '+.3f')} ms (target: p99 < +1 ms); back-to-back: p50 "
          f"{num(diff('p50'), '+.3f')} ms, p99 {num(diff('p99'), '+.3f')} ms")
    if b["mixed_p99"] is not None and b["mixed_p99"] > 5:
        print(f"note: the {baseline.name} route's own p99 is {b['mixed_p99']:.1f} ms (about 1.5 ms "
              "on an idle machine): scheduling stalls of a busy machine dominate the tail")
        # The runs that escaped the stalls say more about the component's own share.
        for kind, b_runs, c_runs in (("interleaved", baseline.mixed_by_round,
                                      candidate.mixed_by_round),
                                     ("back-to-back", baseline.samples_by_round,
                                      candidate.samples_by_round)):
            quiet = sorted(r for r, v in b_runs.items() if r in c_runs and
                           percentile(v, 0.99) <= 5 and percentile(c_runs[r], 0.99) <= 5)
            if not quiet:
                print(f"      no {kind} round without a stall on both routes")
                continue
            qb = sorted(x for r in quiet for x in b_runs[r])
            qc = sorted(x for r in quiet for x in c_runs[r])
            b99, c99 = percentile(qb, 0.99), percentile(qc, 0.99)
            print(f"      {kind} rounds with both p99 <= 5 ms ({', '.join(map(str, quiet))}): "
                  f"p50 {percentile(qb, 0.5):.3f} vs {percentile(qc, 0.5):.3f} ms, p99 "
                  f"{b99:.3f} vs {c99:.3f} ms (added {c99 - b99:+.3f} ms)")
    missed = mixed_ratio is None or mixed_ratio < 0.9 or added_p99 is None or added_p99 >= 1.0
    print(f"SUMMARY baseline={baseline.name} candidate={candidate.name} "
          f"echo_rate={num(b['mixed_rate'], '.0f')} candidate_rate={num(c['mixed_rate'], '.0f')} "
          f"ratio={num(mixed_ratio)} ratio_back_to_back={num(back_ratio)} "
          f"echo_p50_ms={num(b['mixed_p50'])} echo_p99_ms={num(b['mixed_p99'])} "
          f"candidate_p50_ms={num(c['mixed_p50'])} candidate_p99_ms={num(c['mixed_p99'])} "
          f"added_p99_ms={num(added_p99)} echo_cpu_us={num(b['comp_us'], '.1f')} "
          f"candidate_cpu_us={num(c['comp_us'], '.1f')} complete={0 if failed else 1} "
          f"targets_met={0 if missed else 1} seconds={time.monotonic() - started:.0f}")
    return missed


def main() -> int:
    args = parse_args()
    needed = [args.echo, args.loadgen] + ([args.concierge] if args.candidate == "concierge" else [])
    for binary in needed:
        if not os.access(binary, os.X_OK):
            print(f"run.py: missing binary {binary} (build the targets echo_component, loadgen "
                  f"and concierge)", file=sys.stderr)
            return 2
    if args.nice:
        if os.getsid(0) != os.getpid():
            # A session of our own, so the autogroup we weigh up holds only this run's processes.
            os.execvp("setsid", ["setsid", "-w", sys.executable, *sys.argv])
        os.nice(args.nice)  # inherited by Prosody, the components and the loadgen
        boost_autogroup(os.getpid(), args.nice)
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

        print(f"relay benchmark {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}, "
              f"{os.cpu_count()} CPUs, loadavg {loadavg()}, nice {os.nice(0)}, pinned {args.pin}; "
              f"saturate {args.saturate} msgs (window {args.window}, chunks {args.chunk}); "
              f"latency {args.rate} msg/s x {args.duration:g} s; 64-byte bodies")
        print("round  route        sat msg/s  p50 ms  p99 ms  max ms   comp us  srv us  paced us"
              "   (* = interleaved run; us = CPU per message)")
        for round_no in range(1, args.rounds + 1):
            if time.monotonic() - started > args.budget:
                print(f"(budget of {args.budget:.0f} s used: stopped after {round_no - 1} rounds)")
                break
            order = [baseline, candidate] if round_no % 2 else [candidate, baseline]
            for route in order:
                bench.back_to_back(route, round_no)
            bench.interleaved(order[0], order[1], round_no)
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
