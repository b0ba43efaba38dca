#!/usr/bin/env bash
# Fuzzing: every target of every cargo-fuzz crate — fuzz/ (the core's parsers) and
# connectors/*/fuzz/ (each provider's, beside it) — for a bounded time (FUZZ_SECONDS,
# default 60), FUZZ_JOBS at a time (default: the number of cores). Fails on any crash or
# failed property; the failing input is left in <crate>/artifacts/<target>/. The crates
# share one target dir (fuzz/target), so common dependencies are built once.
#
# FUZZ_SEED (default 1) fixes libFuzzer's random seed, so a CI run on a commit explores
# the same inputs every time: a failure is the commit's, reproducible, never the luck
# of the draw. Exploration with fresh seeds is a separate, longer run
# (FUZZ_SEED=0 FUZZ_SECONDS=600 ci/fuzz.sh, 0 = random); what it finds goes into
# fuzz/corpus/<target>/ with the fix, and every later run replays it.
#
# Works on stable Rust: `--sanitizer none` needs no nightly flag (the code forbids
# `unsafe`, so AddressSanitizer would add little); debug assertions stay on. Seeds come
# from <crate>/corpus/<target>/ (committed, never written to); what the fuzzer finds goes
# to fuzz/target/corpus/<target>/ and is reused by later local runs.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_FUZZ_VERSION=0.13.2
SECONDS_EACH=${FUZZ_SECONDS:-60}
SEED=${FUZZ_SEED:-1}
JOBS=${FUZZ_JOBS:-$(nproc)}
started=$SECONDS

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
root=$PWD
export CARGO_TARGET_DIR=$root/fuzz/target
crates=()
for manifest in fuzz/Cargo.toml connectors/*/fuzz/Cargo.toml; do
  grep -q '^cargo-fuzz = true' "$manifest" 2>/dev/null && crates+=("$(dirname "$manifest")")
done
declare -A crate_of
targets=()
for c in "${crates[@]}"; do
  (cd "$c" && cargo fuzz build --sanitizer none)
  while read -r t; do
    [ -n "${crate_of[$t]:-}" ] && { echo "fuzz target $t is defined in ${crate_of[$t]} and $c" >&2; exit 1; }
    crate_of[$t]=$c
    targets+=("$t")
  done < <(cd "$c" && cargo fuzz list)
done
echo "built ${#crates[@]} fuzz crates (${crates[*]}) in $((SECONDS - started))s; fuzzing ${#targets[@]} targets, ${SECONDS_EACH}s each, $JOBS at a time, seed $SEED"

logs=$CARGO_TARGET_DIR/fuzz-logs
mkdir -p "$logs"
fuzz_one() {
  local t=$1
  mkdir -p "$CARGO_TARGET_DIR/corpus/$t"
  # The committed seeds, when the crate has any for this target (libFuzzer exits on a
  # corpus directory that does not exist).
  local seeds=()
  [ -d "${crate_of[$t]}/corpus/$t" ] && seeds=("corpus/$t")
  (cd "${crate_of[$t]}" && cargo fuzz run --sanitizer none "$t" "$CARGO_TARGET_DIR/corpus/$t" "${seeds[@]}" -- \
    -seed="$SEED" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1) \
    >"$logs/$t.log" 2>&1
}

declare -A pid_of
failed=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  fuzz_one "$t" &
  pid_of[$t]=$!
done
for t in "${targets[@]}"; do
  if wait "${pid_of[$t]}"; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' || echo '?')
    echo "ok    $t: $runs executions"
  else
    failed+=("$t")
    echo "FAIL  $t:"
    grep -v -e '^#' -e '^INFO' -e 'NEW_FUNC' -e 'Uses:' "$logs/$t.log" | tail -n 40
  fi
done
echo "fuzzing: $((SECONDS - started))s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed: ${failed[*]} (inputs in <crate>/artifacts/; replay with: cd <crate> && cargo fuzz run --sanitizer none TARGET INPUT)" >&2
  exit 1
fi
