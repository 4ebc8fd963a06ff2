#!/usr/bin/env bash
# Tokens per second for JWT (ES256) and opaque tokens: one instance on SQLite, one instance on
# PostgreSQL, two instances on one PostgreSQL (load split over both), in one run.
#
# usage: bench/cluster-bench.sh
# env:   WARMUP=5 DURATION=20 (per measurement)  PG=postgres://postgres@127.0.0.1:5432/postgres
# Prints one line per setup and format, then the ratios the targets are stated in.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=${TESSERA_PEER_BENCH:-$root/../shared/bench/peer}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres}
echo "building tessera (release)…" >&2
(cd "$root" && cargo build --release -q -p tessera)
bin=$root/target/release/tessera
work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
out=$root/bench/out; mkdir -p "$out"; results=$out/cluster-$(date +%Y%m%d-%H%M%S).txt

serve() { # name port database_url
  local dir=$work/$1
  mkdir -p "$dir"
  [ -f "$work/master.key" ] || head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=' > "$work/master.key"
  (cd "$dir" && TESSERA_LISTEN=127.0.0.1:$2 TESSERA_ISSUER=http://tessera.bench TESSERA_LOG_LEVEL=warn \
    TESSERA_SECRETS_MASTER_KEY_FILE=$work/master.key exec env ${3:+TESSERA_DATABASE_URL=$3} "$bin" serve > serve.log 2>&1) &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "instance $1 did not start" >&2; cat "$dir/serve.log" >&2; exit 1
}

setup_clients() { # port credentials-dir -> prints "jwt_id jwt_secret opaque_id opaque_secret"
  local base=http://127.0.0.1:$1 creds=$2/tessera-data/admin-credentials.json
  local tok
  tok=$(curl -sf -u "$(jq -r .client_id "$creds"):$(jq -r .client_secret "$creds")" -d grant_type=client_credentials "$base/oauth2/token" | jq -r .access_token)
  local j o
  j=$(curl -sf -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"name":"bench-jwt","access_token_format":"jwt"}' "$base/admin/api/v1/clients")
  o=$(curl -sf -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"name":"bench-opaque","access_token_format":"opaque"}' "$base/admin/api/v1/clients")
  echo "$(jq -r .client_id <<<"$j") $(jq -r .client_secret <<<"$j") $(jq -r .client_id <<<"$o") $(jq -r .client_secret <<<"$o")"
}

fresh_pg() {
  local name=tessera_bench_$$_$1
  psql "$PG" -qAt -c "DROP DATABASE IF EXISTS $name" >/dev/null
  psql "$PG" -qAt -c "CREATE DATABASE $name" >/dev/null
  echo "${PG%/*}/$name"
}

load1() { # label port id secret
  printf '%s: ' "$1"
  "$peer/token-load.sh" "http://127.0.0.1:$2/oauth2/token" "$3" "$4"
}

{
echo "# $(date -u +%FT%TZ) $(nproc) cores; load generator on the same machine"
serve sqlite 18101 ""
read -r jid jsec oid osec < <(setup_clients 18101 "$work/sqlite")
load1 "sqlite 1 instance jwt" 18101 "$jid" "$jsec"
load1 "sqlite 1 instance opaque" 18101 "$oid" "$osec"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

url=$(fresh_pg one)
serve pg1 18102 "$url"
read -r jid jsec oid osec < <(setup_clients 18102 "$work/pg1")
load1 "postgres 1 instance jwt" 18102 "$jid" "$jsec"
load1 "postgres 1 instance opaque" 18102 "$oid" "$osec"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

url=$(fresh_pg two)
serve pgA 18103 "$url"
serve pgB 18104 "$url"
read -r jid jsec oid osec < <(setup_clients 18103 "$work/pgA")
for kind in jwt opaque; do
  if [ $kind = jwt ]; then id=$jid sec=$jsec; else id=$oid sec=$osec; fi
  THREADS=1 CONNS=16 "$peer/token-load.sh" "http://127.0.0.1:18103/oauth2/token" "$id" "$sec" > "$work/a.txt" & load_a=$!
  THREADS=1 CONNS=16 "$peer/token-load.sh" "http://127.0.0.1:18104/oauth2/token" "$id" "$sec" > "$work/b.txt"
  wait "$load_a" || true
  printf 'postgres 2 instances %s: A %s | B %s\n' "$kind" "$(cat "$work/a.txt")" "$(cat "$work/b.txt")"
done
} | tee "$results"

python3 - "$results" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def one(label):
    m = re.search(re.escape(label) + r": tokens_per_s=(\d+)", t)
    return int(m.group(1)) if m else None
def two(kind):
    m = re.search(r"postgres 2 instances " + kind + r": A tokens_per_s=(\d+).*\| B tokens_per_s=(\d+)", t)
    return int(m.group(1)) + int(m.group(2)) if m else None
sj, so = one("sqlite 1 instance jwt"), one("sqlite 1 instance opaque")
pj, po = one("postgres 1 instance jwt"), one("postgres 1 instance opaque")
tj, to = two("jwt"), two("opaque")
print("summary (tokens/s, same run):")
print(f"  jwt:    sqlite {sj}, postgres {pj} ({100*pj/sj:.0f}% of sqlite), postgres x2 {tj}")
print(f"  opaque: sqlite {so}, postgres {po}, postgres x2 {to}")
PY
echo "raw results: $results" >&2
