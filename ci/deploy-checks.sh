#!/usr/bin/env bash
# Deployment checks for rds-connectors (issue 5): Helm charts, cargo xtask, container images.
#
#   ci/deploy-checks.sh [charts] [xtask] [images] [scaffold]     (default: all four)
#
# charts    Helm's own library (helm-python-sdk: Helm v4 Go SDK) lints (--strict) and renders
#           every chart with each charts/*/ci/*.yaml values file and checks the rendered
#           objects; the merged values are validated against values.schema.json by Helm and by
#           check-jsonschema, and each chart's ci/invalid-*.yaml must fail with a readable message.
#           The alert rules each chart renders (ci/monitoring-values.yaml) pass `promtool check
#           rules` and the unit tests ci/prometheus/rules_test.yaml (`promtool test rules`), and
#           the dashboards' PromQL parses; the dashboard metric check (ci/prometheus/
#           dashboard_metrics.py) passes its own tests.
# xtask     the xtask unit tests, and a --dry-run of the Docker path (exact commands).
# images    `cargo xtask build-images --oci-archive DIR` (Buildah here: static binary FROM
#           scratch), then per image: size <= 25 MB, `skopeo inspect` shows entrypoint,
#           non-root user, port 8080 and the OCI labels; its root filesystem is unpacked and its
#           entrypoint run under chroot as the image's user with only environment config:
#           GET /health must answer 200; its GET /metrics is kept, and every metric the
#           rendered dashboards and alert rules query must be on one of them.
# scaffold  the acceptance of "a new provider is one crate + what new-connector generates": in a
#           scratch copy of the work tree, `cargo xtask new-connector demo-provider --implements
#           metadata` (OAuth2) and `new-connector demo-login --implements fileStorage --auth
#           login`, then with no edit between: each builds, passes fmt and its generated test
#           (it registers with the Token Storage emulator), its real registration payload passes
#           RDS's library and the JSON Schema (ci/registration-checks.sh, as in .ci/run), its
#           chart is discovered, renders and passes the chart checks, the conformance run
#           (ci/conformance.sh, SCAFFOLD_CONFORMANCE_EXAMPLES cases per operation, default 5)
#           finds it with its generated emulator and passes, the payload the Token Storage
#           emulator received there passes the registration checks too, and build-images finds
#           it and builds an image that runs.
#
# Needs root (chroot, buildah). Installs what is missing: Debian's buildah, skopeo, curl, jq,
# rsync, prometheus (for promtool); a venv (under the cargo target dir) with helm-python-sdk, check-jsonschema, PyYAML.
# Exits non-zero on any failure; prints "N passed, M failed" last.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PHASES=("$@")
[ ${#PHASES[@]} -eq 0 ] && PHASES=(charts xtask images scaffold)

MAX_IMAGE_BYTES=$((25 * 1000 * 1000))
REGISTRY=localhost/rds-check
TAG=deploy-check
PASSED=0
FAILED=0
FAILURES=()
STARTED=$(date +%s)

ok() { PASSED=$((PASSED + 1)); echo "  ok: $*"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); echo "  FAIL: $*"; }
step() { echo; echo "=== $* ($(($(date +%s) - STARTED)) s)"; }
# check "description" command...: a passing command is one ok, a failing one a failure.
check() {
    local what="$1"; shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

WORK="$(mktemp -d /tmp/deploy-checks.XXXXXX)"
PIDS=()
IMAGES=()
MOUNTS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
    for ref in "${IMAGES[@]}"; do buildah --storage-driver vfs rmi "$ref" >/dev/null 2>&1; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- prerequisites -------------------------------------------------------------------------
# Arguments: a tool, or TOOL:PACKAGE when Debian's package has another name.
install_missing() {
    local missing=() tool
    for tool in "$@"; do command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]} (apt-get)"
    if [ "$(id -u)" -ne 0 ]; then echo "need root to apt-get install ${missing[*]}" >&2; return 1; fi
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >"$WORK/apt.log" 2>&1 \
        || { tail -20 "$WORK/apt.log" >&2; return 1; }
}

TARGET_DIR="$(cargo metadata --no-deps --format-version 1 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
[ -n "$TARGET_DIR" ] || { echo "cargo metadata failed" >&2; exit 1; }

