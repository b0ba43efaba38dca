#!/usr/bin/env bash
# API conformance: schemathesis, generated from specs/, against every connector binary of
# the workspace with its emulator behind it (crates/conformance-stack discovers them; each
# connector is run against the spec of every interface its registration `implements`).
# Fails on a 5xx, or on a status code, content type or body the spec does not document.
# Bounded: CONFORMANCE_MAX_EXAMPLES cases per operation and phase (default 30).
# CONFORMANCE_PAYLOADS=DIR keeps the registration payloads the Token Storage emulator
# received, one DIR/<connector package>.json each.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${CONFORMANCE_MAX_EXAMPLES:-30}
# Not checked: negative/positive_data_acceptance (the connectors are lenient by design:
# body fields win over query ones, unknown fields are ignored, the root is no file).
CHECKS=${CONFORMANCE_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,unsupported_method}
started=$SECONDS

target_dir=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin_dir=$target_dir/debug
venv=$target_dir/conformance-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet -p conformance-stack
# Every connector and its emulator, as the stack finds them.
packages=$("$bin_dir/conformance-stack" --packages)
# shellcheck disable=SC2046 # one -p per package name
cargo build --quiet $(printf -- '-p %s ' $packages)

work=$(mktemp -d -t conformance.XXXXXX)
mkfifo "$work/stdin"
# Read-write open: does not block, and the stack sees the end of stdin when we exit.
exec 3<>"$work/stdin"
RDS_CONNECTOR_BIN_DIR="$bin_dir" "$bin_dir/conformance-stack" --logs "$work/logs" \
  ${CONFORMANCE_PAYLOADS:+--payloads "$CONFORMANCE_PAYLOADS"} <"$work/stdin" >"$work/stack.json" 2>"$work/stack.err" 3>&- &
stack_pid=$!
status=1
finish() {
  exec 3>&-
  kill -TERM "$stack_pid" 2>/dev/null || true
  wait "$stack_pid" 2>/dev/null || true
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "connector logs kept in $work/logs" >&2; fi
}
trap finish EXIT

for _ in $(seq 1200); do
  [ -s "$work/stack.json" ] && break
  kill -0 "$stack_pid" 2>/dev/null || { cat "$work/stack.err" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/stack.json" ] || { echo "the stack did not start in 120s" >&2; cat "$work/stack.err" >&2; exit 1; }
echo "stack ready after $((SECONDS - started))s: $(cat "$work/stack.json")"

# run NAME SPEC URL USER_ID [ENV=VALUE ...]: one schemathesis run; the hooks make most
# requests authenticate and name existing things (see ci/conformance/hooks.py). An
# emulator announcing CONFORMANCE_ALLOW_501=1 lets its connector answer 501 (allow-501.toml).
run() {
  local name=$1 spec=$2 url=$3 user=$4 config=()
  shift 4
  case " $* " in
    *" CONFORMANCE_ALLOW_501=1 "*) config=(--config-file "$root/ci/conformance/allow-501.toml") ;;
  esac
  echo
  echo "==> schemathesis: $name ($((SECONDS - started))s)"
  # One worker: CPython 3.11.7's ast module is not thread-safe and schemathesis' coverage
  # phase then fails with "AST constructor recursion depth mismatch".
  # Run in $work: schemathesis keeps a cache in ./.schemathesis.
  (cd "$work" && env "$@" CONFORMANCE_URL="$url" CONFORMANCE_USER_ID="$user" \
    SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$root/ci/conformance" \
    "$venv/bin/schemathesis" "${config[@]}" run "$root/$spec" --url "$url" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --seed "${CONFORMANCE_SEED:-1}" \
    --request-timeout 20 --workers 1 --no-color --generation-database none \
    --report junit --report-dir "$work/reports-$name")
}
failed=0
# One line per connector and spec: name, spec, URL, userId, then the hook variables.
runs=$("$venv/bin/python" -c '
import json, sys
for c in json.load(open(sys.argv[1]))["connectors"]:
    if not c["specs"]:
        sys.exit(c["name"] + " implements no interface with a spec")
    for spec in c["specs"]:
        hooks = [f"{k}={v}" for k, v in sorted(c["hooks"].items())]
        print("\t".join([c["name"], spec, c["url"], c["userId"], *hooks]))
' "$work/stack.json")
while IFS=$'\t' read -r -a f; do
  label=${f[0]}-$(basename "${f[1]}" .openapi.yaml)
  run "$label" "${f[1]}" "${f[2]}" "${f[3]}" "${f[@]:4}" </dev/null || failed=1
done <<<"$runs"
echo "conformance: $((SECONDS - started))s"
status=$failed
exit "$failed"
