#!/usr/bin/env bash
# Two builds of tessera side by side: both serve on SERVER_CPUS, each with its own ES256 client, and
# are loaded one at a time, alternately (a b, b a, a b, …), ROUNDS times, with the closed loop of
# token-bench.sh (../shared/bench/peer/token-load.sh: wrk on LOAD_CPUS, THREADS thread, CONNS
# connections), so that a host growing slower or quicker during the run weighs on both alike.
#
# usage: bench/token-ab.sh BIN_A BIN_B
# env:   ROUNDS=4 WARMUP=1 DURATION=8 THREADS=1 CONNS=32 SERVER_CPUS=0 LOAD_CPUS=1
#        HALT_POLL_NS (see halt_poll in bench/token-lib.sh)
# Prints each run (token-load.sh's line) and, per build, the medians of tokens/s, p99 and server
# CPU per token. Results are kept in bench/out/ (not committed).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BIN_A BIN_B" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${TESSERA_PEER_BENCH:-$root/../shared/bench/peer}
[ -x "$peer/token-load.sh" ] || { echo "need ../shared/bench/peer beside the repository" >&2; exit 1; }
export SERVER_CPUS=${SERVER_CPUS:-0} LOAD_CPUS=${LOAD_CPUS:-1}
export THREADS=${THREADS:-1} CONNS=${CONNS:-32} WARMUP=${WARMUP:-1} DURATION=${DURATION:-8}
out=$root/bench/out; mkdir -p "$out"
results=$out/token-ab-$(date +%Y%m%d-%H%M%S).txt
. "$root/bench/token-lib.sh"
need wrk wrk; need jq jq; need taskset util-linux

data=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$data"; restore_halt_poll; }
trap cleanup EXIT
halt_poll
declare -A url id secret server
for side in a b; do
  bin=$1; [ "$side" = b ] && bin=$2
  mkdir -p "$data/$side"
  start_tessera "$(realpath "$bin")" $((18080 + ${#pids[@]} * 2)) "$data/$side"
  pids+=("$tessera_pid")
  c=$(make_client "bench-ab-$side" jwt ES256)
  url[$side]=$base/oauth2/token server[$side]=$tessera_pid
  id[$side]=$(jq -r .client_id <<<"$c") secret[$side]=$(jq -r .client_secret <<<"$c")
done

{
echo "# $(date -u +%FT%TZ) a=$1 b=$2; servers on CPUs $SERVER_CPUS, wrk on CPUs $LOAD_CPUS, $THREADS thread(s), $CONNS connections, ${DURATION}s x ${ROUNDS:-4}; $idle_poll"
for r in $(seq "${ROUNDS:-4}"); do
  # a b, then b a: whichever build runs first in a round does not always get that place.
  order="a b"; [ $((r % 2)) = 0 ] && order="b a"
  for side in $order; do
    echo "$side: $(SERVER_PID=${server[$side]} "$peer/token-load.sh" "${url[$side]}" "${id[$side]}" "${secret[$side]}" core.bench.read)"
  done
done
} | tee "$results"

python3 - "$results" <<'PY'
import re, statistics, sys
runs = {"a": [], "b": []}
for line in open(sys.argv[1]):
    m = re.match(r"^([ab]): (.*)$", line)
    if m:
        runs[m.group(1)].append(dict(kv.split("=", 1) for kv in m.group(2).split()))
for side, rs in runs.items():
    med = lambda k: statistics.median(float(r[k]) for r in rs if r.get(k, "-") != "-")
    print(f"{side}: median tokens/s {med('tokens_per_s'):.0f}, p99 {med('p99_ms'):.2f} ms, "
          f"server CPU {med('cpu_us_per_token'):.1f} us/token over {len(rs)} runs")
PY
echo "raw results: $results" >&2
