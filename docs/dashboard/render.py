#!/usr/bin/env python3
"""Render a Grafana dashboard to a PNG from real data, without Grafana.

Runs a real Prometheus (Debian's /usr/bin/prometheus) scraping the demo's connectors every
second, plays a workload of demo flows, then evaluates every panel's `targets[].expr` with
`/api/v1/query_range` over the workload's window and draws the panels in the dashboard's
grid (`gridPos`) with matplotlib. Prints, for every expression, how many series it
returned, so an expression that never matches real data shows; exits 1 if Prometheus
reports a query error (or the workload fails), 0 otherwise.

The workload (about 2 minutes on 2 shared cores): for each repository (zenodo,
inveniordm, dataverse) one `target/demo/rds-demo --repository R --large-mib 1024
--no-progress --keep-running --prometheus-targets FILE`, held (SIGSTOP) from the moment it
writes FILE until Prometheus has scraped both connectors (Prometheus applies new file_sd
targets up to 5 s late, which would lose the flow's start); once its flow report is
printed, one download of the large file from owncloud-connector is broken off after
4 MiB (outcome `client_broke_off`), Prometheus scrapes 6 s more, then the demo gets
SIGINT and stops. Every child (Prometheus, the demos and their connectors) runs in its
own process group and is ended on exit, on error and on SIGINT/SIGTERM too.

Setup (once): matplotlib and PyYAML in a venv under target/ (no system packages touched;
tried with matplotlib 3.11.2, PyYAML 6.0.4, Python 3.11, Prometheus 2.42):

    python3 -m venv target/dashboard-venv
    target/dashboard-venv/bin/pip install matplotlib pyyaml

Render (from the repository root; builds the demo binaries in the `demo` profile first,
as `cargo xtask demo` does, unless --no-build):

    target/dashboard-venv/bin/python docs/dashboard/render.py DASHBOARD --out docs/dashboard.png

DASHBOARD is a dashboard JSON file, or YAML holding it in a ConfigMap's data (e.g. the
output of `helm template`; multi-document YAML is fine). The charts' dashboard, as CI
renders it (helm-python-sdk==0.2.2 in the same venv), made docs/dashboard.png:

    target/dashboard-venv/bin/pip install helm-python-sdk==0.2.2
    target/dashboard-venv/bin/python ci/chart_checks.py charts --export target/dash --export-only
    target/dashboard-venv/bin/python docs/dashboard/render.py \
        target/dash/owncloud-connector/dashboard.json --tsdb target/dash/tsdb

docs/dashboard/sample.json is a small dashboard of other panel kinds (stat, a row, an
expression that matches nothing) to try the renderer on.

`--tsdb DIR` keeps the scraped data and the window in DIR; a later `--tsdb DIR
--no-workload` re-renders (another dashboard) from it in about 5 s.

Template variables: `$datasource` is dropped; `$namespace` is `demo`; any other query
variable takes every value Prometheus has for the label of that name (a regex `(a|b)` when
the variable is multi-valued or includes All, Grafana's `allValue` if set), else the first;
`$__rate_interval` is --rate-interval (default 5s, Grafana's 4 × scrape interval is 4s),
`$__interval` the step, `$__range` the window.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = "/usr/bin/prometheus"
CONNECTORS = [
    "owncloud-connector",
    "zenodo-connector",
    "inveniordm-connector",
    "dataverse-connector",
]
REPOSITORIES = ["zenodo", "inveniordm", "dataverse"]
# The demo's sample (crates/rds-demo/src/{stack,sample}.rs).
DEMO_USER = "researcher"
LARGE_FILE = "/Research data/images/microscopy stack.raw"
FLOW_DONE = "The stack keeps running"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Children:
    """Every child runs in its own process group; all are ended on exit, even on error."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, args, **kw) -> subprocess.Popen:
        p = subprocess.Popen(args, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    @staticmethod
    def stop(p: subprocess.Popen, sig=signal.SIGTERM, wait: float = 20.0) -> int | None:
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            except ProcessLookupError:
                pass
        return p.returncode

    def stop_all(self) -> None:
        for p in reversed(self.procs):
            self.stop(p)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, timeout: float = 30.0):
    """GET url; returns (status, parsed body). Prometheus answers errors as JSON too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.load(e)
        except ValueError:
            return e.code, {"status": "error", "error": str(e)}


# ---------------------------------------------------------------- Prometheus and workload


def start_prometheus(children: Children, tsdb: Path, targets: Path, workdir: Path):
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "connectors",
                        "file_sd_configs": [
                            {"files": [str(targets)], "refresh_interval": "1s"}
                        ],
                    }
                ],
            }
        )
    )
    out = open(workdir / "prometheus.log", "w")
    proc = children.start(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited; see {workdir / 'prometheus.log'}")
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as r:
                if r.status == 200:
                    return base
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("prometheus not ready within 60 s")


def build() -> None:
    cmd = ["cargo", "build", "--profile", "demo", "-p", "rds-demo"]
    for c in CONNECTORS:
        cmd += ["-p", c]
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, cwd=ROOT, check=True)


def break_off_download(owncloud: str, keep_bytes: int = 4 << 20) -> None:
    """Starts a download of the large file and hangs up after a few MiB: client_broke_off."""
    host, port = owncloud.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        body = json.dumps({"userId": DEMO_USER, "filepath": LARGE_FILE})
        conn.request(
            "GET", "/storage/file", body=body, headers={"content-type": "application/json"}
        )
        resp = conn.getresponse()
        got = 0
        while got < keep_bytes:
            chunk = resp.read(65536)
            if not chunk:
                break
            got += len(chunk)
        log(f"  broke off a download after {got} bytes (status {resp.status})")
    finally:
        conn.sock and conn.sock.close()
        conn.close()


def hold_until_scraped(proc: subprocess.Popen, targets: Path, prom: str, log_path: Path) -> None:
    """Freezes the demo (SIGSTOP, its connectors keep serving) from the moment it has
    written the targets until Prometheus has scraped both connectors, so the flow's first
    seconds are not lost: Prometheus applies new file_sd targets up to 5 s late."""
    deadline = time.monotonic() + 120
    while targets.read_text() in ("", "[]"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the demo wrote no targets; see {log_path}")
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        urls = {f"http://{t['targets'][0]}/metrics" for t in json.loads(targets.read_text())}
        while time.monotonic() < deadline:
            _, body = http_json(f"{prom}/api/v1/targets?state=active")
            up = {t["scrapeUrl"] for t in body["data"]["activeTargets"] if t["health"] == "up"}
            if urls <= up:
                return
            time.sleep(0.2)
        raise RuntimeError("prometheus did not scrape the demo's connectors within 120 s")
    finally:
        os.kill(proc.pid, signal.SIGCONT)


def run_demo(children: Children, repo: str, args, targets: Path, workdir: Path, prom: str) -> None:
    cmd = [
        str(ROOT / "target" / "demo" / "rds-demo"),
        "--repository", repo,
        "--large-mib", str(args.large_mib),
        "--no-progress",
        "--keep-running",
        "--prometheus-targets", str(targets),
    ]
    log("$ " + " ".join(cmd))
    out_path = workdir / f"demo-{repo}.log"
    with open(out_path, "w") as out:
        proc = children.start(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=out, text=True)
        try:
            hold_until_scraped(proc, targets, prom, out_path)
            deadline = time.monotonic() + args.flow_timeout
            done = False
            for line in proc.stdout:  # the flow's report, then the "keeps running" hint
                out.write(line)
                if FLOW_DONE in line:
                    done = True
                    break
                if time.monotonic() > deadline:
                    break
            if not done:
                raise RuntimeError(f"the {repo} flow did not finish; see {out_path}")
            out.flush()
            owncloud = next(
                t["targets"][0]
                for t in json.loads(targets.read_text())
                if t["labels"]["service"] == "owncloud-connector"
            )
            break_off_download(owncloud)
            time.sleep(args.linger)  # a few more scrapes of the stack at rest
        finally:
            code = Children.stop(proc, signal.SIGINT, wait=30)
            rest = proc.stdout.read() if proc.stdout else ""
            out.write(rest)
    if code != 0:
        raise RuntimeError(f"the {repo} demo exited {code}; see {out_path}")
    log(f"  {repo}: flow verified, stopped")


def workload(children: Children, args, targets: Path, workdir: Path, prom: str) -> tuple[float, float]:
    start = time.time()
    for repo in args.repositories:
        run_demo(children, repo, args, targets, workdir, prom)
        targets.write_text("[]")
        time.sleep(args.gap)
    return start, time.time()


# ---------------------------------------------------------------- the dashboard


def load_dashboard(path: Path) -> dict:
    text = path.read_text()
    try:
        doc = json.loads(text)
    except ValueError:
        import yaml  # a (rendered) ConfigMap holding the dashboard in its data

        doc = None
        for d in yaml.safe_load_all(text):
            for v in ((d or {}).get("data") or {}).values():
                try:
                    cand = json.loads(v)
                except (TypeError, ValueError):
                    continue
                if isinstance(cand, dict) and ("panels" in cand or "dashboard" in cand):
                    doc = cand
                    break
            if doc:
                break
        if doc is None:
            raise SystemExit(f"{path}: no dashboard JSON in any ConfigMap's data")
    return doc.get("dashboard", doc)


def flat_panels(panels: list) -> list:
    """Panels in reading order, with collapsed rows' panels taken out of their rows."""
    out = []
    for p in panels:
        out.append(p)
        if p.get("type") == "row":
            out.extend(p.get("panels") or [])
    return out


