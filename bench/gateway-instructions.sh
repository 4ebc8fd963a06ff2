#!/usr/bin/env bash
# Instructions per proxied request, the gateway's (with a token from Tessera injected) next to
# nginx's (Debian's package, the configuration of bench/gateway-bench.sh), counted by callgrind:
# repeatable whatever else the machine does, so a change to the proxy path can be judged in one
# run, without the noise of a load test. Both proxies make the same system calls per request
# (`strace -c`: two recvfrom and two writev), so the difference is their own code.
#
# usage: bench/gateway-instructions.sh [REQUESTS]     (default 20000)
# env:   BIN=path   count this tessera binary (no build)
#        BASE_PORT=18280 (Tessera, upstream, nginx and the gateway use BASE_PORT…BASE_PORT+3)
#        KEEP=dir   keeps callgrind's output for each proxy there (for callgrind_annotate)
# Each proxy runs under `valgrind --tool=callgrind` in one process (nginx without its master);
# h2load sends 2,000 requests on 8 connections to warm it up, the counters are zeroed
# (callgrind_control -z), REQUESTS more are sent, and the count is dumped: every thread, every
# instruction of user space, divided by REQUESTS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20000}
BASE_PORT=${BASE_PORT:-18280}
P_AS=$BASE_PORT P_UP=$((BASE_PORT + 1)) P_NGX=$((BASE_PORT + 2)) P_GW=$((BASE_PORT + 3))
# shellcheck source=bench/gateway-lib.sh
. "$root/bench/gateway-lib.sh"
need valgrind valgrind
need h2load nghttp2-client
need nginx nginx
need curl curl
find_bin

setup_work
start_tessera
start_upstream 1
# The reference proxy in one process (no master) so that callgrind sees all of it.
{ ngx_head nginx 1 "daemon off;" "master_process off;"; ngx_proxy_http "access_log $work/nginx-access.log;"; } > "$work/nginx.conf"
gateway_toml true

# Counts one proxy: "instructions-per-request"
count() { # name url command…
  local name=$1 url=$2 pid total
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.cg" "$@" > "$work/$name.out" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_for "$url" "$name under callgrind" 120
  h2load --h1 -n 2000 -c 8 -t 1 "$url" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  h2load --h1 -n "$n" -c 8 -t 1 "$url" | grep -q "succeeded, 0 failed" || { echo "$name: failed requests" >&2; exit 1; }
  callgrind_control -d "$pid" >/dev/null 2>&1
  total=$(callgrind_annotate "$work/$name.cg.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp "$work/$name.cg.1" "$KEEP/$name.callgrind"; fi
  awk -v t="$total" -v n="$n" 'BEGIN {printf "%d", t / n}'
}
ngx=$(count nginx "http://127.0.0.1:$P_NGX/items" nginx -c "$work/nginx.conf" -p "$work")
gw=$(count gateway "http://127.0.0.1:$P_GW/items" "$bin" gateway --config "$work/gateway.toml")
echo "instructions per proxied request ($n requests, 8 connections, access logs on):"
echo "  nginx $(nginx -v 2>&1 | sed 's/.*\///'): $ngx"
echo "  gateway (${bin##*/}): $gw ($(awk -v g="$gw" -v x="$ngx" 'BEGIN {printf "%.2f", g / x}')× nginx)"
