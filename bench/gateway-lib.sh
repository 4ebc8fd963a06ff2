# The parts of bench/gateway-bench.sh that set things up, sourced by it: Tessera
# with the gateway's client, the nginx upstream answering a small JSON body, nginx as the reference
# proxy (upstream keep-alive, a static `Authorization`), and the gateway's configuration (a token
# from Tessera on every request). The caller sets `root` and P_AS, P_UP, P_NGX, P_GW before calling.
# shellcheck shell=bash

need() { # command package
  command -v "$1" >/dev/null && return
  echo "installing $2 (Debian)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# The tessera binary in $bin: BIN as it is, or a release build (of BUILD_WORKSPACE, this checkout
# by default).
find_bin() {
  if [ -n "${BIN:-}" ]; then
    bin=$BIN
  else
    echo "building tessera (release)…" >&2
    (cd "${BUILD_WORKSPACE:-$root}" && cargo build --release -q -p tessera)
    bin=${CARGO_TARGET_DIR:-$root/target}/release/tessera
  fi
}

# A temporary folder in $work; what is started is killed and the folder removed on exit (processes
# started in the background go in the array `pids`).
setup_work() {
  work=$(mktemp -d)
  pids=()
  trap cleanup EXIT
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -f "$work/upstream.pid" ] && kill "$(cat "$work/upstream.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}

wait_for() { # url what [seconds, 30 by default]
  for _ in $(seq $((${3:-30} * 10))); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$2 did not come up; logs in $work" >&2; exit 1
}

# Tessera on P_AS, with the gateway's client (and its secret in $work/gw.secret) from a setup file.
start_tessera() {
  local secret
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
}

# The head of an nginx configuration named NAME (its pid and error log in $work), then any more
# main-context lines.
ngx_head() { # name workers [line…]
  printf 'user root;\nworker_processes %s;\npid %s/%s.pid;\nerror_log %s/%s-error.log warn;\n' "$2" "$work" "$1" "$work" "$1"
  local line
  for line in "${@:3}"; do printf '%s\n' "$line"; done
  printf 'events { worker_connections 8192; }\n'
}

# The upstream's server block: 200 with a small JSON body on P_UP.
upstream_server() {
  cat <<EOF
server {
    listen 127.0.0.1:$P_UP;
    access_log off;
    keepalive_requests 1000000;
    location / { default_type application/json; return 200 '{"ok":true,"items":[1,2,3]}'; }
  }
EOF
}

# The upstream in an nginx of its own with WORKERS worker processes.
start_upstream() { # workers
  { ngx_head upstream "$1"; printf 'http {\n  client_body_temp_path %s/upstream-body;\n  %s\n}\n' "$work" "$(upstream_server)"; } > "$work/upstream.conf"
  nginx -c "$work/upstream.conf" -p "$work"
  wait_for "http://127.0.0.1:$P_UP/" "the nginx upstream"
}

# The reference proxy's http block on P_NGX, with ACCESS_LOG_DIRECTIVE and any more server blocks.
ngx_proxy_http() { # access-log-directive [server-block]
  cat <<EOF
http {
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  upstream api { server 127.0.0.1:$P_UP; keepalive 128; }
  ${2:-}
  server {
    listen 127.0.0.1:$P_NGX;
    $1
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
}

# The gateway's configuration in $work/gateway.toml: listening on P_GW, everything to the upstream
# with a token from Tessera; then any more lines for [gateway].
gateway_toml() { # access-log(true|false) [gateway-line…]
  local extra=""
  [ $# -gt 1 ] && extra=$(printf '%s\n' "${@:2}")
  cat > "$work/gateway.toml" <<EOF
[gateway]
listen = "127.0.0.1:$P_GW"
$extra

[log]
access_log = $1
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
}