VENV="$TARGET_DIR/deploy-checks-venv"
PY_PACKAGES=(helm-python-sdk==0.2.2 check-jsonschema==0.39.0 PyYAML==6.0.4)
venv() {
    local stamp="$VENV/.installed"
    if [ "$(cat "$stamp" 2>/dev/null)" != "${PY_PACKAGES[*]}" ]; then
        rm -rf "$VENV"
        python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}" \
            && echo "${PY_PACKAGES[*]}" >"$stamp"
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- one image: inspect, unpack, run ---------------------------------------------------------
check_image() {
    local archive="$1" name
    name="$(basename "$archive" .tar)"
    echo "--- $name ($archive)"
    local size
    size="$(stat -c %s "$archive")"
    check "$name: archive is $((size / 1000)) kB <= 25 MB" test "$size" -le "$MAX_IMAGE_BYTES"

    local inspect config
    inspect="$(skopeo inspect "oci-archive:$archive")" || { fail "$name: skopeo inspect"; return; }
    config="$(skopeo inspect --config "oci-archive:$archive")" || { fail "$name: skopeo inspect --config"; return; }
    echo "$config" | jq -c '{Entrypoint: .config.Entrypoint, User: .config.User, ExposedPorts: .config.ExposedPorts, Env: .config.Env}'
    echo "$inspect" | jq -c '.Labels'
    local entrypoint user
    entrypoint="$(echo "$config" | jq -r '.config.Entrypoint[0] // empty')"
    user="$(echo "$config" | jq -r '.config.User // empty')"
    check "$name: entrypoint $entrypoint" test -n "$entrypoint"
    check "$name: non-root numeric user '$user'" bash -c '[[ "$1" =~ ^[0-9]+(:[0-9]+)?$ && "${1%%:*}" != 0 ]]' _ "$user"
    check "$name: exposes 8080/tcp" bash -c 'echo "$1" | jq -e ".config.ExposedPorts[\"8080/tcp\"]" >/dev/null' _ "$config"
    for label in source version revision licenses title; do
        check "$name: label org.opencontainers.image.$label" \
            bash -c 'echo "$1" | jq -e --arg k "org.opencontainers.image.$2" ".Labels[\$k] | strings | length > 0" >/dev/null' _ "$inspect" "$label"
    done
    check "$name: title label is $name" bash -c 'echo "$1" | jq -e --arg n "$2" ".Labels[\"org.opencontainers.image.title\"] == \$n" >/dev/null' _ "$inspect" "$name"

    # Unpack the root filesystem from the OCI layout, layer by layer.
    local layout="$WORK/layout-$name" rootfs="$WORK/rootfs-$name"
    mkdir -p "$rootfs"
    if ! skopeo copy -q "oci-archive:$archive" "oci:$layout:img" >/dev/null; then fail "$name: skopeo copy to an oci: layout"; return; fi
    local manifest layer
    manifest="$(jq -r '.manifests[0].digest' "$layout/index.json")"
    for layer in $(jq -r '.layers[].digest' "$layout/blobs/sha256/${manifest#sha256:}"); do
        tar -xf "$layout/blobs/sha256/${layer#sha256:}" -C "$rootfs" || { fail "$name: untar layer $layer"; return; }
    done
    echo "    root filesystem: $(du -sh "$rootfs" | cut -f1): $(cd "$rootfs" && find . -type f | sort | tr '\n' ' ')"
    check "$name: entrypoint is a file in the image" test -x "$rootfs$entrypoint"
    check "$name: /tmp is writable by $user" bash -c 'owner="$(stat -c %u "$1/tmp")"; [ "$owner" = "${2%%:*}" ]' _ "$rootfs" "$user"
    # A container runtime mounts /proc: the process metrics (CPU, memory) read it.
    mkdir -p "$rootfs/proc"
    check "$name: /proc mounted in its root filesystem, as a container runtime does" mount -t proc proc "$rootfs/proc"
    MOUNTS+=("$rootfs/proc")

    # Run it as the image would: its user, its Env, plus only environment config: the
    # connector's own sample (ci/registration.env, the keys a deployment must set), so a
    # new connector needs no line here.
    local port envs=() sample=() pid code=""
    port="$(free_port)"
    mapfile -t envs < <(echo "$config" | jq -r '.config.Env[]?')
    if [ -f "connectors/$name/ci/registration.env" ]; then
        mapfile -t sample < <(grep -E '^[A-Z][A-Z0-9_]*=' "connectors/$name/ci/registration.env")
    else
        fail "$name: connectors/$name/ci/registration.env (the environment to start it with) is missing"
    fi
    env -i "${envs[@]}" "${sample[@]}" \
        LISTEN_ADDR="127.0.0.1:$port" \
        LOGLEVEL=INFO \
        chroot --userspec="$user" "$rootfs" "$entrypoint" >"$WORK/$name.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 100); do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/health" || true)"
        [ "$code" = 200 ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    check "$name: GET /health answers 200 under chroot (got ${code:-none})" test "$code" = 200
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/ready" || true)"
    check "$name: GET /ready answers 200 without a Token Storage (got ${code:-none})" test "$code" = 200
    mkdir -p "$WORK/metrics"
    code="$(curl -s -o "$WORK/metrics/$name.txt" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/metrics" || true)"
    check "$name: GET /metrics answers 200 in the Prometheus text format (got ${code:-none})" \
        bash -c '[ "$1" = 200 ] && grep -q "^# TYPE " "$2"' _ "$code" "$WORK/metrics/$name.txt"
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name: still running 10 s after SIGTERM"; kill -KILL "$pid" 2>/dev/null
    else
        ok "$name: stopped on SIGTERM"
    fi
    wait "$pid" 2>/dev/null
    echo "    log: $(head -c 600 "$WORK/$name.log" | tr '\n' ' ')"
    umount "$rootfs/proc" 2>/dev/null
    rm -rf "$layout" "$rootfs"
}

