#!/usr/bin/env bash
# POST /oauth2/token (client_credentials, client_secret_basic) as users meet it: the server pinned to
# its own core(s), the load generator to others, node-oidc-provider measured the same way in the
# same run; then Tessera again under a fixed offered load.
#
# usage: bench/token-bench.sh [VARIANT ...]   variants: es256 rs256 eddsa opaque (default: es256)
# env:   SERVER_CPUS=0   CPUs (taskset list) for Tessera and for node-oidc-provider
#        LOAD_CPUS=1     CPUs for wrk and h2load
#        THREADS=1 CONNS=32 WARMUP=5 DURATION=20   closed-loop load (wrk); DURATION also for the rest
#        FIXED=0.5       the fixed-rate run offers this fraction of Tessera's closed-loop tokens/s
#                        (h2load --rps, HTTP/1.1); 0 skips it
#        FIXED_CONN_RATE=50 FIXED_THREADS=8   at most this many requests/s per h2load connection
#                        (as many connections as that needs), spread over this many h2load threads
#        BARE=1          0 skips the bare answer (GET /healthz, closed loop) measured for reference
#        PEER=1          0 skips node-oidc-provider (1 worker process)
#        PORT=18080      Tessera's port
#        BIN=path        use this tessera binary as it is (no build)
#        HALT_POLL_NS=   if set, idle CPUs poll this long before halting during the run (see
#                        halt_poll in bench/token-lib.sh); the default leaves the machine as it is
# Per variant it prints: Tessera closed loop, node-oidc-provider closed loop (token-load.sh's line:
# tokens_per_s p50_ms p99_ms bad cpu_us_per_token rss_peak_mb), Tessera at the fixed rate
# (offered and achieved tokens/s, connections, p50/p99/max in ms, errors), and one core's signing
# rate for the algorithm (`openssl speed` on the first of SERVER_CPUS); then the server's CPU per
# bare answer; then a summary against the targets in bench/README.md. Results are kept in
# bench/out/ (not committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${TESSERA_PEER_BENCH:-$root/../shared/bench/peer}
[ -x "$peer/token-load.sh" ] || { echo "need ../shared/bench/peer beside the repository" >&2; exit 1; }
. "$root/bench/token-lib.sh"
need wrk wrk; need h2load nghttp2-client; need jq jq; need taskset util-linux
[ $# -gt 0 ] || set -- es256
export SERVER_CPUS=${SERVER_CPUS:-0} LOAD_CPUS=${LOAD_CPUS:-1}
export THREADS=${THREADS:-1} CONNS=${CONNS:-32} WARMUP=${WARMUP:-5} DURATION=${DURATION:-20}
FIXED=${FIXED:-0.5}
PORT=${PORT:-18080}
server_cores=$(taskset -c "$SERVER_CPUS" nproc)
out=$root/bench/out; mkdir -p "$out"
results=$out/token-$(date +%Y%m%d-%H%M%S).txt

if [ -z "${BIN:-}" ]; then
  echo "building tessera (release)…" >&2
  (cd "$root" && cargo build --release -q -p tessera)
fi
bin=${BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}

data=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; restore_halt_poll; }
trap cleanup EXIT
halt_poll
# Tessera, its admin token and the benchmark's scope; then one client per variant (below).
start_tessera "$bin" "$PORT" "$data"
pid=$tessera_pid

