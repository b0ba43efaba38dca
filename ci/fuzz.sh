#!/usr/bin/env bash
# Fuzzing: every cargo-fuzz target in fuzz/ for a bounded time (FUZZ_SECONDS, default 60),
# FUZZ_JOBS at a time (default: the number of cores). Fails on any crash or failed
# property; the failing input is left in fuzz/artifacts/<target>/.
#
# FUZZ_SEED (default 1) fixes libFuzzer's random seed, so a CI run on a commit explores
# the same inputs every time: a failure is the commit's, reproducible, never the luck
# of the draw. Exploration with fresh seeds is a separate, longer run
# (FUZZ_SEED=0 FUZZ_SECONDS=600 ci/fuzz.sh, 0 = random); what it finds goes into
# fuzz/corpus/<target>/ with the fix, and every later run replays it.
#
# Works on stable Rust: `--sanitizer none` needs no nightly flag (the code forbids
# `unsafe`, so AddressSanitizer would add little); debug assertions stay on. Seeds come
# from fuzz/corpus/<target>/ (committed, never written to); what the fuzzer finds goes
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
cd fuzz
mapfile -t targets < <(cargo fuzz list)
cargo fuzz build --sanitizer none
echo "built in $((SECONDS - started))s; fuzzing ${#targets[@]} targets, ${SECONDS_EACH}s each, $JOBS at a time, seed $SEED"

logs=target/fuzz-logs
mkdir -p "$logs"
fuzz_one() {
  local t=$1
  mkdir -p "target/corpus/$t"
  cargo fuzz run --sanitizer none "$t" "target/corpus/$t" "corpus/$t" -- \
    -seed="$SEED" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
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
  echo "failed: ${failed[*]} (inputs in fuzz/artifacts/; replay with: cd fuzz && cargo fuzz run --sanitizer none TARGET INPUT)" >&2
  exit 1
fi
