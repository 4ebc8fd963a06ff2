#!/usr/bin/env bash
# Requests/s and p99 latency through `tessera gateway` (a token from Tessera injected on every
# request) next to nginx proxying the same upstream, in one run, with wrk on loopback.
#
# usage: bench/gateway-bench.sh
# env:   WARMUP=5 DURATION=15 ROUNDS=2 CONNS=32 THREADS=2   (wrk settings; rounds alternate nginx/gateway)
#        ACCESS_LOG=1   both proxies write an access log line per request (to a file); 0 turns both off
#        THREADING=per_core   the gateway's [gateway] threading setting (per_core or shared)
#        BASE_PORT=18180 (Tessera, upstream, nginx and the gateway use BASE_PORT…BASE_PORT+3)
#        BUILD_WORKSPACE=dir  build from another checkout or side workspace (binaries in
#        ${CARGO_TARGET_DIR:-<repo>/target}/release)
#        BIN=path  use this tessera binary as it is (no build): to compare two builds alternately
#        UPSTREAM=separate   the upstream in an nginx of its own (2 workers), so that a request
#                      through either proxy crosses the same three processes; shared: the
#                      upstream's server block in the reference nginx itself, whose workers then
#                      serve both roles (no third process on nginx's side, one on the gateway's)
#        LOADGEN=h2load   the load generator: h2load (nghttp2's, HTTP/1.1, p99 computed from its
#                      per-request log) or wrk (p99 from its histogram); both drive THREADS
#                      threads and CONNS connections in a closed loop. A round whose in_flight is
#                      well above CONNS is flagged: the load generator's latencies there are not
#                      the time its requests spent in the system (seen with wrk, see below)
#        EQUAL_LOAD=0.5  (h2load only; 0 turns it off) after each round's closed-loop runs, both
#                      proxies are run again at the same offered rate, this fraction of nginx's
#                      requests/s in that round (h2load --rps, spread over the connections), and
#                      their p99s compared there: the latency each adds at one load, rather than at
#                      each one's own saturation, where a closed loop's p99 mostly restates its
#                      throughput (Little's law: mean latency = CONNS / requests/s)
# The upstream is an nginx server block answering 200 with a small JSON body (no upstream work),
# so the figures are the proxies' own cost. nginx runs 2 workers (one per core) with keep-alive to
# the upstream; the gateway pools its upstream connections too. Target: gateway >= 60% of nginx's
# requests/s, p99 within 1 ms of nginx's, 0 errors. The summary gives the median over the rounds of
# each round's side-by-side ratio and p99 difference, the worst round's, and how many rounds met
# both targets: on this shared machine one round can be off by a lot either way. Results go to
# bench/out/ (not committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-2}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
ACCESS_LOG=${ACCESS_LOG:-1}
THREADING=${THREADING:-per_core}
UPSTREAM=${UPSTREAM:-separate}
BASE_PORT=${BASE_PORT:-18180}
P_AS=$BASE_PORT P_UP=$((BASE_PORT + 1)) P_NGX=$((BASE_PORT + 2)) P_GW=$((BASE_PORT + 3))

# shellcheck source=bench/gateway-lib.sh
. "$root/bench/gateway-lib.sh"
LOADGEN=${LOADGEN:-h2load}
EQUAL_LOAD=${EQUAL_LOAD:-0.5}
case $LOADGEN in
  wrk) need wrk wrk; EQUAL_LOAD=0 ;;
  h2load) need h2load nghttp2-client ;;
  *) echo "LOADGEN must be wrk or h2load" >&2; exit 2 ;;
esac
need nginx nginx
need curl curl

out=$root/bench/out; mkdir -p "$out"
results=$out/gateway-$(date +%Y%m%d-%H%M%S).txt

find_bin
gateway=("$bin" gateway)

setup_work

# Tessera, with the gateway's client from a setup file.
start_tessera

# nginx: the upstream (port P_UP) and the reference proxy (port P_NGX), in one nginx or two.
if [ "$ACCESS_LOG" = 1 ]; then ngx_log="access_log $work/nginx-access.log;"; else ngx_log="access_log off;"; fi
upstream_block=$(upstream_server)
if [ "$UPSTREAM" = separate ]; then
  start_upstream 2
  upstream_block=""
fi
{ ngx_head nginx 2; ngx_proxy_http "$ngx_log" "$upstream_block"; } > "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work"
wait_for "http://127.0.0.1:$P_NGX/" "nginx"