def variables(dash: dict, prom: str, step: int, window: tuple[float, float], rate: str) -> dict:
    rng = int(window[1] - window[0])
    values = {
        "__rate_interval": rate,
        "__interval": f"{step}s",
        "__interval_ms": str(step * 1000),
        "__range": f"{rng}s",
        "__range_s": str(rng),
        "__range_ms": str(rng * 1000),
        "namespace": "demo",
    }
    for v in (dash.get("templating") or {}).get("list") or []:
        name, kind = v.get("name"), v.get("type")
        if not name or name in values:
            continue
        if kind == "datasource":
            values[name] = ""
        elif kind in ("constant", "textbox", "interval", "custom"):
            cur = (v.get("current") or {}).get("value")
            values[name] = cur if isinstance(cur, str) else str(v.get("query", ""))
        else:
            q = v.get("query")
            q = q.get("query", "") if isinstance(q, dict) else str(q or "")
            m = re.search(r",\s*(\w+)\s*\)\s*$", q) or re.search(r"\(\s*(\w+)\s*\)\s*$", q)
            label = m.group(1) if m else name
            start, end = (int(t) for t in window)
            _, body = http_json(
                f"{prom}/api/v1/label/{label}/values?start={start}&end={end}"
            )
            found = sorted(body.get("data") or [])
            if v.get("includeAll") and v.get("allValue"):
                values[name] = v["allValue"]
            elif v.get("multi") or v.get("includeAll"):
                values[name] = "(" + "|".join(promql_regex(x) for x in found) + ")"
            else:
                values[name] = found[0] if found else ""
    return values


