# SPDX-License-Identifier: MIT
"""The relay benchmark's measuring (run.py has what it measures and why): the echo component
process, one Route per component, and Bench, which runs the load generator back to back or
interleaved and keeps each route's samples and CPU times. Owns the processes it starts; it prints
one row per run (print_row) and decides nothing about targets (report.py does)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))
from prosody import Prosody  # noqa: E402

PASSWORD = "bench-pw"
TICK = os.sysconf("SC_CLK_TCK")


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


def renice(args) -> None:
    """--nice N: this run in a session of its own (re-executed under setsid, so the autogroup
    weighed up holds only this run's processes) at niceness N, inherited by everything it starts."""
    if not args.nice:
        return
    if os.getsid(0) != os.getpid():
        os.execvp("setsid", ["setsid", "-w", sys.executable, *sys.argv])
    os.nice(args.nice)
    boost_autogroup(os.getpid(), args.nice)


class Bench:
    def __init__(self, args, server: Prosody, workdir: str):
        self.args, self.server, self.workdir = args, server, workdir
        self.failed = False

    def run(self, title: str, routes: list[Route], started: float) -> None:
        """The header, then up to args.rounds rounds within args.budget seconds of `started`:
        each route back to back (in reverse order every other round), then the first two
        interleaved (in the round's order)."""
        a = self.args
        print(f"{title} benchmark {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}, "
              f"{os.cpu_count()} CPUs, loadavg {loadavg()}, nice {os.nice(0)}, "
              f"pinned {getattr(a, 'pin', False)}; saturate {a.saturate} msgs (window {a.window}, "
              f"chunks {a.chunk}); latency {a.rate} msg/s x {a.duration:g} s; 64-byte bodies")
        print("round  route        sat msg/s  p50 ms  p99 ms  max ms   comp us  srv us  paced us"
              "   (* = interleaved run; us = CPU per message)")
        for round_no in range(1, a.rounds + 1):
            if time.monotonic() - started > a.budget:
                print(f"(budget of {a.budget:.0f} s used: stopped after {round_no - 1} rounds)")
                break
            order = routes if round_no % 2 else list(reversed(routes))
            for route in order:
                self.back_to_back(route, round_no)
            pair = routes[:2] if round_no % 2 else list(reversed(routes[:2]))
            self.interleaved(pair[0], pair[1], round_no)

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