# Tessera under a fixed offered load. h2load (--rps) sends on a per-connection timer whose interval
# is at least 10 ms (nghttp2's h2load: `rps_watcher.repeat = std::max(0.01, 1. / config.rps)`); a
# connection offered more than 100 requests/s queues them and sends them back to back on each tick,
# so 32 connections at 250/s each arrive as bursts every 10 ms, a closed loop in disguise. Here
# each connection sends at most FIXED_CONN_RATE (50) requests/s, one per tick, and the connections
# are spread over FIXED_THREADS (8) event loops started a few per millisecond across one sending
# interval, so that requests arrive spread out as from many independent clients. Latencies come
# from h2load's per-request log (start, status, microseconds).
fixed_rate() { # id secret rate
  local conns per_conn per_ms o achieved
  conns=$(awk -v r="$3" -v m="${FIXED_CONN_RATE:-50}" 'BEGIN {n = int((r + m - 1) / m); print (n < 1) ? 1 : n}')
  per_conn=$(awk -v r="$3" -v c="$conns" 'BEGIN {printf "%d", (r / c < 1) ? 1 : r / c}')
  # Connections started per millisecond: enough to start them all within one sending interval,
  # and at least one per h2load thread (h2load refuses fewer).
  per_ms=$(awk -v p="$per_conn" -v c="$conns" -v t="${FIXED_THREADS:-8}" 'BEGIN {i = 1000 / p; if (i < 1) i = 1; n = c / i; n = (n > int(n)) ? int(n) + 1 : n; printf "%d", (n < t) ? t : n}')
  printf 'grant_type=client_credentials&scope=core.bench.read' > "$data/body"
  rm -f "$data/h2load.log"
  o=$(taskset -c "$LOAD_CPUS" h2load --h1 -t"${FIXED_THREADS:-8}" -c"$conns" -n $((per_conn * conns * DURATION)) \
    -r "$per_ms" --rate-period=1ms --rps="$per_conn" \
    -d "$data/body" -H 'content-type: application/x-www-form-urlencoded' -H 'accept: application/json' \
    -H "authorization: Basic $(printf '%s:%s' "$1" "$2" | base64 -w0)" \
    --log-file="$data/h2load.log" "$base/oauth2/token" 2>&1) || { echo "h2load failed: $o" >&2; return 1; }
  achieved=$(awk '/^finished in/ {print $4}' <<<"$o")
  sort -n -k3 "$data/h2load.log" | awk -v offered=$((per_conn * conns)) -v conns="$conns" -v achieved="${achieved:-0}" '
    { v[NR] = $3; if ($2 != 200) bad++ }
    END { n = NR ? NR : 1; p50 = v[int(n * 0.5) ? int(n * 0.5) : 1]; p99 = v[int(n * 0.99) ? int(n * 0.99) : 1]
          printf "offered_per_s=%d connections=%d achieved_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f bad=%d\n",
                 offered, conns, achieved, p50 / 1000, p99 / 1000, v[n] / 1000, bad }'
}

# For reference, what one answer of the same server costs without the token: `GET /healthz` (a
# fixed JSON body through the same router and layers) under the same closed-loop load.
bare_answer() {
  local c0 c1 n
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  n=$(taskset -c "$LOAD_CPUS" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "$base/healthz" | awk '/requests in/ {print $1}')
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  awk -v c=$((c1 - c0)) -v n="${n:-0}" -v d="$DURATION" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "tessera bare answer: answers_per_s=%.0f cpu_us_per_answer=%.1f\n", n / d, n ? c / hz * 1e6 / n : 0}'
}

# One core's signing rate for ALG, measured now on the server's first CPU.
signing_rate() { # ALG
  local name
  case $1 in ES256) name=ecdsap256 ;; RS256) name=rsa2048 ;; EdDSA) name=ed25519 ;; esac
  taskset -c "${SERVER_CPUS%%[,-]*}" openssl speed -seconds 3 "$name" 2>/dev/null | awk -v alg="$1" '
    /ecdsa \(nistp256\)/ || /^rsa 2048 bits/ || /EdDSA \(Ed25519\)/ {print "openssl " alg " sign/s " $(NF-1)}'
}

