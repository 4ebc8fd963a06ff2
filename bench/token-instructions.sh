#!/usr/bin/env bash
# Instructions per token request, counted by callgrind: repeatable whatever else the machine does,
# so a change to the token path can be judged in one run, without the noise of a load test.
#
# usage: bench/token-instructions.sh [REQUESTS]     (default 2000)
# env:   PORT=18333; KEEP=FILE keeps callgrind's output there (for callgrind_annotate)
# Starts the release `tessera` under `valgrind --tool=callgrind`, collecting only inside the token
# handler, creates an ES256 client, sends REQUESTS client-credentials requests (Basic) one after
# another on one keep-alive connection, and prints the instructions per request, in all and in
# the signature. Under valgrind aws-lc runs its generic code paths, so the signature's share is
# higher than on the real CPU.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
PORT=${PORT:-18333}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }
(cd "$root" && cargo build --release -q -p tessera)
d=$(mktemp -d); base=http://127.0.0.1:$PORT
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
TESSERA_LISTEN=127.0.0.1:$PORT TESSERA_DATA_DIR=$d/data valgrind --tool=callgrind \
  --callgrind-out-file="$d/cg.out" --toggle-collect='*oauth*token*token*' \
  "$root/target/release/tessera" serve > "$d/log" 2>&1 &
pid=$!
for _ in $(seq 600); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done
creds=$d/data/admin-credentials.json
at=$(curl -sf -u "$(jq -r .client_id "$creds"):$(jq -r .client_secret "$creds")" \
  -d grant_type=client_credentials "$base/oauth2/token" | jq -r .access_token)
curl -sf -H "authorization: Bearer $at" -H 'content-type: application/json' \
  -d '{"name":"core.bench.read","description":"benchmark scope"}' "$base/admin/api/v1/scopes" >/dev/null
c=$(curl -sf -H "authorization: Bearer $at" -H 'content-type: application/json' \
  -d '{"name":"bench","grant_types":["client_credentials"],"allowed_scopes":["core.bench.read"],"default_scopes":["core.bench.read"],"audiences":["https://api.bench.example/"]}' \
  "$base/admin/api/v1/clients")
python3 - "$(jq -r .client_id <<<"$c")" "$(jq -r .client_secret <<<"$c")" "$PORT" "$n" <<'PY'
import base64, http.client, sys, urllib.parse as u
cid, sec, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
auth = base64.b64encode(f"{u.quote(cid, safe='')}:{u.quote(sec, safe='')}".encode()).decode()
conn = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    conn.request("POST", "/oauth2/token", body="grant_type=client_credentials&scope=core.bench.read",
                 headers={"Authorization": "Basic " + auth, "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse(); r.read()
    assert r.status == 200, r.status
PY
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
[ -n "${KEEP:-}" ] && cp "$d/cg.out" "$KEEP"
# The admin token request above is one more token request inside the collected region.
callgrind_annotate --inclusive=yes "$d/cg.out" 2>/dev/null | awk -v n="$((n + 1))" '
  /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
  /tessera_jose::signing::SigningKey::sign \[/ { gsub(",", "", $1); sig = $1 }
  END { printf "instructions per token request: %.0f (signature %.0f, the rest %.0f)\n", total / n, sig / n, (total - sig) / n }'
