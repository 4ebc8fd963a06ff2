#!/usr/bin/env bash
# What `tessera gateway` costs per proxied request (a token from Tessera injected on every request)
# next to nginx proxying the same upstream with a static Authorization header, in one run: both
# proxies pinned to the same core, the load generator, the upstream and Tessera on another.
#
# usage: bench/gateway-bench.sh
# env:   SERVER_CPUS=0   CPUs (taskset list) for the proxy under test (nginx runs one worker per CPU
#                        there, the gateway's runtime one thread per CPU)
#        LOAD_CPUS=1     CPUs for h2load, the upstream (an nginx of its own) and Tessera
#        WARMUP=5 DURATION=15 ROUNDS=3 CONNS=32 THREADS=1   h2load settings (HTTP/1.1); rounds
#                        alternate nginx and the gateway
#        FIXED=0.5       after each closed-loop pair, both proxies again at this fraction of nginx's
#                        requests/s in that round (h2load --rps); 0 skips it
#        ACCESS_LOG=1    both proxies write an access line per request (nginx to a file, the gateway
#                        to its log); 0 turns both off
#        BASE_PORT=18180 (Tessera, upstream, nginx and the gateway use BASE_PORT…BASE_PORT+3)
#        BIN=path        use this tessera binary as it is (no build)
# Per round and proxy: requests/s, p99 (ms), errors and the proxy's CPU time per request (µs, user +
# system, all its threads or worker processes). The summary gives the median and worst over the
# rounds of gateway/nginx CPU per request (target <= 2) and of the p99s at the fixed rate. Results
# go to bench/out/ (not committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
WARMUP=${WARMUP:-5} DURATION=${DURATION:-15} ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32} THREADS=${THREADS:-1} FIXED=${FIXED:-0.5} ACCESS_LOG=${ACCESS_LOG:-1}
SERVER_CPUS=${SERVER_CPUS:-0} LOAD_CPUS=${LOAD_CPUS:-1}
BASE_PORT=${BASE_PORT:-18180}
P_AS=$BASE_PORT P_UP=$((BASE_PORT + 1)) P_NGX=$((BASE_PORT + 2)) P_GW=$((BASE_PORT + 3))

# shellcheck source=bench/gateway-lib.sh
. "$root/bench/gateway-lib.sh"
need h2load nghttp2-client
need nginx nginx
need curl curl
need taskset util-linux
server_cores=$(taskset -c "$SERVER_CPUS" nproc)

out=$root/bench/out; mkdir -p "$out"
results=$out/gateway-$(date +%Y%m%d-%H%M%S).txt

find_bin
setup_work

# Tessera and the upstream on the load generator's CPUs: the proxies' core does only proxying.
start_tessera
start_upstream 1
up_master=$(cat "$work/upstream.pid")
for p in "$up_master" $(pgrep -P "$up_master") "${pids[@]}"; do taskset -a -p -c "$LOAD_CPUS" "$p" >/dev/null; done

# The reference proxy: one nginx worker per server CPU, each bound to it.
if [ "$ACCESS_LOG" = 1 ]; then ngx_log="access_log $work/nginx-access.log;"; else ngx_log="access_log off;"; fi
{ ngx_head nginx "$server_cores"; ngx_proxy_http "$ngx_log"; } > "$work/nginx.conf"
taskset -c "$SERVER_CPUS" nginx -c "$work/nginx.conf" -p "$work"
wait_for "http://127.0.0.1:$P_NGX/" "nginx"
ngx_workers=$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')

# The gateway: the same upstream, with a token from Tessera on every request.
[ "$ACCESS_LOG" = 1 ] && gw_log=true || gw_log=false
gateway_toml "$gw_log"
taskset -c "$SERVER_CPUS" "$bin" gateway --config "$work/gateway.toml" > "$work/gateway.out" 2> "$work/gateway.log" &
pids+=($!)
gw_pid=$!
wait_for "http://127.0.0.1:$P_GW/readyz" "the gateway"
curl -sf "http://127.0.0.1:$P_GW/items" | grep -q '"ok":true' || { echo "the gateway does not proxy" >&2; exit 1; }