# The gateway: the same upstream, with a token from Tessera on every request.
[ "$ACCESS_LOG" = 1 ] && gw_log=true || gw_log=false
gateway_toml "$gw_log" "threading = \"$THREADING\""
"${gateway[@]}" --config "$work/gateway.toml" > "$work/gateway.out" 2> "$work/gateway.log" &
pids+=($!)
gw_pid=$!
wait_for "http://127.0.0.1:$P_GW/readyz" "the gateway"
curl -sf "http://127.0.0.1:$P_GW/items" | grep -q '"ok":true' || { echo "the gateway does not proxy" >&2; exit 1; }

# One closed-loop run → "rps p99_ms in_flight errors". in_flight is requests/s × mean latency, which
# Little's law makes equal to CONNS in a closed loop: a figure well above it means the load
# generator's latencies are not the time its requests spent in the system (seen with wrk on this
# 2-core VM, for nginx as well as the gateway, in the rounds where its p99 jumps). cpu_us is the
# proxy's CPU time per request (user + system, all its threads; for nginx its worker processes,
# which with UPSTREAM=shared also serve the upstream's side of its requests).
measure() { # url seconds
  if [ "$LOADGEN" = h2load ]; then measure_h2load "$@"; else measure_wrk "$@"; fi
}
# in_flight from requests/s and a mean latency in ms.
in_flight() { awk -v r="${1:-0}" -v m="${2:-0}" 'BEGIN {printf "%.1f", r * m / 1000}'; }
# h2load: requests/s from its summary; p99, mean and non-2xx answers from its per-request log
# (start, status, microseconds), read once sorted by duration.
measure_h2load() { # url seconds [requests/s per connection]
  local o rps failed p99 mean non2xx
  rm -f "$work/h2load.log"
  o=$(h2load --h1 -t"$THREADS" -c"$CONNS" -D "$2" ${3:+--rps="$3"} --log-file="$work/h2load.log" "$1" 2>&1)
  rps=$(awk '/^finished in/ {print $4}' <<<"$o")
  failed=$(awk '/^requests:/ {print $10 + $12 + $14}' <<<"$o")
  read -r p99 mean non2xx < <(sort -n -k3 "$work/h2load.log" | awk '
    { v[NR] = $3; sum += $3; if ($2 < 200 || $2 > 399) bad++ }
    END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f %.4f %d\n", v[i] / 1000, NR ? sum / NR / 1000 : 0, bad }')
  echo "${rps:-0} ${p99:-0} $(in_flight "$rps" "$mean") $((${failed:-0} + ${non2xx:-0}))"
}
# wrk: requests/s, mean ("Latency" line) and p99 ("99%" line) from its report, in ms.
measure_wrk() { # url seconds
  local o rps p99 mean non2xx sock
  o=$(wrk -t"$THREADS" -c"$CONNS" -d"$2"s --latency "$1")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$o")
  read -r mean p99 < <(awk '
    function ms(v) { if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
                     if (v ~ /ms$/) return substr(v, 1, length(v) - 2)
                     return substr(v, 1, length(v) - 1) * 1000 }
    $1 == "Latency" && mean == "" { mean = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { print mean + 0, p99 + 0 }' <<<"$o")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$o"); non2xx=${non2xx:-0}
  sock=$(awk -F'[ ,]+' '/Socket errors:/ {print $4+$6+$8+$10}' <<<"$o"); sock=${sock:-0}
  echo "$rps $p99 $(in_flight "$rps" "$mean") $((non2xx + sock))"
}

# The median, lowest and highest of numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
lowest() { printf '%s\n' "$@" | sort -g | head -1; }
highest() { printf '%s\n' "$@" | sort -g | tail -1; }

# CPU time (user + system, in clock ticks) of the given processes and their threads.
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
hz=$(getconf CLK_TCK)
ngx_workers=$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')
# One measured round of a proxy → "rps p99_ms in_flight errors cpu_us_per_request"
measure_round() { # url pids…
  local url=$1 before after rps rest
  shift
  before=$(ticks "$@")
  read -r rps rest < <(measure "$url" "$DURATION")
  after=$(ticks "$@")
  echo "$rps $rest $(awk -v d=$((after - before)) -v hz="$hz" -v r="$rps" -v s="$DURATION" 'BEGIN {printf "%.1f", (r > 0) ? d / hz * 1e6 / (r * s) : 0}')"
}

{
echo "# $(date -u +%FT%TZ) $(nproc) cores, $LOADGEN with $THREADS threads, $CONNS connections, ${DURATION}s on loopback, access logs: $ACCESS_LOG, gateway threading: $THREADING, upstream: $UPSTREAM"
echo "# gateway: ${gateway[*]##*/}; nginx $(nginx -v 2>&1 | sed 's/.*\///')"
measure "http://127.0.0.1:$P_NGX/items" "$WARMUP" >/dev/null
measure "http://127.0.0.1:$P_GW/items" "$WARMUP" >/dev/null
printf '%-7s %-8s %12s %9s %9s %7s %7s\n' round proxy requests/s p99_ms in_flight errors cpu_us
ratios=(); dp99s=(); eq_dp99s=(); errors=0; both_met=0
for r in $(seq "$ROUNDS"); do
  # shellcheck disable=SC2086 # one pid per word
  read -r n_rps n_p99 n_inf n_err n_cpu < <(measure_round "http://127.0.0.1:$P_NGX/items" $ngx_workers)
  printf '%-7s %-8s %12.0f %9.2f %9.1f %7d %7.1f\n' "$r" nginx "$n_rps" "$n_p99" "$n_inf" "$n_err" "$n_cpu"
  read -r g_rps g_p99 g_inf g_err g_cpu < <(measure_round "http://127.0.0.1:$P_GW/items" "$gw_pid")
  printf '%-7s %-8s %12.0f %9.2f %9.1f %7d %7.1f\n' "$r" gateway "$g_rps" "$g_p99" "$g_inf" "$g_err" "$g_cpu"
  ratio=$(awk -v g="$g_rps" -v n="$n_rps" 'BEGIN {printf "%.3f", g / n}')
  dp99=$(awk -v g="$g_p99" -v n="$n_p99" 'BEGIN {printf "%.2f", g - n}')
  echo "        round $r: gateway/nginx requests/s = $ratio, p99 gateway - nginx = ${dp99} ms"
  for inf in "$n_inf" "$g_inf"; do
    if awk -v i="$inf" -v c="$CONNS" 'BEGIN {exit !(i > c * 1.1)}'; then
      echo "        (in_flight $inf is above the $CONNS connections: $LOADGEN's latencies in this round include time its requests were not in the system)"
    fi
  done
  ratios+=("$ratio"); dp99s+=("$dp99")
  both_met=$((both_met + $(awk -v r="$ratio" -v d="$dp99" 'BEGIN {print (r >= 0.6 && d <= 1.0) ? 1 : 0}')))
  errors=$((errors + n_err + g_err))
  if [ "$EQUAL_LOAD" != 0 ]; then
    per_conn=$(awk -v r="$n_rps" -v f="$EQUAL_LOAD" -v c="$CONNS" 'BEGIN {printf "%d", r * f / c}')
    read -r n_rps n_p99 n_inf n_err < <(measure_h2load "http://127.0.0.1:$P_NGX/items" "$DURATION" "$per_conn")
    printf '%-7s %-8s %12.0f %9.2f %9.1f %7d\n' "$r" nginx= "$n_rps" "$n_p99" "$n_inf" "$n_err"
    read -r g_rps g_p99 g_inf g_err < <(measure_h2load "http://127.0.0.1:$P_GW/items" "$DURATION" "$per_conn")
    printf '%-7s %-8s %12.0f %9.2f %9.1f %7d\n' "$r" gateway= "$g_rps" "$g_p99" "$g_inf" "$g_err"
    dp99=$(awk -v g="$g_p99" -v n="$n_p99" 'BEGIN {printf "%.2f", g - n}')
    echo "        round $r at an equal offered load ($((per_conn * CONNS)) requests/s): p99 gateway - nginx = ${dp99} ms"
    eq_dp99s+=("$dp99")
    errors=$((errors + n_err + g_err))
  fi
done
tokens=$(curl -sf "http://127.0.0.1:$P_GW/metrics" | awk '/^tessera_gateway_token_fetches_total\{route="api",outcome="ok"\}/ {print $2}')
echo "summary over $ROUNDS rounds (median, then worst): gateway/nginx requests/s = $(median "${ratios[@]}"), $(lowest "${ratios[@]}") (target >= 0.60); p99 gateway - nginx = $(median "${dp99s[@]}"), $(highest "${dp99s[@]}") ms (target <= 1.00); rounds meeting both: $both_met of $ROUNDS; errors = $errors (target 0); tokens fetched by the gateway = ${tokens:-?}"
[ "$EQUAL_LOAD" = 0 ] || echo "summary at an equal offered load ($EQUAL_LOAD of nginx's requests/s; median, then worst): p99 gateway - nginx = $(median "${eq_dp99s[@]}"), $(highest "${eq_dp99s[@]}") ms (target <= 1.00)"
} | tee "$results"
echo "results: $results" >&2
