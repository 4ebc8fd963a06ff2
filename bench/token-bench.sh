#!/usr/bin/env bash
# Tokens per second from POST /oauth2/token (client_credentials, client_secret_basic), Tessera next
# to node-oidc-provider under the same wrk load, in one run, plus the machine's signing ceiling.
#
# usage: bench/token-bench.sh [VARIANT ...]   variants: es256 rs256 eddsa opaque ceiling (default: all)
#        ceiling: the sign_only example (crates/tessera-server/examples/sign_only.rs), a server that
#        only signs an ES256 token per request, under the same load: with hyper (Tessera's HTTP
#        stack) and with a minimal per-core HTTP/1.1 loop. The ceiling for any signed token here.
# env:   WARMUP=5 DURATION=20 CONNS=32 THREADS=2 (passed to token-load.sh)
#        PEER=0 to skip node-oidc-provider; PEER_WORKERS=2 (one per core)
#        PORT=18080 for Tessera
# Output: one line per server and variant (tokens_per_s p50_ms p99_ms bad cpu_us_per_token
# rss_peak_mb), the openssl signing rates, and the ratios the targets are stated in.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${TESSERA_PEER_BENCH:-$root/../shared/bench/peer}
[ -x "$peer/token-load.sh" ] || { echo "need ../shared/bench/peer beside the repository" >&2; exit 1; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
[ $# -gt 0 ] || set -- es256 rs256 eddsa opaque ceiling
PORT=${PORT:-18080}
out=$root/bench/out; mkdir -p "$out"
results=$out/results-$(date +%Y%m%d-%H%M%S).txt

echo "building tessera (release)…" >&2
(cd "$root" && cargo build --release -q -p tessera)
case " $* " in *" ceiling "*) (cd "$root" && cargo build --release -q -p tessera-server --example sign_only) ;; esac
bin=$root/target/release/tessera

data=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
TESSERA_LISTEN=127.0.0.1:$PORT TESSERA_DATA_DIR=$data/data "$bin" serve > "$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$PORT
creds=$data/data/admin-credentials.json

# Admin token, then one client per variant through the admin API.
admin_token=$(curl -sf -u "$(jq -r .client_id "$creds"):$(jq -r .client_secret "$creds")" \
  -d grant_type=client_credentials "$base/oauth2/token" | jq -r .access_token)
curl -sf -H "authorization: Bearer $admin_token" -H 'content-type: application/json' \
  -d '{"name":"core.bench.read","description":"benchmark scope"}' "$base/admin/api/v1/scopes" >/dev/null
make_client() { # name format alg
  local body
  body=$(jq -n --arg n "$1" --arg f "$2" --arg a "$3" '{name:$n, grant_types:["client_credentials"],
    allowed_scopes:["core.bench.read"], default_scopes:["core.bench.read"], audiences:["https://api.bench.example/"],
    access_token_format:$f} + (if $a == "" then {} else {access_token_signing_alg:$a} end)')
  curl -sf -H "authorization: Bearer $admin_token" -H 'content-type: application/json' -d "$body" \
    "$base/admin/api/v1/clients"
}

{
echo "# $(date -u +%FT%TZ) $(nproc) cores; load generator on the same machine"
for v in "$@"; do
  case $v in
    es256) c=$(make_client bench-es256 jwt ES256) ;;
    rs256) c=$(make_client bench-rs256 jwt RS256) ;;
    eddsa) c=$(make_client bench-eddsa jwt EdDSA) ;;
    opaque) c=$(make_client bench-opaque opaque "") ;;
    ceiling) continue ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  id=$(jq -r .client_id <<<"$c"); secret=$(jq -r .client_secret <<<"$c")
  printf 'tessera %s: ' "$v"
  SERVER_PID=$pid "$peer/token-load.sh" "$base/oauth2/token" "$id" "$secret" core.bench.read
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

case " $* " in *" ceiling "*)
  for mode in hyper minimal; do
    "$root/target/release/examples/sign_only" "$mode" "$PORT" > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -s -o /dev/null -X POST "$base/" && break; sleep 0.1; done
    printf 'sign-only %s: ' "$mode"
    SERVER_PID=$pid "$peer/token-load.sh" "$base/oauth2/token" any any core.bench.read
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done ;;
esac

if [ "${PEER:-1}" != 0 ]; then
  peer_variants=()
  for v in "$@"; do case $v in es256) peer_variants+=(jwt:ES256);; rs256) peer_variants+=(jwt:RS256);; eddsa) peer_variants+=(jwt:EdDSA);; opaque) peer_variants+=(opaque:-);; esac; done
  WORKERS=${PEER_WORKERS:-2} "$peer/run-peer.sh" "${peer_variants[@]}"
fi

echo "openssl speed -multi 2 (signatures/s on both cores):"
openssl speed -multi 2 -seconds 3 ecdsap256 rsa2048 ed25519 2>/dev/null | awk '
  /ecdsa \(nistp256\)/ {print "  ES256 sign/s " $(NF-1)}
  /^rsa 2048 bits/ {print "  RS256 sign/s " $(NF-1)}
  /EdDSA \(Ed25519\)/ {print "  EdDSA sign/s " $(NF-1)}'
} | tee "$results"

python3 - "$results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def tps(prefix):
    m = re.search(re.escape(prefix) + r".*?tokens_per_s=(\d+)", text)
    return int(m.group(1)) if m else None
def sign(alg):
    m = re.search(alg + r" sign/s ([\d.]+)", text)
    return float(m.group(1)) if m else None
rows = [("es256", "jwt:ES256", "ES256"), ("rs256", "jwt:RS256", "RS256"), ("eddsa", "jwt:EdDSA", "EdDSA"), ("opaque", "opaque:-", None)]
print("ratios (same run):")
for mode in ("hyper", "minimal"):
    t, s = tps("sign-only " + mode + ":"), sign("ES256")
    if t and s: print(f"  sign-only {mode} (ceiling): {t} tok/s, {100*t/s:.0f}% of the two-core ES256 signing rate")
for ours, theirs, alg in rows:
    t, p = tps("tessera " + ours + ":"), tps(theirs + ":")
    line = f"  {ours}: tessera {t} tok/s"
    if t and p: line += f", {t/p:.1f}x node-oidc-provider ({p})"
    s = sign(alg) if alg else None
    if t and s: line += f", {100*t/s:.0f}% of the two-core {alg} signing rate ({s:.0f}/s)"
    print(line)
PY
echo "raw results: $results" >&2