def promql_regex(value: str) -> str:
    """A literal inside a PromQL regex string: metacharacters escaped as `\\.` (the string
    takes the backslash once, RE2 once); Python's re.escape also escapes `-`, which PromQL
    refuses."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", value)


def substitute(expr: str, values: dict) -> str:
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, m.group(0))

    # ${name}, ${name:format}, [[name]], $name (longest match, word boundary)
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", repl, expr)


def query_range(prom: str, expr: str, window, step: int):
    qs = urllib.parse.urlencode(
        {"query": expr, "start": window[0], "end": window[1], "step": f"{step}s"}
    )
    status, body = http_json(f"{prom}/api/v1/query_range?{qs}")
    if status != 200 or body.get("status") != "success":
        return None, body.get("error", f"HTTP {status}")
    return body["data"]["result"], None


def legend(fmt: str, metric: dict) -> str:
    if fmt and fmt != "__auto":
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)
    name = metric.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest else (name or "value")


# ---------------------------------------------------------------- drawing


def fmt_unit(unit: str | None, v: float) -> str:
    if v is None or math.isnan(v):
        return "–"

    def scaled(x, base, suffixes):
        i = 0
        while abs(x) >= base and i < len(suffixes) - 1:
            x /= base
            i += 1
        return f"{x:.3g} {suffixes[i]}".rstrip()

    unit = unit or "short"
    if unit in ("bytes", "binbytes"):
        return scaled(v, 1024, ["B", "KiB", "MiB", "GiB", "TiB"])
    if unit in ("decbytes",):
        return scaled(v, 1000, ["B", "kB", "MB", "GB", "TB"])
    if unit in ("Bps", "binBps"):
        return scaled(v, 1024, ["B/s", "KiB/s", "MiB/s", "GiB/s"])
    if unit in ("decBps",):
        return scaled(v, 1000, ["B/s", "kB/s", "MB/s", "GB/s"])
    if unit == "s":
        if v != 0 and abs(v) < 1:
            return f"{v * 1000:.3g} ms"
        return f"{v:.3g} s"
    if unit == "ms":
        return f"{v:.3g} ms"
    if unit == "percentunit":
        return f"{v * 100:.3g}%"
    if unit == "percent":
        return f"{v:.3g}%"
    suffix = {"reqps": " req/s", "ops": " ops/s", "rps": " req/s"}.get(unit, "")
    return scaled(v, 1000, ["", "k", "M", "G", "T"]) + suffix


def stat_color(panel: dict, v: float) -> str:
    steps = (((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds") or {}).get(
        "steps"
    ) or []
    color = "#2a7"
    for s in steps:
        if s.get("value") is None or (not math.isnan(v) and v >= s["value"]):
            color = {"green": "#2a7", "red": "#d33", "yellow": "#db2", "orange": "#e82"}.get(
                s.get("color"), s.get("color", color)
            )
    return color


def reduce(panel: dict, ys: list[float]) -> float:
    vals = [y for y in ys if not math.isnan(y)]
    if not vals:
        return float("nan")
    calc = (((panel.get("options") or {}).get("reduceOptions") or {}).get("calcs") or ["last"])[0]
    return {
        "max": max(vals),
        "min": min(vals),
        "mean": sum(vals) / len(vals),
        "sum": sum(vals),
        "first": vals[0],
        "firstNotNull": vals[0],
    }.get(calc, vals[-1])


def draw(dash: dict, panels: list, results: dict, window, out: Path, width_px: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    # Grafana: 24 columns; one gridPos height unit is 30 px plus an 8 px margin.
    col_px, row_px, header_px = width_px / 24, 38, 40
    bottom = max((p.get("gridPos", {}).get("y", 0) + p.get("gridPos", {}).get("h", 8))
                 for p in panels) if panels else 8
    height_px = header_px + bottom * row_px + 10
    dpi = 100
    fig = plt.figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    fig.patch.set_facecolor("#f7f8fa")
    t0 = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(window[0]))
    fig.text(0.01, 1 - 18 / height_px, dash.get("title", "dashboard"), fontsize=15,
             weight="bold", va="center")
    fig.text(0.99, 1 - 18 / height_px,
             f"rendered from real data: {t0}, {int(window[1] - window[0])} s, 1 s scrape",
             fontsize=9, ha="right", va="center", color="#555")
    pad = 5

    for p in panels:
        g = p.get("gridPos") or {}
        x, y, w, h = g.get("x", 0), g.get("y", 0), g.get("w", 12), g.get("h", 8)
        left = (x * col_px + pad) / width_px
        top_px = header_px + y * row_px
        if p.get("type") == "row":
            fig.text(left, 1 - (top_px + row_px / 2) / height_px, p.get("title", ""),
                     fontsize=12, weight="bold", va="center")
            continue
        rect = [left, 1 - (top_px + h * row_px - pad) / height_px,
                (w * col_px - 2 * pad) / width_px, (h * row_px - 2 * pad) / height_px]
        title_frac = 22 / (h * row_px)
        box = fig.add_axes(rect)
        box.set_xticks([]), box.set_yticks([])
        box.set_facecolor("white")
        for s in box.spines.values():
            s.set_color("#d0d4da")
        box.text(0.01, 1 - title_frac / 2, p.get("title", ""), transform=box.transAxes,
                 fontsize=10, weight="bold", va="center")
        unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        series = results.get(id(p), [])
        kind = p.get("type", "timeseries")
        # Room for the y tick labels (left) and the x ones (bottom), in px.
        inner = [rect[0] + 62 / width_px, rect[1] + 22 / height_px,
                 rect[2] - 70 / width_px, rect[3] - (22 + 28) / height_px]
        if kind == "text":
            content = ((p.get("options") or {}).get("content") or p.get("content") or "")
            box.text(0.02, 0.9 - title_frac, content[:400], transform=box.transAxes,
                     fontsize=8, va="top", wrap=True)
            continue
        if not series:
            box.text(0.5, 0.45, "No data", transform=box.transAxes, ha="center",
                     va="center", color="#999", fontsize=11)
            continue
        if kind in ("stat", "gauge", "singlestat", "bargauge"):
            n = len(series)
            for i, (name, xs, ys) in enumerate(series[:12]):
                v = reduce(p, ys)
                cx = (i + 0.5) / min(n, 12)
                box.text(cx, 0.45, fmt_unit(unit, v), transform=box.transAxes, ha="center",
                         va="center", fontsize=max(12, 30 - 3 * n), weight="bold",
                         color=stat_color(p, v))
                if n > 1:
                    box.text(cx, 0.12, name, transform=box.transAxes, ha="center",
                             fontsize=7, color="#555")
            continue
        ax = fig.add_axes(inner)
        ax.set_facecolor("white")
        ax.set_prop_cycle(color=plt.get_cmap("tab10" if len(series) <= 10 else "tab20").colors)
        for name, xs, ys in series[:40]:
            ax.plot([t - window[0] for t in xs], ys, linewidth=1.3, label=name)
        ax.set_xlim(0, window[1] - window[0])
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, u=unit: fmt_unit(u, v)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}s"))
        ax.tick_params(labelsize=7)
        ax.grid(True, color="#eee")
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)
        if len(series) <= 40:
            ax.legend(fontsize=6 if len(series) > 12 else 7, loc="upper left", frameon=False,
                      ncol=1 if len(series) <= 4 else 2 if len(series) <= 12 else 3)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, facecolor=fig.get_facecolor())
    plt.close(fig)


def evaluate(dash, panels, prom, window, args) -> tuple[dict, int]:
    span = window[1] - window[0]
    step = max(args.step, math.ceil(span / 2000))
    values = variables(dash, prom, step, window, args.rate_interval)
    results, errors = {}, 0
    for p in panels:
        series = []
        for t in p.get("targets") or []:
            if not t.get("expr") or t.get("hide"):
                continue
            expr = substitute(t["expr"], values)
            res, err = query_range(prom, expr, window, step)
            title = p.get("title", "?")
            if err:
                errors += 1
                print(f"ERROR    {title} [{t.get('refId', '')}]: {expr}\n         {err}")
                continue
            mark = f"{len(res):3} series" if res else "NO DATA  "
            print(f"{mark} {title} [{t.get('refId', '')}]: {expr}")
            for r in res:
                xs = [float(a) for a, _ in r["values"]]
                ys = [float(b) for _, b in r["values"]]
                series.append((legend(t.get("legendFormat", ""), r["metric"]), xs, ys))
        results[id(p)] = series
    return results, errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dashboard", type=Path, help="dashboard JSON, or YAML with a ConfigMap holding it")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    ap.add_argument("--width", type=int, default=1600, help="PNG width in px")
    ap.add_argument("--repositories", default=",".join(REPOSITORIES))
    ap.add_argument("--large-mib", type=int, default=1024, help="the large file's size")
    ap.add_argument("--linger", type=float, default=6, help="s scraped after each flow")
    ap.add_argument("--gap", type=float, default=4, help="s between two flows")
    ap.add_argument("--flow-timeout", type=float, default=900)
    ap.add_argument("--step", type=int, default=1, help="query_range step in s")
    ap.add_argument("--rate-interval", default="5s", help="value of $__rate_interval")
    ap.add_argument("--tsdb", type=Path, help="keep the scraped data (and the window) here")
    ap.add_argument("--no-workload", action="store_true", help="re-render from --tsdb")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    args.repositories = [r for r in args.repositories.split(",") if r]
    if args.no_workload and not (args.tsdb and (args.tsdb / "window.json").exists()):
        ap.error("--no-workload needs --tsdb DIR from an earlier run")

    dash = load_dashboard(args.dashboard)  # fail early on a bad dashboard
    panels = flat_panels(dash.get("panels") or [])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: children ended
    children = Children()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rds-dashboard-") as tmp:
        work = Path(tmp)
        tsdb = args.tsdb or work / "tsdb"
        tsdb.mkdir(parents=True, exist_ok=True)
        targets = work / "targets.json"
        targets.write_text("[]")
        try:
            if not args.no_workload and not args.no_build:
                build()
            prom = start_prometheus(children, tsdb, targets, work)
            log(f"prometheus on {prom}, data in {tsdb}")
            if args.no_workload:
                window = tuple(json.loads((tsdb / "window.json").read_text()))
            else:
                window = workload(children, args, targets, work, prom)
                (tsdb / "window.json").write_text(json.dumps(window))
            results, errors = evaluate(dash, panels, prom, window, args)
        except Exception as e:  # noqa: BLE001 - report, clean up, fail
            log(f"error: {e}")
            for f in sorted(work.glob("*.log")):
                log(f"--- {f.name} (tail)\n" + "".join(f.read_text().splitlines(True)[-15:]))
            return 1
        finally:
            children.stop_all()
    draw(dash, panels, results, window, args.out, args.width)
    log(f"wrote {args.out} in {time.monotonic() - began:.0f} s")
    if errors:
        log(f"{errors} quer{'y' if errors == 1 else 'ies'} failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
