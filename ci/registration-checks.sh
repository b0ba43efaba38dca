#!/usr/bin/env bash
# The registration bodies the connectors really send, checked against RDS's own library
# (research-data-services-common: ci/check_rds_library.py) and our JSON Schema
# (specs/registration.schema.json, by check-jsonschema).
#
#   ci/registration-checks.sh [DIR]
#
# Without DIR: `cargo xtask registration-payloads` writes, for every connector under
# connectors/ and each of its sample environments (connectors/<name>/ci/registration*.env),
# the exact POST /service body it builds, and those are checked. With DIR: the *.json
# payloads in DIR are checked (e.g. what the Token Storage emulator received).
# Run by .ci/run and by the scaffold phase of ci/deploy-checks.sh. Exits non-zero on any
# failure; installs its Python packages into a venv under the cargo target dir.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
venv="$target_dir/ci-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check research-data-services-common requests check-jsonschema

if [ $# -gt 0 ]; then
  payloads="$1"
else
  payloads="$(mktemp -d)"
  trap 'rm -rf "$payloads"' EXIT
  cargo xtask registration-payloads --out "$payloads"
fi
shopt -s nullglob
files=("$payloads"/*.json)
[ ${#files[@]} -gt 0 ] || { echo "registration-checks: no payload in $payloads" >&2; exit 1; }
"$venv/bin/python" ci/check_rds_library.py "${files[@]}"
"$venv/bin/check-jsonschema" --schemafile specs/registration.schema.json "${files[@]}"
echo "registration-checks: ${#files[@]} payloads pass RDS's library and the schema"
