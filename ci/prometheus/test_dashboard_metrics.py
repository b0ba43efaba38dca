#!/usr/bin/env python3
"""Unit check of dashboard_metrics.py: the PromQL name extraction, and that it passes on the
hand-written sample /metrics (METRICS-CONTRACT's names) and fails on a dashboard or rule
naming a metric the connectors do not export. Run: python3 ci/prometheus/test_dashboard_metrics.py
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import dashboard_metrics as dm  # noqa: E402

SAMPLE = HERE / "sample-metrics.txt"


def dashboard(*exprs: str, variable: str = "label_values(connector_info, namespace)") -> dict:
    return {
        "panels": [{"id": i + 1, "title": f"p{i}", "targets": [{"expr": e}]} for i, e in enumerate(exprs)],
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}, {"name": "namespace", "type": "query", "query": {"query": variable}}]},
    }


class Extraction(unittest.TestCase):
    def test_names(self) -> None:
        cases = {
            'histogram_quantile(0.95, sum by (le, route) (rate(connector_http_request_duration_seconds_bucket{namespace=~"$namespace", route!="/x{y}"}[$__rate_interval])))': {"connector_http_request_duration_seconds_bucket"},
            'sum(rate(a_total{status=~"5.."}[5m])) by (service) / on(service) group_left(version) b_info': {"a_total", "b_info"},
            "max by (namespace, service) (connector_registered) == 0 and connector_info offset 5m": {"connector_registered", "connector_info"},
            'label_replace(rate(x_total[5m]), "class", "${1}xx", "status", "(.)..")': {"x_total"},
            "sum(rate(up[5m:1m])) > bool 0.5 unless nan_metric": {"up", "nan_metric"},
            "vector(1) * 2": set(),
        }
        for expr, names in cases.items():
            self.assertEqual(dm.metric_names(expr), names, expr)

    def test_families_and_variables(self) -> None:
        self.assertEqual(dm.family("connector_transfer_size_bytes_bucket"), "connector_transfer_size_bytes")
        self.assertEqual(dm.variable_exprs('label_values(connector_info{namespace=~"$namespace"}, service)'), ['connector_info{namespace=~"$namespace"}'])
        self.assertEqual(dm.variable_exprs("label_values(namespace)"), [])
        self.assertIn("connector_transfer_duration_seconds", dm.scraped(SAMPLE))


class Check(unittest.TestCase):
    def run_check(self, dash: dict | None = None, rules: str | None = None) -> tuple[int, str]:
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            if dash is not None:
                files.append(Path(tmp) / "dashboard.json")
                files[-1].write_text(json.dumps(dash))
            if rules is not None:
                files.append(Path(tmp) / "rules.yaml")
                files[-1].write_text(rules)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = dm.main([str(f) for f in files] + ["--metrics", str(SAMPLE)])
            return rc, out.getvalue()

    def test_contract_names_pass(self) -> None:
        rc, out = self.run_check(
            dashboard(
                'sum by (direction) (rate(connector_transfer_bytes_total{service=~"$service"}[$__rate_interval]))',
                "histogram_quantile(0.5, sum by (le) (rate(connector_transfer_duration_seconds_bucket[5m])))",
                "process_resident_memory_bytes",
            ),
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: increase(connector_transfers_total{outcome=\"stalled\"}[15m]) > 0\n",
        )
        self.assertEqual(rc, 0, out)

    def test_unknown_metric_in_a_panel_fails(self) -> None:
        rc, out = self.run_check(dashboard("rate(connector_http_requests_total[5m])", "sum(rate(connector_nonexistent_total[5m]))"))
        self.assertEqual(rc, 1, out)
        self.assertIn("MISSING connector_nonexistent_total: used by", out)
        self.assertIn("panel 2", out)

    def test_unknown_histogram_family_fails(self) -> None:
        rc, out = self.run_check(dashboard("histogram_quantile(0.9, rate(connector_nope_seconds_bucket[5m]))"))
        self.assertEqual(rc, 1, out)
        self.assertIn("MISSING connector_nope_seconds:", out)

    def test_unknown_metric_in_a_variable_or_rule_fails(self) -> None:
        rc, out = self.run_check(dashboard("connector_registered", variable="label_values(connector_gone_info, namespace)"))
        self.assertEqual(rc, 1, out)
        self.assertIn("MISSING connector_gone_info", out)
        kind = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n    - name: g\n      rules:\n        - alert: B\n          expr: connector_missing_gauge == 0\n"
        rc, out = self.run_check(rules=kind)
        self.assertEqual(rc, 1, out)
        self.assertIn("MISSING connector_missing_gauge: used by", out)

    def test_a_query_without_a_metric_fails(self) -> None:
        rc, out = self.run_check(dashboard("vector(1)"))
        self.assertEqual(rc, 1, out)
        self.assertIn("NO METRIC", out)


if __name__ == "__main__":
    unittest.main()
