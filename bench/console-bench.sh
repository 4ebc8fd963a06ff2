#!/usr/bin/env bash
# The console's server time with many registrations: 10,000 clients and 1,000 scopes (through the
# admin API), one admin person signed in to the console with curl (the real sign-in flow), then
# each console page requested N times in a row on one connection; prints the median and p95 of
# the time from the request sent to the first byte of the answer (curl's time_starttransfer -
# time_pretransfer: on loopback, the server's time). Not a test.
#
# usage: bench/console-bench.sh
# env:   CLIENTS=10000 SCOPES=1000 N=50 PORT=18090 SERVER_CPUS=0
#        BIN=path   use this tessera binary as it is (no build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
need() { # command package
  command -v "$1" >/dev/null && return
  echo "installing $2 (Debian)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need jq jq; need curl curl; need taskset util-linux
CLIENTS=${CLIENTS:-10000} SCOPES=${SCOPES:-1000} N=${N:-50} PORT=${PORT:-18090}
SERVER_CPUS=${SERVER_CPUS:-0}
out=$root/bench/out; mkdir -p "$out"
results=$out/console-$(date +%Y%m%d-%H%M%S).txt

if [ -z "${BIN:-}" ]; then
  echo "building tessera (release)…" >&2
  (cd "$root" && cargo build --release -q -p tessera)
fi
bin=$(realpath "${BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}")

data=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
cd "$data"
TESSERA_LISTEN=127.0.0.1:$PORT TESSERA_DATA_DIR=$data/data TESSERA_LOG_LEVEL=warn \
  taskset -c "$SERVER_CPUS" "$bin" serve > "$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$PORT
creds=$data/data/admin-credentials.json
admin_token=$(curl -sf -u "$(jq -r .client_id "$creds"):$(jq -r .client_secret "$creds")" \
  -d grant_type=client_credentials -d resource=urn:tessera:admin "$base/oauth2/token" | jq -r .access_token)

# Registrations, many requests per curl process (one connection each); the bodies come from one
# jq program per kind, with $i the item's number.
batch() { # path jq-program count
  jq -rn --argjson n "$3" --argjson scopes "$SCOPES" --arg url "$base$1" --arg token "$admin_token" "
    range(0; \$n) as \$i | ($2) as \$body |
    (if \$i > 0 then \"next\\n\" else \"\" end) + \"url = \\(\$url | tojson)\\nrequest = \\\"POST\\\"\\nheader = \\(\"authorization: Bearer \" + \$token | tojson)\\nheader = \\\"content-type: application/json\\\"\\ndata = \\(\$body | tojson | tojson)\\noutput = \\\"/dev/null\\\"\"
  " > "$data/batch.cfg"
  curl -s --fail-early -K "$data/batch.cfg"
}
echo "registering $SCOPES scopes and $CLIENTS clients…" >&2
t0=$(date +%s)
batch /admin/api/v1/scopes '{name: "svc\($i % 50).obj\($i).read", description: "benchmark scope \($i)", permissions: ["GET /api/obj\($i)"]}' "$SCOPES"
batch /admin/api/v1/clients '{name: "bench client \($i)", client_id: "client-\($i)", enabled: ($i % 7 != 0), allowed_scopes: ["svc\($i % 50).obj\($i % $scopes).read"]} + (if $i % 10 == 0 then {grant_types: ["authorization_code"], redirect_uris: ["https://app.example.com/cb"]} else {grant_types: ["client_credentials"]} end)' "$CLIENTS"
echo "registered in $(( $(date +%s) - t0 )) s" >&2

# A console admin, signed in through the real flow (sign-in page, code, callback).
printf 'a long bench passphrase\n' | "$bin" user create bench --role admin \
  --server "$base" --admin-credentials "$creds" >/dev/null
jar=$data/cookies
login_page=$(curl -s -L -c "$jar" -b "$jar" "$base/admin/login")
field() { sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" <<<"$login_page" | head -1 | sed 's/&#38;/\&/g; s/&amp;/\&/g'; }
curl -s -L -c "$jar" -b "$jar" -o /dev/null \
  --data-urlencode "csrf=$(field csrf)" --data-urlencode "return_to=$(field return_to)" \
  --data-urlencode username=bench --data-urlencode 'password=a long bench passphrase' "$base/login"
curl -s -b "$jar" "$base/admin/" | grep -q 'id="count-clients"' || { echo "console sign-in failed" >&2; exit 1; }

measure() { # label path
  local cfg=$data/measure.cfg
  : > "$cfg"
  for i in $(seq "$N"); do
    [ "$i" -gt 1 ] && echo next >> "$cfg"
    # Options end at `next`: each request names the cookie jar.
    printf 'url = "%s%s"\ncookie = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_pretransfer} %%{time_starttransfer}\\n"\n' "$base" "$2" "$jar" >> "$cfg"
  done
  curl -s -K "$cfg" | awk -v label="$1" '
    $1 != 200 { bad++ }
    { ms[NR] = ($3 - $2) * 1000 }
    END {
      n = asort(ms)
      printf "%-44s n=%d median=%.1f ms p95=%.1f ms max=%.1f ms bad=%d\n", label, n, ms[int((n + 1) / 2)], ms[int(n * 0.95)], ms[n], bad
    }'
}
{
  echo "console pages, $CLIENTS clients, $SCOPES scopes, server on CPU $SERVER_CPUS"
  curl -s -b "$jar" "$base/admin/clients" | grep -q 'id="clients"' || { echo "not signed in" >&2; exit 1; }
  measure "overview /admin/" "/admin/"
  measure "clients, first page by name" "/admin/clients"
  measure "clients, page 100 by created desc" "/admin/clients?sort=created&dir=desc&page=100"
  measure "clients, search 'client-99'" "/admin/clients?q=client-99"
  measure "clients, authorization_code and inactive" "/admin/clients?grant=authorization_code&status=inactive"
  measure "clients, sorted by status, last page" "/admin/clients?sort=status&page=200"
  measure "scopes, all 1,000 by service" "/admin/scopes"
  measure "a scope's drill-down" "/admin/scopes/svc7.obj7.read"
  measure "new client form (every scope a checkbox)" "/admin/clients/new"
  measure "edit a client (every scope a checkbox)" "/admin/clients/client-7/edit"
  measure "users" "/admin/users"
  measure "a user's page" "/admin/users/bench"
  measure "keys" "/admin/keys"
  measure "audit log" "/admin/audit"
} | tee "$results"