{
echo "# $(date -u +%FT%TZ) $(nproc) cores; server on CPUs $SERVER_CPUS, load on CPUs $LOAD_CPUS; wrk/h2load $THREADS thread(s), $CONNS connections, ${DURATION}s; $idle_poll"
for v in "$@"; do
  case $v in
    es256) c=$(make_client bench-es256 jwt ES256); theirs=jwt:ES256; alg=ES256 ;;
    rs256) c=$(make_client bench-rs256 jwt RS256); theirs=jwt:RS256; alg=RS256 ;;
    eddsa) c=$(make_client bench-eddsa jwt EdDSA); theirs=jwt:EdDSA; alg=EdDSA ;;
    opaque) c=$(make_client bench-opaque opaque ""); theirs=opaque:-; alg= ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  id=$(jq -r .client_id <<<"$c"); secret=$(jq -r .client_secret <<<"$c")
  printf 'tessera %s: ' "$v"
  line=$(SERVER_PID=$pid "$peer/token-load.sh" "$base/oauth2/token" "$id" "$secret" core.bench.read)
  echo "$line"
  # Tessera stays up, idle, while the peer is measured.
  [ "${PEER:-1}" = 0 ] || WORKERS=1 "$peer/run-peer.sh" "$theirs"
  if [ "$FIXED" != 0 ]; then
    rate=$(sed -n 's/.*tokens_per_s=\([0-9]*\).*/\1/p' <<<"$line")
    printf 'tessera %s fixed: ' "$v"
    fixed_rate "$id" "$secret" "$(awk -v r="${rate:-0}" -v f="$FIXED" 'BEGIN {printf "%d", r * f}')"
  fi
  [ -z "$alg" ] || signing_rate "$alg"
done
[ "${BARE:-1}" = 0 ] || bare_answer
} | tee "$results"

python3 - "$results" "$server_cores" <<'PY'
import re, sys
text, cores = open(sys.argv[1]).read(), int(sys.argv[2])
def fields(prefix):
    m = re.search("^" + re.escape(prefix) + r" (.*)$", text, re.M)
    return dict(kv.split("=", 1) for kv in m.group(1).split()) if m else {}
num = lambda d, k: float(d[k]) if d.get(k, "-") not in ("-", "") else None
print(f"summary (same run; server on {cores} core(s)):")
for ours, theirs, alg in [("es256", "jwt:ES256", "ES256"), ("rs256", "jwt:RS256", "RS256"),
                          ("eddsa", "jwt:EdDSA", "EdDSA"), ("opaque", "opaque:-", None)]:
    t = fields(f"tessera {ours}:")
    if not t:
        continue
    p = fields(f"oidc-provider 9.13.3 node22 workers=1 {theirs}:")
    f = fields(f"tessera {ours} fixed:")
    tps = num(t, "tokens_per_s")
    line = f"  {ours}: {tps / cores:.0f} tokens/s per core"
    if num(p, "tokens_per_s"):
        line += f", {tps / num(p, 'tokens_per_s'):.1f}x node-oidc-provider's {num(p, 'tokens_per_s'):.0f} (target >= 8x)"
    line += f"; p99 {t.get('p99_ms')} ms closed loop (target <= 3)"
    if f:
        line += f", {f.get('p99_ms')} ms at a fixed {f.get('offered_per_s')}/s (target <= 1)"
    line += f"; bad {int(num(t, 'bad') or 0) + int(num(f, 'bad') or 0)}; peak RSS {t.get('rss_peak_mb')} MB (target <= 40)"
    m = re.search(rf"^openssl {alg} sign/s ([\d.]+)", text, re.M) if alg else None
    cpu = num(t, "cpu_us_per_token")
    if cpu is not None:
        line += f"; server CPU {cpu:.1f} us/token"
        if m:
            line += f" (one signature on one core: {1e6 / float(m.group(1)):.1f} us by openssl speed)"
    print(line)
b = fields("tessera bare answer:")
if b:
    print(f"  for reference: a bare answer (GET /healthz) costs {b['cpu_us_per_answer']} us of server CPU "
          f"({b['answers_per_s']} answers/s closed loop)")
PY
echo "raw results: $results" >&2