# h2load → "requests/s p99_ms errors"; p99 and non-2xx answers from its per-request log (start,
# status, microseconds).
measure() { # url seconds [requests/s per connection]
  local o rps failed p99 non2xx
  rm -f "$work/h2load.log"
  o=$(taskset -c "$LOAD_CPUS" h2load --h1 -t"$THREADS" -c"$CONNS" -D "$2" ${3:+--rps="$3"} --log-file="$work/h2load.log" "$1" 2>&1)
  rps=$(awk '/^finished in/ {print $4}' <<<"$o")
  failed=$(awk '/^requests:/ {print $10 + $12 + $14}' <<<"$o")
  read -r p99 non2xx < <(sort -n -k3 "$work/h2load.log" | awk '
    { v[NR] = $3; if ($2 < 200 || $2 > 399) bad++ }
    END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.3f %d\n", v[i] / 1000, bad }')
  echo "${rps:-0} ${p99:-0} $((${failed:-0} + ${non2xx:-0}))"
}
# CPU time (user + system, in clock ticks) of the given processes and their threads.
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
hz=$(getconf CLK_TCK)
# One measured run of a proxy → "requests/s p99_ms errors cpu_us_per_request"
measure_cpu() { # url per-connection-rate("" for a closed loop) pids…
  local url=$1 rate=$2 before after rps p99 err
  shift 2
  before=$(ticks "$@")
  read -r rps p99 err < <(measure "$url" "$DURATION" "$rate")
  after=$(ticks "$@")
  echo "$rps $p99 $err $(awk -v d=$((after - before)) -v hz="$hz" -v r="$rps" -v s="$DURATION" 'BEGIN {printf "%.1f", (r > 0) ? d / hz * 1e6 / (r * s) : 0}')"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
highest() { printf '%s\n' "$@" | sort -g | awk 'END {printf "%.2f", $1}'; }

{
echo "# $(date -u +%FT%TZ) $(nproc) cores; proxies on CPUs $SERVER_CPUS, h2load/upstream/Tessera on CPUs $LOAD_CPUS; h2load $THREADS thread(s), $CONNS connections, ${DURATION}s; access logs: $ACCESS_LOG"
echo "# nginx $(nginx -v 2>&1 | sed 's/.*\///') with $server_cores worker(s)"
measure "http://127.0.0.1:$P_NGX/items" "$WARMUP" >/dev/null
measure "http://127.0.0.1:$P_GW/items" "$WARMUP" >/dev/null
printf '%-6s %-9s %12s %9s %7s %8s\n' round proxy requests/s p99_ms errors cpu_us
cpu_ratios=(); fixed_p99_ngx=(); fixed_p99_gw=(); errors=0
for r in $(seq "$ROUNDS"); do
  # shellcheck disable=SC2086 # one pid per word
  read -r n_rps n_p99 n_err n_cpu < <(measure_cpu "http://127.0.0.1:$P_NGX/items" "" $ngx_workers)
  printf '%-6s %-9s %12.0f %9.2f %7d %8.1f\n' "$r" nginx "$n_rps" "$n_p99" "$n_err" "$n_cpu"
  read -r g_rps g_p99 g_err g_cpu < <(measure_cpu "http://127.0.0.1:$P_GW/items" "" "$gw_pid")
  printf '%-6s %-9s %12.0f %9.2f %7d %8.1f\n' "$r" gateway "$g_rps" "$g_p99" "$g_err" "$g_cpu"
  cpu_ratios+=("$(awk -v g="$g_cpu" -v n="$n_cpu" 'BEGIN {printf "%.3f", (n > 0) ? g / n : 0}')")
  errors=$((errors + n_err + g_err))
  if [ "$FIXED" != 0 ]; then
    per_conn=$(awk -v r="$n_rps" -v f="$FIXED" -v c="$CONNS" 'BEGIN {printf "%d", r * f / c}')
    # shellcheck disable=SC2086
    read -r n_rps n_p99 n_err n_cpu < <(measure_cpu "http://127.0.0.1:$P_NGX/items" "$per_conn" $ngx_workers)
    printf '%-6s %-9s %12.0f %9.2f %7d %8.1f\n' "$r" nginx@fix "$n_rps" "$n_p99" "$n_err" "$n_cpu"
    read -r g_rps g_p99 g_err g_cpu < <(measure_cpu "http://127.0.0.1:$P_GW/items" "$per_conn" "$gw_pid")
    printf '%-6s %-9s %12.0f %9.2f %7d %8.1f\n' "$r" gateway@fix "$g_rps" "$g_p99" "$g_err" "$g_cpu"
    fixed_p99_ngx+=("$n_p99"); fixed_p99_gw+=("$g_p99")
    errors=$((errors + n_err + g_err))
  fi
done
tokens=$(curl -sf "http://127.0.0.1:$P_GW/metrics" | awk '/^tessera_gateway_token_fetches_total\{.*outcome="ok"/ {s += $2} END {print s + 0}')
echo "summary over $ROUNDS rounds (median, worst): gateway/nginx CPU per request = $(median "${cpu_ratios[@]}"), $(highest "${cpu_ratios[@]}") (target <= 2); errors = $errors (target 0); tokens fetched by the gateway = ${tokens:-?}"
[ "$FIXED" = 0 ] || echo "at the fixed rate ($FIXED of nginx's closed-loop requests/s; median, worst): p99 nginx = $(median "${fixed_p99_ngx[@]}"), $(highest "${fixed_p99_ngx[@]}") ms; p99 gateway = $(median "${fixed_p99_gw[@]}"), $(highest "${fixed_p99_gw[@]}") ms"
} | tee "$results"
echo "results: $results" >&2
