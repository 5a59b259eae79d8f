# SPDX-License-Identifier: MIT
"""The relay benchmark's report (run.py has what it measures and why): the per-route summary,
the ratios against the targets and the machine-readable SUMMARY line. Reads the Routes that
rounds.py filled; starts nothing."""

from __future__ import annotations

import statistics
import time

from rounds import Route, fmt, loadavg, percentile

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


def report(args, baseline: Route, candidate: Route, failed: bool, started: float,
           target: float = 0.9, latency_target: bool = True) -> bool:
    """Prints the summary; returns whether a target was missed: throughput >= `target` x the
    baseline's and, with latency_target, an added p99 under 1 ms."""
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
          f"target >= {target:g}")
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
    missed = mixed_ratio is None or mixed_ratio < target or (
        latency_target and (added_p99 is None or added_p99 >= 1.0))
    print(f"SUMMARY baseline={baseline.name} candidate={candidate.name} "
          f"echo_rate={num(b['mixed_rate'], '.0f')} candidate_rate={num(c['mixed_rate'], '.0f')} "
          f"ratio={num(mixed_ratio)} ratio_back_to_back={num(back_ratio)} "
          f"echo_p50_ms={num(b['mixed_p50'])} echo_p99_ms={num(b['mixed_p99'])} "
          f"candidate_p50_ms={num(c['mixed_p50'])} candidate_p99_ms={num(c['mixed_p99'])} "
          f"added_p99_ms={num(added_p99)} echo_cpu_us={num(b['comp_us'], '.1f')} "
          f"candidate_cpu_us={num(c['comp_us'], '.1f')} complete={0 if failed else 1} "
          f"targets_met={0 if missed else 1} seconds={time.monotonic() - started:.0f}")
    return missed
