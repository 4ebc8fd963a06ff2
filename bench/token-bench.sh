#!/usr/bin/env bash
# Tokens per second from POST /oauth2/token (client_credentials, client_secret_basic), Tessera next
# to node-oidc-provider under the same wrk load, variant by variant in one run, each next to the
# machine's signing rate measured right after it.
#
# usage: bench/token-bench.sh [VARIANT ...]   variants: es256 rs256 eddsa opaque ceiling (default: all)
#        ceiling: the sign_only example (crates/tessera-server/examples/sign_only.rs), a server that
#        only signs an ES256 token per request, under the same load: with hyper (Tessera's HTTP
#        stack) on a multi-threaded runtime, the same hyper on one runtime per core, and a minimal
#        per-core HTTP/1.1 loop. The ceiling for any signed token here.
# env:   WARMUP=5 DURATION=20 CONNS=32 THREADS=2 (passed to token-load.sh)
#        PEER=0 to skip node-oidc-provider; PEER_WORKERS=2 (one per core)
#        PORT=18080 for Tessera
#        BIN=path  use this tessera binary as it is (no build): to compare two builds alternately
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

if [ -z "${BIN:-}" ]; then
  echo "building tessera (release)…" >&2
  (cd "$root" && cargo build --release -q -p tessera)
fi
case " $* " in *" ceiling "*) (cd "$root" && cargo build --release -q -p tessera-server --example sign_only) ;; esac
bin=${BIN:-$root/target/release/tessera}

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

# The machine's two-core signing rate for one algorithm, measured now.
signing_rate() { # ALG
  local name
  case $1 in ES256) name=ecdsap256 ;; RS256) name=rsa2048 ;; EdDSA) name=ed25519 ;; esac
  openssl speed -multi 2 -seconds 3 "$name" 2>/dev/null | awk -v alg="$1" '
    /ecdsa \(nistp256\)/ || /^rsa 2048 bits/ || /EdDSA \(Ed25519\)/ {print "  " alg " sign/s " $(NF-1)}'
}

{
echo "# $(date -u +%FT%TZ) $(nproc) cores; load generator on the same machine"
echo "# per variant, side by side: Tessera, then node-oidc-provider, then openssl speed -multi 2"
for v in "$@"; do
  case $v in
    es256) c=$(make_client bench-es256 jwt ES256); theirs=jwt:ES256; alg=ES256 ;;
    rs256) c=$(make_client bench-rs256 jwt RS256); theirs=jwt:RS256; alg=RS256 ;;
    eddsa) c=$(make_client bench-eddsa jwt EdDSA); theirs=jwt:EdDSA; alg=EdDSA ;;
    opaque) c=$(make_client bench-opaque opaque ""); theirs=opaque:-; alg= ;;
    ceiling) continue ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  id=$(jq -r .client_id <<<"$c"); secret=$(jq -r .client_secret <<<"$c")
  printf 'tessera %s: ' "$v"
  SERVER_PID=$pid "$peer/token-load.sh" "$base/oauth2/token" "$id" "$secret" core.bench.read
  # Tessera stays up, idle, while the peer is measured.
  [ "${PEER:-1}" = 0 ] || WORKERS=${PEER_WORKERS:-2} "$peer/run-peer.sh" "$theirs"
  [ -z "$alg" ] || signing_rate "$alg"
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

case " $* " in *" ceiling "*)
  for mode in hyper hyper-per-core minimal; do
    "$root/target/release/examples/sign_only" "$mode" "$PORT" > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -s -o /dev/null -X POST "$base/" && break; sleep 0.1; done
    printf 'sign-only %s: ' "$mode"
    SERVER_PID=$pid "$peer/token-load.sh" "$base/oauth2/token" any any core.bench.read
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
  signing_rate ES256 | sed 's/ES256 sign/ES256 (ceiling) sign/' ;;
esac
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
for mode in ("hyper", "hyper-per-core", "minimal"):
    t, s = tps("sign-only " + mode + ":"), sign(r"ES256 \(ceiling\)")
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
