#!/usr/bin/env python3
"""Every metric the dashboard and the alerts query must exist on the connectors' /metrics.

    dashboard_metrics.py DASHBOARD.json|RULES.yaml... --metrics METRICS.txt... [--as-rules OUT.yaml]

Reads the PromQL of every Grafana panel target and template variable (`label_values(m, l)`,
`query_result(q)`) and of every rule `expr` (a rule file, or a PrometheusRule object), takes
the metric names out of it (strings, label matchers, ranges, `by (...)` lists, functions and
keywords removed), reduces `_bucket`/`_sum`/`_count` to the histogram's family, and fails
naming each one that none of the scraped /metrics files (Prometheus text format: `# TYPE`
lines and sample names) has. A query naming no metric at all is a failure too, so that a
broken extraction cannot pass unseen. `--as-rules OUT.yaml` also writes every query as a
recording rule (Grafana's variables replaced by sample values), so that `promtool check rules`
parses the dashboard's PromQL too.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

SUFFIXES = ("_bucket", "_sum", "_count")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{[^}]*\}|\$\w+", " ", e)
    names = set()
    for m in re.finditer(rf"(?<![\w:.])({NAME})(\s*\()?", e):
        if m.group(2) is None and m.group(1).lower() not in KEYWORDS:
            names.add(m.group(1))
    return names


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def variable_exprs(query: str) -> list[str]:
    """The PromQL inside a Grafana Prometheus variable query."""
    if m := re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query, re.S):
        return [m.group(1)]
    if re.fullmatch(r"\s*(label_values\(\s*\w+\s*\)|label_names\(.*\)|metrics\(.*\))\s*", query, re.S):
        return []
    if m := re.fullmatch(r"\s*query_result\((.*)\)\s*", query, re.S):
        return [m.group(1)]
    return [query]


def dashboard_exprs(dash: dict, where: str) -> list[tuple[str, str]]:
    out = []

    def panels(items: list[dict]) -> None:
        for p in items:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append((f"{where}: panel {p.get('id')} {p.get('title')!r}", t["expr"]))
            panels(p.get("panels", []))

    panels(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        out += [(f"{where}: variable {v.get('name')}", e) for e in variable_exprs(q)]
    return out


def rule_exprs(doc: dict, where: str) -> list[tuple[str, str]]:
    spec = doc.get("spec", doc) if doc.get("kind") == "PrometheusRule" else doc
    return [
        (f"{where}: {r.get('alert') or r.get('record')}", str(r["expr"]))
        for g in spec.get("groups", [])
        for r in g.get("rules", [])
    ]


def exprs_of(path: Path) -> list[tuple[str, str]]:
    text = path.read_text()
    where = f"{path.parent.name}/{path.name}"
    if path.suffix == ".json":
        return dashboard_exprs(json.loads(text), where)
    import yaml  # only the rule files need it

    return [e for doc in yaml.safe_load_all(text) if doc for e in rule_exprs(doc, where)]


def scraped(path: Path) -> set[str]:
    """The metric families a /metrics text lists."""
    names = set()
    for line in path.read_text().splitlines():
        if line.startswith("# TYPE ") or line.startswith("# HELP "):
            names.add(line.split()[2])
        elif line.strip() and not line.startswith("#"):
            if m := re.match(NAME, line):
                names.add(m.group(0))
    return {family(n) for n in names} | names


GRAFANA_SAMPLES = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}


def as_rules(exprs: list[tuple[str, str]]) -> str:
    """The queries as a Prometheus rule file of recording rules (JSON is YAML)."""
    def sample(m: re.Match) -> str:
        return GRAFANA_SAMPLES.get(m.group(1) or m.group(2), ".*")

    rules = [{"record": f"dashboard:query_{i}", "expr": re.sub(r"\$\{(\w+)\}|\$(\w+)", sample, e)} for i, (_, e) in enumerate(exprs)]
    return json.dumps({"groups": [{"name": "dashboard-queries", "rules": rules}]}, indent=1)


def main(argv: list[str]) -> int:
    rules_out = None
    if "--as-rules" in argv:
        i = argv.index("--as-rules")
        rules_out = Path(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    if "--metrics" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    i = argv.index("--metrics")
    queries, metrics = [Path(a) for a in argv[:i]], [Path(a) for a in argv[i + 1 :]]
    if not queries or not metrics:
        print("need at least one dashboard or rule file and one /metrics file", file=sys.stderr)
        return 2
    known: set[str] = set()
    for m in metrics:
        known |= scraped(m)
    if not known:
        print(f"no metrics in {', '.join(map(str, metrics))}")
        return 1
    missing: dict[str, list[str]] = {}
    empty = []
    used = set()
    count = 0
    every = [e for q in queries for e in exprs_of(q)]
    if rules_out:
        rules_out.write_text(as_rules(every))
    for where, expr in every:
        count += 1
        names = {family(n) for n in metric_names(expr)}
        if not names:
            empty.append(f"{where}: {expr}")
        used |= names
        for n in sorted(names - known):
            missing.setdefault(n, []).append(where)
    for n, wheres in sorted(missing.items()):
        print(f"MISSING {n}: used by {'; '.join(wheres)}")
    for e in empty:
        print(f"NO METRIC in {e}")
    print(f"dashboard metrics: {count} queries, {len(used)} metric families, {len(missing)} missing from {len(metrics)} /metrics file(s)")
    return 1 if missing or empty or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
