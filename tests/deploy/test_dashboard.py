# SPDX-License-Identifier: MIT
"""The Grafana dashboard (config/deploy/grafana-dashboard.json) as an admin imports it: valid
JSON, the views the README promises (held now, oldest hold, releases per minute, refusals by
reason), and every metric and label it queries is one that Concierge's [metrics] listener
exports — read from a real listener (the built binary, no XMPP server needed: it keeps retrying
a closed port while it serves /metrics).

CONCIERGE_BINARY names the binary (default: build/concierge).

Run: /usr/bin/python3 -m unittest -v tests/deploy/test_dashboard.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "config/deploy/grafana-dashboard.json"
BINARY = os.environ.get("CONCIERGE_BINARY") or str(REPO / "build/concierge")
METRIC = re.compile(r"\bconcierge_[a-z0-9_]+\b")
# Labels Prometheus adds to every scraped series, not the exporter.
TARGET_LABELS = {"instance", "job", "le"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape_listener() -> str:
    """/metrics of a Concierge whose server never answers (port `closed`)."""
    tmp = Path(tempfile.mkdtemp(prefix="concierge-dashboard-"))
    try:
        port, closed = free_port(), free_port()
        config = tmp / "concierge.toml"
        config.write_text(f'[component]\njid = "concierge.localhost"\nsecret = "dashboard-test"\n'
                          f'host = "127.0.0.1"\nport = {closed}\n[served]\ndomains = ["localhost"]\n'
                          f'[store]\npath = "{tmp}/concierge.db"\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
        proc = subprocess.Popen([BINARY, "--config", str(config)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                        return r.read().decode()
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def exported(text: str) -> dict[str, set[str]]:
    """The series Prometheus stores from this exposition -> the label names of their samples.
    A family with no sample yet (refusals, before the first one) is there by its # TYPE line,
    with no labels known."""
    series: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names = {"counter": [name + "_total"], "gauge": [name],
                     "histogram": [name + "_bucket", name + "_sum", name + "_count"]}[kind]
            for n in names:
                series.setdefault(n, set())
        elif line and not line.startswith("#"):
            m = re.match(r"([a-z_0-9]+)(?:\{(.*)\})? ", line)
            assert m, line
            labels = {kv.split("=", 1)[0] for kv in re.findall(r'[a-z_]+="[^"]*"', m.group(2) or "")}
            series.setdefault(m.group(1), set()).update(labels)
    return series


def queries(dashboard: dict) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            exprs.append(var["definition"])
    return exprs


def unknown_metrics(exprs: list[str], series: dict[str, set[str]]) -> list[str]:
    return sorted({name for e in exprs for name in METRIC.findall(e) if name not in series})


def grouped_labels(expr: str) -> set[str]:
    return {l.strip() for group in re.findall(r"\bby \(([^)]*)\)", expr) for l in group.split(",")}


@unittest.skipUnless(os.access(BINARY, os.X_OK), f"no Concierge binary at {BINARY} (build it)")
class GrafanaDashboard(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboard = json.loads(DASHBOARD.read_text())
        cls.series = exported(scrape_listener())

    def test_it_shows_what_the_scheduler_is_doing_at_a_glance(self):
        titles = [p["title"] for p in self.dashboard["panels"]]
        for title in ("Held now", "Oldest hold", "Releases per minute", "Refusals per minute, by reason"):
            self.assertIn(title, titles)
        for panel in self.dashboard["panels"]:
            self.assertTrue(panel.get("targets"), panel["title"])
            self.assertEqual(panel["datasource"], {"type": "prometheus", "uid": "${datasource}"})

    def test_every_metric_it_queries_is_exported(self):
        exprs = queries(self.dashboard)
        self.assertGreaterEqual(len(exprs), 10)
        self.assertEqual(unknown_metrics(exprs, self.series), [])
        # The check has teeth: a name the listener does not export is reported.
        self.assertEqual(unknown_metrics(["sum(concierge_holds_now)"], self.series), ["concierge_holds_now"])

    def test_every_label_it_groups_by_is_exported(self):
        # refusals have no sample before the first refusal: their label is the one metrics.cpp writes.
        self.series["concierge_refused_total"].add("condition")
        for expr in queries(self.dashboard):
            grouped = grouped_labels(expr) - TARGET_LABELS
            for name in METRIC.findall(expr):
                self.assertLessEqual(grouped, self.series[name], expr)
        self.assertEqual(self.series["concierge_holds_waiting"], {"reason"})


if __name__ == "__main__":
    unittest.main()