# --- phases ------------------------------------------------------------------------------------
phase_charts() {
    step "charts: lint, render, schema (Helm v4 SDK via helm-python-sdk; check-jsonschema)"
    if ! venv; then fail "python venv with ${PY_PACKAGES[*]}"; return; fi
    timeout 600 "$VENV/bin/python" ci/chart_checks.py charts --export "$WORK/monitoring" | tee "$WORK/charts.log"
    local rc=${PIPESTATUS[0]} counts
    counts="$(sed -n 's/^chart checks: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$WORK/charts.log")"
    if [ "$rc" -eq 0 ] && [ -n "$counts" ]; then
        PASSED=$((PASSED + ${counts% *}))
        echo "  ok: chart checks (${counts% *} checks)"
    else
        counts="${counts:-0 0}"
        FAILED=$((FAILED + ${counts#* }))
        fail "chart checks (exit $rc, see above)"
    fi
    monitoring_checks "$WORK/monitoring"
}

# The alert rules of each chart (rendered by chart_checks.py --export into DIR/<chart>/):
# promtool checks them and runs the unit tests, with the chart's name in the series' rds_chart.
monitoring_checks() {
    local dir="$1" chart charts=()
    step "charts: alert rules (promtool check rules, promtool test rules) and the dashboard metric check's tests"
    if ! install_missing promtool:prometheus; then fail "install promtool (Debian's prometheus)"; return; fi
    promtool --version 2>&1 | head -1
    for chart in "$dir"/*/; do charts+=("$(basename "$chart")"); done
    check "rule files rendered for every connector chart (${charts[*]})" \
        bash -c '[ "$(ls -d "$1"/*/ | wc -l)" -eq "$(ls -d charts/*/ci | wc -l)" ] && [ "$#" -gt 1 ]' _ "$dir" "${charts[@]}"
    for chart in "${charts[@]}"; do
        check "$chart: promtool check rules" promtool check rules "$dir/$chart/rules.yaml"
        sed "s/rds_chart=\"zenodo-connector\"/rds_chart=\"$chart\"/g" ci/prometheus/rules_test.yaml >"$dir/$chart/rules_test.yaml"
        check "$chart: promtool test rules ci/prometheus/rules_test.yaml" promtool test rules "$dir/$chart/rules_test.yaml"
    done
    check "dashboard_metrics.py: its unit tests (a metric the connectors lack must fail)" \
        "$VENV/bin/python" ci/prometheus/test_dashboard_metrics.py
    check "the rendered dashboards and rules name only metrics of the contract's sample /metrics" \
        "$VENV/bin/python" ci/prometheus/dashboard_metrics.py "$dir"/*/dashboard.json "$dir"/*/rules.yaml \
        --metrics ci/prometheus/sample-metrics.txt --as-rules "$dir/dashboard-queries.yaml"
    check "the dashboards' PromQL parses (promtool check rules on it as recording rules)" \
        promtool check rules "$dir/dashboard-queries.yaml"
}

phase_xtask() {
    step "xtask: unit tests and the Docker path as a dry run"
    check "cargo test -p xtask" timeout 900 cargo test -q -p xtask
    local out
    out="$(timeout 300 cargo xtask build-images --dry-run --engine docker --tag 1.0.0 --registry ghcr.io/example 2>&1)"
    echo "$out" | grep '^+ ' | sed 's/^/    /'
    check "dry run prints docker build of docker/Dockerfile per connector" \
        bash -c 'echo "$1" | grep -q "^+ DOCKER_BUILDKIT=1 docker build -f $2/docker/Dockerfile --build-arg CONNECTOR=owncloud-connector .* -t ghcr.io/example/owncloud-connector:1.0.0 $2\$"' _ "$out" "$ROOT"
    out="$(PATH="$(dirname "$(command -v cargo)")" CARGO="$(command -v cargo)" "$TARGET_DIR/debug/xtask" build-images 2>&1)"
    echo "    $out"
    check "no engine: the error names what to install" bash -c 'echo "$1" | grep -q "apt-get install buildah"' _ "$out"
}

phase_images() {
    step "images: cargo xtask build-images --oci-archive (offline: static binary FROM scratch with Buildah)"
    if ! install_missing buildah skopeo curl jq; then fail "install buildah skopeo curl jq"; return; fi
    local out="$WORK/images"
    if ! timeout 3000 cargo xtask build-images --engine buildah --oci-archive "$out" --registry "$REGISTRY" --tag "$TAG" 2>&1 | tee "$WORK/build-images.log"; then
        fail "cargo xtask build-images"; return
    fi
    ok "cargo xtask build-images"
    local pkgs
    # Connectors are the crates right under connectors/ (not their emulator or fuzz crates).
    pkgs="$(cargo metadata --no-deps --format-version 1 | jq -r --arg r "$ROOT/connectors/" '.packages[] | select(.manifest_path | startswith($r) and (ltrimstr($r) | test("^[^/]+/Cargo.toml$"))) | select(any(.targets[]; .kind | index("bin"))) | .name')"
    for pkg in $pkgs; do
        IMAGES+=("$REGISTRY/$pkg:$TAG")
        if [ -f "$out/$pkg.tar" ]; then ok "archive $pkg.tar"; check_image "$out/$pkg.tar"; else fail "no archive for $pkg"; fi
    done
    # Every metric the dashboards and alert rules query, on the /metrics the images served.
    if ! venv; then fail "python venv with ${PY_PACKAGES[*]}"; return; fi
    if "$VENV/bin/python" ci/chart_checks.py charts --export "$WORK/images-monitoring" --export-only >"$WORK/export.log" 2>&1; then
        check "the rendered dashboards and alert rules query only metrics the images serve" \
            "$VENV/bin/python" ci/prometheus/dashboard_metrics.py "$WORK/images-monitoring"/*/dashboard.json \
            "$WORK/images-monitoring"/*/rules.yaml --metrics "$WORK/metrics"/*.txt
    else
        cat "$WORK/export.log"; fail "render the dashboards and rules (chart_checks.py --export-only)"
    fi
}

# The connectors the scaffold phase generates: name, then new-connector's flags.
SCAFFOLDS=("demo-provider --implements metadata" "demo-login --implements fileStorage --auth login")

phase_scaffold() {
    step "scaffold: new connectors in a scratch copy, checked with no edit (${#SCAFFOLDS[@]} variants)"
    if ! install_missing rsync buildah skopeo curl jq; then fail "install rsync buildah skopeo curl jq"; return; fi
    if ! venv; then fail "python venv with ${PY_PACKAGES[*]}"; return; fi
    local scratch="$WORK/scratch"
    rsync -a --exclude /target --exclude /out --exclude /.git "$ROOT/" "$scratch/"
    (
        cd "$scratch" || exit 1
        export CARGO_TARGET_DIR="$TARGET_DIR"
        local spec name names=() connector_flags=()
        for spec in "${SCAFFOLDS[@]}"; do
            name="${spec%% *}"
            names+=("$name")
            connector_flags+=(--connector "$name")
            rm -rf "connectors/$name" "charts/$name"
            # shellcheck disable=SC2086 # the flags are words
            check "cargo xtask new-connector $spec" timeout 600 cargo xtask new-connector $spec
            check "$name: generated crate passes cargo fmt --check" cargo fmt --check -p "$name"
            check "$name: its generated test (registers with the Token Storage emulator)" \
                timeout 1200 cargo test -p "$name"
        done

        step "scaffold: the registration payloads every connector really sends (ci/registration-checks.sh)"
        timeout 1200 bash ci/registration-checks.sh 2>&1 | tee "$WORK/scaffold-registration.log"
        check "registration checks pass for every connector" test "${PIPESTATUS[0]}" -eq 0
        check "demo-provider's payload is an OAuth2Service RDS's library keeps" \
            grep -q '^ok   demo-provider.json (port-demo-provider): OAuth2Service' "$WORK/scaffold-registration.log"
        check "demo-login's payload is a LoginService RDS's library keeps" \
            grep -q '^ok   demo-login.json (port-demo-login): LoginService' "$WORK/scaffold-registration.log"

        step "scaffold: the conformance run finds the new connectors and their emulators"
        local received="$WORK/received-payloads"
        CONFORMANCE_MAX_EXAMPLES="${SCAFFOLD_CONFORMANCE_EXAMPLES:-5}" CONFORMANCE_PAYLOADS="$received" \
            timeout 1800 bash ci/conformance.sh >"$WORK/scaffold-conformance.log" 2>&1
        check "ci/conformance.sh passes with the new connectors" test "$?" -eq 0
        grep -E '^==> schemathesis|^conformance:|FAILED|Failed' "$WORK/scaffold-conformance.log" | head -20
        check "demo-provider is in the conformance run (metadata spec)" \
            grep -q '^==> schemathesis: demo-provider-metadata ' "$WORK/scaffold-conformance.log"
        check "demo-login is in the conformance run (file-storage spec)" \
            grep -q '^==> schemathesis: demo-login-file-storage ' "$WORK/scaffold-conformance.log"
        for name in "${names[@]}"; do
            check "$name: the Token Storage emulator received its registration" test -s "$received/$name.json"
        done
        check "what the Token Storage emulator received passes the registration checks" \
            bash ci/registration-checks.sh "$received"

        step "scaffold: the generated charts, discovered by the chart checks"
        timeout 600 "$VENV/bin/python" ci/chart_checks.py charts --export "$WORK/scaffold-monitoring" >"$WORK/scaffold-charts.log" 2>&1
        check "chart checks pass with the new charts ($(tail -n 1 "$WORK/scaffold-charts.log" | sed 's/^ *//'))" \
            grep -q '^chart checks: [0-9]* passed, 0 failed$' "$WORK/scaffold-charts.log"
        grep -E 'FAIL' "$WORK/scaffold-charts.log" | head -20
        for name in "${names[@]}"; do
            check "$name: its chart is checked" grep -q "^== $name\$" "$WORK/scaffold-charts.log"
        done
        monitoring_checks "$WORK/scaffold-monitoring"

        step "scaffold: build-images finds the new connectors"
        for name in "${names[@]}"; do IMAGES+=("$REGISTRY/$name:$TAG"); done
        if timeout 2400 cargo xtask build-images --engine buildah "${connector_flags[@]}" \
            --oci-archive "$WORK/demo-images" --registry "$REGISTRY" --tag "$TAG"; then
            ok "build-images ${connector_flags[*]}"
            for name in "${names[@]}"; do check_image "$WORK/demo-images/$name.tar"; done
        else
            fail "build-images ${connector_flags[*]}"
        fi
        echo "$PASSED $FAILED" >"$WORK/scaffold.counts"
        printf '%s\n' "${FAILURES[@]}" >"$WORK/scaffold.failures"
    )
    # The subshell counted; take its numbers.
    read -r PASSED FAILED <"$WORK/scaffold.counts"
    mapfile -t FAILURES < <(grep -v '^$' "$WORK/scaffold.failures")
    for spec in "${SCAFFOLDS[@]}"; do
        buildah --storage-driver vfs rmi "$REGISTRY/${spec%% *}:$TAG" >/dev/null 2>&1
    done
    rm -rf "$scratch"
    ok "scratch copy discarded"
}

for phase in "${PHASES[@]}"; do
    case "$phase" in
        charts | xtask | images | scaffold) "phase_$phase" ;;
        *) echo "unknown phase $phase (charts, xtask, images, scaffold)" >&2; exit 2 ;;
    esac
done

echo
echo "deploy checks took $(($(date +%s) - STARTED)) s"
for f in "${FAILURES[@]}"; do echo "  FAILED: $f"; done
echo "deploy-checks: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
