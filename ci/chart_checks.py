#!/usr/bin/env python3
"""Lint, render and schema-check the Helm charts with Helm's own library.

Helm v4's Go SDK through `helm-python-sdk` (import `helm_python`): dependency resolution,
`helm lint --strict` with each values file, offline rendering (`helm template`), and
values.schema.json validation of the merged values. The same merged values are also
validated by `check-jsonschema` (an independent JSON Schema implementation), including the
negative cases of each chart (`ci/invalid-*.yaml`) that must fail with the readable
message their header declares (`# expect-helm: TEXT`, `# expect-jsonschema: TEXT`).

The charts are discovered: every application chart under CHARTS_DIR (a new connector's
chart from `cargo xtask new-connector` included) is linted, rendered with its defaults and
each `ci/*.yaml`, and every instance it renders is checked for what RDS and the umbrella
need (Deployment, Service, ConfigMap named alike, ports, probes, security, secrets, NOTES).
Charts with an `expect_<chart>` function below get its chart-specific checks too.

With `ci/monitoring-values.yaml` (every monitoring object on) each instance's Service must
have a ServiceMonitor selecting exactly it, the PrometheusRule must hold the alerts below, and
the Grafana dashboard ConfigMap must carry the sidecar label and valid JSON. `--export DIR`
writes each chart's rendered rule file (DIR/<chart>/rules.yaml, the PrometheusRule's spec)
and dashboard (DIR/<chart>/dashboard.json) for promtool and ci/prometheus/dashboard_metrics.py;
`--export-only` renders just those.

Usage: chart_checks.py CHARTS_DIR [--export DIR [--export-only]]  (run by ci/deploy-checks.sh inside its venv)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import helm_python as helm
import yaml

LIBRARY = "rds-connector-lib"
MONITORING_VALUES = "monitoring-values.yaml"
# Stable names: docs/operations.md and operators' silences refer to them.
ALERTS = {
    "RdsConnectorNotRegistered",
    "RdsConnectorUpstreamErrorRatioHigh",
    "RdsConnectorCircuitOpen",
    "RdsConnectorTransfersStalling",
    "RdsConnectorChecksumMismatch",
    "RdsConnector5xxRising",
}
MONITORING_KINDS = ("ServiceMonitor", "PrometheusRule")
failures: list[str] = []
passed = 0


def check(cond: bool, what: str) -> None:
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print(f"    FAIL {what}")


def docs(rendered: dict[str, str]) -> list[dict]:
    out = []
    for path, text in rendered.items():
        if path.endswith("NOTES.txt"):
            continue
        for d in yaml.safe_load_all(text):
            if d:
                out.append(d)
    return out


def by_kind(objs: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def load_values(path: Path | None) -> dict | None:
    if path is None:
        return None
    return helm.values_from_yaml(path.read_text())


def app_charts(charts: Path) -> list[str]:
    """Every application chart (a connector's) under `charts`, by name."""
    names = []
    for chart_yaml in sorted(charts.glob("*/Chart.yaml")):
        meta = yaml.safe_load(chart_yaml.read_text())
        if meta.get("type", "application") == "application":
            names.append(chart_yaml.parent.name)
    return names


def check_instance(objs: list[dict], name: str, secret: str | None = None, id_env: str = "", secret_env: str = "", id_key: str = "", secret_key: str = "") -> None:
    """Everything the umbrella and the contract need of one connector instance; with
    `secret`, also that the client id and secret come from that Secret's keys."""
    svc = by_kind(objs, "Service").get(name)
    dep = by_kind(objs, "Deployment").get(name)
    cm = by_kind(objs, "ConfigMap").get(name)
    check(svc is not None and dep is not None and cm is not None, f"{name}: Service, Deployment and ConfigMap named {name}")
    if not (svc and dep and cm):
        return
    ports = svc["spec"]["ports"]
    check(len(ports) == 1 and ports[0]["port"] == 80 and ports[0]["targetPort"] == "http", f"{name}: Service port 80 -> http")
    check(svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(), f"{name}: Service selects the pods")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    check(c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}], f"{name}: container port 8080 named http")
    check(c["livenessProbe"]["httpGet"]["path"] == "/health", f"{name}: liveness /health")
    check(c["readinessProbe"]["httpGet"]["path"] == "/ready", f"{name}: readiness /ready")
    sc = c["securityContext"]
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False, f"{name}: read-only root, no privilege escalation")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: capabilities drop ALL")
    check(pod["securityContext"].get("runAsNonRoot") is True, f"{name}: runAsNonRoot")
    check({"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"] and any(v["name"] == "tmp" and "emptyDir" in v for v in pod["volumes"]), f"{name}: emptyDir at /tmp")
    check(bool(c.get("resources", {}).get("requests")), f"{name}: resources")
    env = {e["name"]: e for e in c["env"]}
    check(env.get("LISTEN_ADDR", {}).get("value") == "0.0.0.0:8080", f"{name}: LISTEN_ADDR 0.0.0.0:8080")
    secrets = by_kind(objs, "Secret")
    for var, e in env.items():
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref and ref["name"] in secrets:
            check(ref["key"] in secrets[ref["name"]].get("data", {}), f"{name}: {var} from key {ref['key']} of the rendered Secret {ref['name']}")
    if secret is not None:
        for var, key in ((id_env, id_key), (secret_env, secret_key)):
            ref = env.get(var, {}).get("valueFrom", {}).get("secretKeyRef", {})
            check(ref == {"name": secret, "key": key}, f"{name}: {var} from Secret {secret} key {key} (got {ref})")
    refs = [e["configMapRef"]["name"] for e in c["envFrom"]]
    check(refs[-1] == name and {"mservice", "proxy", "globalenvvar"} <= set(refs), f"{name}: envFrom shared ConfigMaps then its own ({refs})")
    for v in cm.get("data", {}).values():
        check(isinstance(v, str), f"{name}: ConfigMap values are strings")


