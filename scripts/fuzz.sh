#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo fuzz, libFuzzer), one at a time, and prints per target the
# executions done and the findings; exits non-zero when any target found a crash, a failed
# assertion, a timeout or an out-of-memory input (or when a target could not be built or run).
#
#   FUZZ_SECONDS=30 scripts/fuzz.sh               # each target for 30 s (the default)
#   FUZZ_RUNS=10000000 scripts/fuzz.sh            # each target for 10 million executions
#   FUZZ_TARGETS="token_request basic_header" scripts/fuzz.sh
#
# FUZZ_SECONDS and FUZZ_RUNS together: whichever is reached first ends a target's run (FUZZ_RUNS
# alone: no time limit). Inputs found by a run are kept in fuzz/target/corpus/<target> (not
# committed); the seeds in fuzz/corpus/<target> are read, never written. A finding is saved in
# fuzz/artifacts/<target>/; `cargo fuzz run -s none -a <target> <file>` replays it.
#
# Builds with debug assertions (so integer overflow panics) and without a sanitizer: the code is
# safe Rust, and a sanitizer would halve the executions. Installs cargo-fuzz when it is missing.
# cargo-fuzz's flags work on the stable toolchain; RUSTC_BOOTSTRAP=1 lets it pass the few
# unstable ones it uses, so no nightly toolchain is needed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

FUZZ_SECONDS=${FUZZ_SECONDS:-}
FUZZ_RUNS=${FUZZ_RUNS:-}
if [ -z "$FUZZ_SECONDS" ] && [ -z "$FUZZ_RUNS" ]; then FUZZ_SECONDS=30; fi
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi
# Without a sanitizer, with debug assertions; the same flags for build and run, so run does not
# rebuild.
FLAGS=(--sanitizer none --debug-assertions)

targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
echo "== building the fuzz targets"
start=$(date +%s)
cargo fuzz build "${FLAGS[@]}"
echo "   built in $(( $(date +%s) - start )) s"

limits=(-timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1)
[ -n "$FUZZ_SECONDS" ] && limits+=("-max_total_time=$FUZZ_SECONDS")
[ -n "$FUZZ_RUNS" ] && limits+=("-runs=$FUZZ_RUNS")

failed=0
summary=()
mkdir -p target/fuzz-logs
for t in $targets; do
  work=target/corpus/$t
  mkdir -p "$work" "corpus/$t"
  log=target/fuzz-logs/$t.log
  echo "== $t"
  t0=$(date +%s)
  status=0
  cargo fuzz run "${FLAGS[@]}" "$t" "$work" "corpus/$t" -- "${limits[@]}" >"$log" 2>&1 || status=$?
  secs=$(( $(date +%s) - t0 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  artifacts=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tr '\n' ' ')
  if [ "$status" -ne 0 ] || [ -n "$artifacts" ]; then
    failed=1
    line="$t: FINDING after ${execs:-?} executions in ${secs} s: ${artifacts:-exit $status}"
    echo "$line"
    # What failed: the panic message or libFuzzer's verdict.
    grep -m 5 -E "panicked at|^==[0-9]+== ERROR|ERROR: libFuzzer|deadly signal|SUMMARY" "$log" | sed 's/^/   /' || true
    grep -m 1 -A 3 "panicked at" "$log" | sed 's/^/   /' || true
  else
    line="$t: ${execs:-?} executions in ${secs} s, no finding"
    echo "$line"
  fi
  summary+=("$line")
done

echo
echo "== fuzzing summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
