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
need() { # command package
  command -v "$1" >/dev/null && return
  echo "installing $2 (Debian)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need valgrind valgrind
need h2load nghttp2-client
need nginx nginx
need curl curl
if [ -n "${BIN:-}" ]; then
  bin=$BIN
else
  (cd "$root" && cargo build --release -q -p tessera)
  bin=${CARGO_TARGET_DIR:-$root/target}/release/tessera
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/upstream.pid" ] && kill "$(cat "$work/upstream.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_for() { # url what
  for _ in $(seq 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "$2 did not come up; logs in $work" >&2; exit 1
}

secret="tsec_bench_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$secret" > "$work/gw.secret"
chmod 600 "$work/gw.secret"
cat > "$work/setup.toml" <<EOF
[[scopes]]
name = "bench.api.read"
description = "benchmark upstream"

[[clients]]
client_id = "gateway-bench"
name = "Gateway benchmark"
grant_types = ["client_credentials"]
allowed_scopes = ["bench.api.read"]
default_scopes = ["bench.api.read"]
audiences = ["https://upstream.bench.example/"]
secret_file = "$work/gw.secret"
EOF
TESSERA_LISTEN=127.0.0.1:$P_AS TESSERA_DATA_DIR=$work/data TESSERA_SETUP_FILE=$work/setup.toml \
  "$bin" serve > "$work/tessera.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$P_AS/readyz" "tessera serve"

cat > "$work/upstream.conf" <<EOF
user root;
worker_processes 1;
pid $work/upstream.pid;
error_log $work/upstream-error.log warn;
events { worker_connections 1024; }
http {
  client_body_temp_path $work/upstream-body;
  server {
    listen 127.0.0.1:$P_UP;
    access_log off;
    keepalive_requests 1000000;
    location / { default_type application/json; return 200 '{"ok":true,"items":[1,2,3]}'; }
  }
}
EOF
nginx -c "$work/upstream.conf" -p "$work"
wait_for "http://127.0.0.1:$P_UP/" "the nginx upstream"

cat > "$work/nginx.conf" <<EOF
user root;
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  upstream api { server 127.0.0.1:$P_UP; keepalive 128; }
  server {
    listen 127.0.0.1:$P_NGX;
    access_log $work/nginx-access.log;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header Authorization "Bearer static-token-for-parity";
    }
  }
}
EOF
cat > "$work/gateway.toml" <<EOF
[gateway]
listen = "127.0.0.1:$P_GW"

[log]
access_log = true
level = "info"

[upstreams.api]
url = "http://127.0.0.1:$P_UP"

[upstreams.api.oauth2]
token_endpoint = "http://127.0.0.1:$P_AS/oauth2/token"
client_id = "gateway-bench"
client_secret = { file = "$work/gw.secret" }
scope = "bench.api.read"
audience = "https://upstream.bench.example/"

[[routes]]
name = "api"
path_prefix = "/"
upstream = "api"
EOF

# Counts one proxy: "instructions-per-request"
count() { # name url command…
  local name=$1 url=$2 pid total
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.cg" "$@" > "$work/$name.out" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_for "$url" "$name under callgrind"
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