def render(chart_dir: Path, values: dict | None) -> tuple[list[dict], str]:
    """The rendered objects, and the rendered NOTES.txt ("" when there is none)."""
    with helm.Chart.load(chart_dir) as chart:
        rendered = chart.render(values, name="rds", namespace="rds", is_install=True)
    notes = "".join(t for p, t in rendered.items() if p.endswith("NOTES.txt"))
    return docs(rendered), notes


def check_chart(objs: list[dict], notes: str, label: str) -> None:
    """What every connector chart renders, whatever its provider."""
    deployments = by_kind(objs, "Deployment")
    check(len(deployments) > 0, f"{label}: renders at least one Deployment")
    for name, dep in deployments.items():
        servicename = dep["metadata"]["labels"].get("research-data-services.org/servicename", "")
        check(name == f"layer1-{servicename}"[:63].rstrip("-"), f"{label}: {name} is layer1-<servicename> ({servicename})")
        check_instance(objs, name)
    check("layer1-" in notes, f"{label}: NOTES.txt renders and names the Service")


def dashboards(objs: list[dict]) -> dict[str, dict]:
    """The ConfigMaps the Grafana sidecar loads (the chart's default label)."""
    return {n: o for n, o in by_kind(objs, "ConfigMap").items() if o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"}


def check_monitoring(objs: list[dict], chart: str, label: str, enabled: bool) -> None:
    """Off by default; with everything on, a ServiceMonitor per instance Service selecting
    exactly it, the alerts, and a dashboard the sidecar loads."""
    monitors = by_kind(objs, "ServiceMonitor")
    rules = by_kind(objs, "PrometheusRule")
    boards = dashboards(objs)
    if not enabled:
        check(not monitors and not rules and not boards, f"{label}: no monitoring objects unless switched on")
        return
    services = {n: s for n, s in by_kind(objs, "Service").items() if n in by_kind(objs, "Deployment")}
    check(len(monitors) == len(services), f"{label}: a ServiceMonitor per instance ({sorted(monitors)} for {sorted(services)})")
    for name, svc in services.items():
        labels = svc["metadata"]["labels"]
        selecting = [m for m in monitors.values() if m["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        check(len(selecting) == 1, f"{label}: exactly one ServiceMonitor selects Service {name} ({[m['metadata']['name'] for m in selecting]})")
        for m in selecting:
            spec = m["spec"]
            others = [n for n, o in services.items() if n != name and spec["selector"]["matchLabels"].items() <= o["metadata"]["labels"].items()]
            check(not others, f"{label}: ServiceMonitor {m['metadata']['name']} selects only {name} (also {others})")
            check(spec.get("namespaceSelector") == {"matchNames": [svc["metadata"]["namespace"]]}, f"{label}: ServiceMonitor {name} in the Service's namespace")
            ports = {p["name"] for p in svc["spec"]["ports"]}
            for ep in spec["endpoints"]:
                check(ep["port"] in ports and ep.get("path") == "/metrics", f"{label}: ServiceMonitor {name} scrapes a port of the Service ({ep['port']} in {ports}) at /metrics")
                check({"action": "replace", "targetLabel": "rds_chart", "replacement": chart} in ep.get("relabelings", []), f"{label}: ServiceMonitor {name} labels the series rds_chart={chart}")
            check(m["metadata"]["labels"].get("release") == "kube-prometheus-stack", f"{label}: ServiceMonitor {name} carries the extra labels")
    check(len(rules) == 1, f"{label}: one PrometheusRule ({sorted(rules)})")
    for rule in rules.values():
        alerts = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
        check({a["alert"] for a in alerts} == ALERTS and len(alerts) == len(ALERTS), f"{label}: PrometheusRule holds the alerts {sorted(ALERTS)} ({[a['alert'] for a in alerts]})")
        for a in alerts:
            check(bool(a.get("labels", {}).get("severity")) and {"summary", "description"} <= set(a.get("annotations", {})), f"{label}: {a['alert']} has a severity, a summary and a description")
            check(f'rds_chart="{chart}"' in a["expr"], f"{label}: {a['alert']} selects this chart's series")
        check(rule["metadata"]["labels"].get("release") == "kube-prometheus-stack", f"{label}: PrometheusRule carries the extra labels")
    check(len(boards) == 1, f"{label}: one dashboard ConfigMap with label grafana_dashboard=1 ({sorted(by_kind(objs, 'ConfigMap'))})")
    for board in boards.values():
        data = board.get("data", {})
        check(list(data) == [f"rds-{chart}.json"], f"{label}: dashboard key rds-{chart}.json ({list(data)})")
        try:
            dash = json.loads(next(iter(data.values()), ""))
        except json.JSONDecodeError as e:
            check(False, f"{label}: dashboard is JSON ({e})")
            continue
        ids = [p.get("id") for p in dash.get("panels", [])]
        check(len(ids) > 0 and len(ids) == len(set(ids)) and None not in ids, f"{label}: dashboard panel ids unique ({ids})")
        check(dash.get("uid") == f"rds-{chart}"[:40], f"{label}: dashboard uid rds-{chart} ({dash.get('uid')})")
        check(all(t.get("expr") for p in dash["panels"] for t in p.get("targets", [])) and all(p.get("targets") for p in dash["panels"]), f"{label}: every panel has queries")
        variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
        check(variables.get("datasource", {}).get("type") == "datasource" and variables["datasource"].get("query") == "prometheus", f"{label}: datasource variable of type prometheus")
        check({"namespace", "service"} <= set(variables), f"{label}: namespace and service variables")
        check(board["metadata"].get("annotations", {}).get("grafana_folder") == "RDS", f"{label}: dashboard annotations from values")


class BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the PromQL) as `|` blocks, readable in promtool's messages."""


BlockDumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def export_monitoring(objs: list[dict], out: Path) -> None:
    """The rendered rule file and dashboard, for promtool and the dashboard metric check."""
    out.mkdir(parents=True, exist_ok=True)
    for rule in by_kind(objs, "PrometheusRule").values():
        (out / "rules.yaml").write_text(yaml.dump(rule["spec"], Dumper=BlockDumper, sort_keys=False, width=1000))
    for board in dashboards(objs).values():
        (out / "dashboard.json").write_text(next(iter(board["data"].values())))


def expectations(path: Path) -> dict[str, str]:
    """The `# expect-<checker>: TEXT` header lines of a negative values file."""
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith("# expect-") and ":" in line:
            key, text = line[len("# expect-"):].split(":", 1)
            out[key.strip()] = text.strip()
    return out


def lint(chart_dir: Path, values: dict | None, label: str) -> None:
    report = helm.lint(chart_dir, values, strict=True, namespace="rds", kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + [{"error": e} for e in report["errors"]]
    for p in problems:
        print(f"    lint: {p}")
    check(not problems, f"helm lint --strict {label}")


def jsonschema_cli(schema: Path, instance: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("check-jsonschema")), "--schemafile", str(schema), str(instance)],
        capture_output=True, text=True,
    )


def schema_checks(chart_dir: Path, values_path: Path | None, work: Path, expect_ok: bool) -> None:
    label = f"{chart_dir.name} {values_path.name if values_path else 'defaults'}"
    with helm.Chart.load(chart_dir) as chart:
        merged = chart.merge_values(load_values(values_path))
        helm_error = None
        try:
            chart.validate_schema(load_values(values_path))
        except helm.HelmError as e:
            helm_error = str(e)
    instance = work / f"{label.replace(' ', '_')}.merged.json"
    instance.write_text(json.dumps(merged, indent=2))
    cli = jsonschema_cli(chart_dir / "values.schema.json", instance)
    if expect_ok:
        check(helm_error is None, f"Helm schema validation accepts {label}: {helm_error}")
        check(cli.returncode == 0, f"check-jsonschema accepts {label}: {cli.stdout}{cli.stderr}")
    else:
        print(f"    expected failure, Helm says: {helm_error}")
        print("    expected failure, check-jsonschema says:")
        print("      " + (cli.stdout + cli.stderr).strip().replace("\n", "\n      "))
        expect = expectations(values_path)
        want_helm, want_cli = expect.get("helm"), expect.get("jsonschema")
        check(bool(want_helm and want_cli), f"{label} declares what it must fail with (# expect-helm:, # expect-jsonschema:)")
        if not (want_helm and want_cli):
            return
        check(helm_error is not None and want_helm in helm_error, f"Helm schema validation rejects {label} naming {want_helm}")
        check(cli.returncode == 1 and want_cli in cli.stdout, f"check-jsonschema rejects {label} with {want_cli!r}")
        report = helm.lint(chart_dir, load_values(values_path), strict=True)
        check(any(want_helm in (m["error"]) for m in report["messages"]), f"helm lint rejects {label}")


def main() -> int:
    args = sys.argv[1:]
    export = Path(args[args.index("--export") + 1]).resolve() if "--export" in args else None
    export_only = "--export-only" in args
    src = Path(args[0]).resolve()
    print(f"helm-python-sdk {helm.helm_c_version()}, Helm SDK {helm.helm_sdk_version()}")
    with tempfile.TemporaryDirectory(prefix="chart-checks-") as tmp:
        work = Path(tmp)
        charts = work / "charts"
        shutil.copytree(src, charts, ignore=shutil.ignore_patterns("*.tgz", "Chart.lock"))
        lint(charts / LIBRARY, None, LIBRARY)
        names = app_charts(charts)
        print(f"connector charts: {', '.join(names)}")
        check(len(names) > 0, f"connector charts found in {src}")
        for name in names:
            chart_dir = charts / name
            print(f"== {name}")
            deps = [d.get("name") for d in (yaml.safe_load((chart_dir / "Chart.yaml").read_text()).get("dependencies") or [])]
            check(LIBRARY in deps, f"{name}: built on {LIBRARY} ({deps})")
            check((chart_dir / "values.schema.json").is_file(), f"{name}: has values.schema.json")
            check(any((chart_dir / "ci").glob("*.yaml")), f"{name}: has ci/ values files")
            helm.dependency_update(chart_dir)
            monitoring = chart_dir / "ci" / MONITORING_VALUES
            check(monitoring.is_file(), f"{name}: has ci/{MONITORING_VALUES}")
            if export and monitoring.is_file():
                export_monitoring(render(chart_dir, load_values(monitoring))[0], export / name)
            if export_only:
                continue
            value_files = [None] + sorted(p for p in (chart_dir / "ci").glob("*.yaml") if not p.name.startswith("invalid-"))
            for vf in value_files:
                label = f"{name} {vf.name if vf else 'defaults'}"
                print(f"  -- {label}")
                lint(chart_dir, load_values(vf), label)
                schema_checks(chart_dir, vf, work, expect_ok=True)
                objs, notes = render(chart_dir, load_values(vf))
                check(len(objs) > 0, f"{label} renders")
                check_chart(objs, notes, label)
                if vf is None or vf.name == MONITORING_VALUES:
                    check_monitoring(objs, name, label, enabled=vf is not None)
                specific = globals().get(f"expect_{name.replace('-', '_')}")
                if specific:
                    specific(objs, vf.name if vf else "defaults")
            for vf in sorted((chart_dir / "ci").glob("invalid-*.yaml")):
                print(f"  -- {name} {vf.name} (negative)")
                schema_checks(chart_dir, vf, work, expect_ok=False)
    print()
    print(f"chart checks: {passed} passed, {len(failures)} failed")
    for f in failures:
        print(f"  FAILED: {f}")
    return 1 if failures else 0


def expect_zenodo_connector(objs: list[dict], values: str) -> None:
    from_values = values == "full-values.yaml"
    secret = "layer1-port-zenodo-oauth-client" if from_values else "zenodo-client"
    check_instance(objs, "layer1-port-zenodo", secret, "ZENODO_OAUTH_CLIENT_ID", "ZENODO_OAUTH_CLIENT_SECRET", "zenodo-client-id", "zenodo-client-secret")
    dep = by_kind(objs, "Deployment")["layer1-port-zenodo"]
    image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
    cm = by_kind(objs, "ConfigMap")["layer1-port-zenodo"]["data"]
    if values == "umbrella-values.yaml":
        check(image == "registry.example.org/sciebo-rds/rds-connectors/zenodo-connector:1.2.3", f"global.image registry/tag override ({image})")
        init = dep["spec"]["template"]["spec"].get("initContainers", [])
        check(len(init) == 1 and init[0]["env"][0]["value"] == "http://layer3-token-storage", "init container waits for the Token Storage")
        check(cm.get("ZENODO_ADDRESS") == "https://zenodo.org", "config reaches the ConfigMap")
    if values == "defaults":
        check(image == "ghcr.io/rds-connectors/zenodo-connector:0.1.0", f"default image is appVersion ({image})")
        check("CENTRAL_SERVICE_TOKEN_STORAGE" not in cm, "empty config values are left to the shared ConfigMaps")
    if from_values:
        secret_obj = by_kind(objs, "Secret").get(secret)
        check(secret_obj is not None and set(secret_obj["data"]) == {"zenodo-client-id", "zenodo-client-secret"}, "Secret made from values")
        check(image.endswith("@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), "digest pinning")
        check("layer1-port-zenodo" in by_kind(objs, "HorizontalPodAutoscaler"), "HPA")
        check("replicas" not in dep["spec"], "no replicas with HPA")
        check("layer1-port-zenodo" in by_kind(objs, "PodDisruptionBudget"), "PDB")
        check(cm.get("CENTRAL_SERVICE_TOKEN_STORAGE") == "http://layer3-token-storage", "contract env from values")


def expect_owncloud_connector(objs: list[dict], values: str) -> None:
    if values in ("umbrella-values.yaml", MONITORING_VALUES):
        domains = {"sciebo-example-org": "https://sciebo.example.org", "nextcloud-example-org-8443": "https://nextcloud.example.org:8443"}
    elif values == "original-keys-values.yaml":
        domains = {"sciebords-uni-muenster-de": "https://sciebords.uni-muenster.de"}
    else:
        domains = {"localhost": "http://localhost"}
    check(len(by_kind(objs, "Deployment")) == len(domains), f"one Deployment per domain ({values})")
    for dashed, address in domains.items():
        name = f"layer1-port-owncloud-{dashed}"
        from_values = values == "original-keys-values.yaml"
        secret = f"{name}-oauth-client" if from_values else name
        check_instance(objs, name, secret, "OWNCLOUD_OAUTH_CLIENT_ID", "OWNCLOUD_OAUTH_CLIENT_SECRET", "oauth-client-id", "oauth-client-secret")
        cm = by_kind(objs, "ConfigMap").get(name, {}).get("data", {})
        check(cm.get("SERVICENAME") == dashed, f"{name}: SERVICENAME={dashed}")
        check(cm.get("OWNCLOUD_INSTALLATION_URL") == address, f"{name}: OWNCLOUD_INSTALLATION_URL")
        if dashed == "sciebo-example-org" and values == "umbrella-values.yaml":
            check(cm.get("OWNCLOUD_INTERNAL_INSTALLATION_URL") == "http://owncloud.sciebo.svc.cluster.local", f"{name}: internal URL")
        if dashed == "nextcloud-example-org-8443" and values == "umbrella-values.yaml":
            check(cm.get("EFSS_SYSTEM") == "nextcloud" and cm.get("OWNCLOUD_DISPLAYNAME") == "Nextcloud Example", f"{name}: per-domain settings")
        if from_values:
            check(secret in by_kind(objs, "Secret"), f"{name}: Secret made from OAUTH_CLIENT_ID/SECRET")
            check(cm.get("OWNCLOUD_INTERNAL_INSTALLATION_URL") == "http://owncloud.local", f"{name}: INTERNAL_ADDRESS honoured")
    if values == "umbrella-values.yaml":
        check(len(by_kind(objs, "PodDisruptionBudget")) == 2, "a PDB per domain")


def expect_inveniordm_connector(objs: list[dict], values: str) -> None:
    """Login mode by default (no client Secret, no client env); OAuth2 mode with a client."""
    name = "layer1-port-inveniordm"
    dep = by_kind(objs, "Deployment")[name]
    env = {e["name"] for c in dep["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
    oauth = values == "oauth-values.yaml"
    if oauth:
        check_instance(objs, name, f"{name}-oauth-client", "INVENIORDM_OAUTH_CLIENT_ID", "INVENIORDM_OAUTH_CLIENT_SECRET", "inveniordm-client-id", "inveniordm-client-secret")
    else:
        check_instance(objs, name)
        check(not {"INVENIORDM_OAUTH_CLIENT_ID", "INVENIORDM_OAUTH_CLIENT_SECRET"} & env, f"login mode ({values}): no OAuth2 client env")
        check(not by_kind(objs, "Secret"), f"login mode ({values}): no Secret")


def expect_dataverse_connector(objs: list[dict], values: str) -> None:
    """A login service (no client Secret or env); the collection reaches the ConfigMap."""
    name = "layer1-port-dataverse"
    check_instance(objs, name)
    check(not by_kind(objs, "Secret"), f"login service ({values}): no Secret")
    cm = by_kind(objs, "ConfigMap")[name]["data"]
    if values == "umbrella-values.yaml":
        check(cm.get("DATAVERSE_COLLECTION") == "sciebo-rds", "DATAVERSE_COLLECTION reaches the ConfigMap")
    if values == "defaults":
        check("DATAVERSE_COLLECTION" not in cm, "an empty collection is left to the connector's default")


if __name__ == "__main__":
    sys.exit(main())
