#!/usr/bin/env bash
# API conformance: schemathesis, generated from specs/, against both connector binaries
# with the emulators and a real WebDAV server behind them (crates/conformance-stack).
# Fails on a 5xx, or on a status code, content type or body the spec does not document.
# Bounded: CONFORMANCE_MAX_EXAMPLES cases per operation and phase (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${CONFORMANCE_MAX_EXAMPLES:-30}
# Not checked: negative/positive_data_acceptance (the connectors are lenient by design:
# body fields win over query ones, unknown fields are ignored, the root is no file).
CHECKS=${CONFORMANCE_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,unsupported_method}
started=$SECONDS

venv=target/conformance-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
cargo build --quiet -p owncloud-connector -p zenodo-connector -p conformance-stack

work=$(mktemp -d -t conformance.XXXXXX)
mkfifo "$work/stdin"
# Read-write open: does not block, and the stack sees the end of stdin when we exit.
exec 3<>"$work/stdin"
target/debug/conformance-stack --logs "$work/logs" <"$work/stdin" >"$work/stack.json" 2>"$work/stack.err" 3>&- &
stack_pid=$!
status=1
finish() {
  exec 3>&-
  kill -TERM "$stack_pid" 2>/dev/null || true
  wait "$stack_pid" 2>/dev/null || true
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "connector logs kept in $work/logs" >&2; fi
}
trap finish EXIT

for _ in $(seq 600); do
  [ -s "$work/stack.json" ] && break
  kill -0 "$stack_pid" 2>/dev/null || { cat "$work/stack.err" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/stack.json" ] || { echo "the stack did not start in 60s" >&2; cat "$work/stack.err" >&2; exit 1; }
field() { "$venv/bin/python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]][sys.argv[3]])' "$work/stack.json" "$@"; }
echo "stack ready after $((SECONDS - started))s: $(cat "$work/stack.json")"

# run NAME SPEC URL USER_ID [ENV=VALUE ...]: one schemathesis run; the hooks make most
# requests authenticate and name existing things (see ci/conformance/hooks.py).
run() {
  local name=$1 spec=$2 url=$3 user=$4
  shift 4
  echo
  echo "==> schemathesis: $name ($((SECONDS - started))s)"
  # One worker: CPython 3.11.7's ast module is not thread-safe and schemathesis' coverage
  # phase then fails with "AST constructor recursion depth mismatch".
  # Run in $work: schemathesis keeps a cache in ./.schemathesis.
  (cd "$work" && env "$@" CONFORMANCE_URL="$url" CONFORMANCE_USER_ID="$user" \
    SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$root/ci/conformance" \
    "$root/$venv/bin/schemathesis" run "$root/$spec" --url "$url" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --seed "${CONFORMANCE_SEED:-1}" \
    --request-timeout 20 --workers 1 --no-color --generation-database none \
    --report junit --report-dir "$work/reports-$name")
}
folder=$(field owncloud folder)
failed=0
run owncloud specs/file-storage.openapi.yaml "$(field owncloud url)" "$(field owncloud userId)" \
  CONFORMANCE_PATHS="/$folder|/$folder/README.md|/$folder/measurements 2026/run 01.csv||/" || failed=1
run zenodo specs/metadata.openapi.yaml "$(field zenodo url)" "$(field zenodo userId)" \
  CONFORMANCE_PROJECT=1 || failed=1
echo "conformance: $((SECONDS - started))s"
status=$failed
exit "$failed"
