# Sourced by token-bench.sh and token-ab.sh: the tools they need, and Tessera on SQLite in a folder
# of its own, pinned to SERVER_CPUS, with the benchmark's scope and clients made through the admin
# API.

# need COMMAND PACKAGE: installs the Debian PACKAGE when COMMAND is missing.
need() {
  command -v "$1" >/dev/null && return
  echo "installing $2 (Debian)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# start_tessera BIN PORT DIR: starts `tessera serve` with its data in DIR/data and its log in
# DIR/serve.log, and waits until it is ready; sets tessera_pid, base (its URL) and admin_token (the
# bootstrap admin's), and registers the scope `core.bench.read`.
start_tessera() {
  local creds
  TESSERA_LISTEN=127.0.0.1:$2 TESSERA_DATA_DIR=$3/data taskset -c "$SERVER_CPUS" "$1" serve > "$3/serve.log" 2>&1 &
  tessera_pid=$!
  base=http://127.0.0.1:$2
  for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
  creds=$3/data/admin-credentials.json
  admin_token=$(curl -sf -u "$(jq -r .client_id "$creds"):$(jq -r .client_secret "$creds")" \
    -d grant_type=client_credentials "$base/oauth2/token" | jq -r .access_token)
  curl -sf -H "authorization: Bearer $admin_token" -H 'content-type: application/json' \
    -d '{"name":"core.bench.read","description":"benchmark scope"}' "$base/admin/api/v1/scopes" >/dev/null
}

# make_client NAME FORMAT ALG: registers a client-credentials client of the server at $base
# (scope core.bench.read, audience https://api.bench.example/, tokens in FORMAT signed with ALG
# unless ALG is empty); prints the admin API's answer (client_id, client_secret).
make_client() {
  local body
  body=$(jq -n --arg n "$1" --arg f "$2" --arg a "$3" '{name:$n, grant_types:["client_credentials"],
    allowed_scopes:["core.bench.read"], default_scopes:["core.bench.read"], audiences:["https://api.bench.example/"],
    access_token_format:$f} + (if $a == "" then {} else {access_token_signing_alg:$a} end)')
  curl -sf -H "authorization: Bearer $admin_token" -H 'content-type: application/json' -d "$body" \
    "$base/admin/api/v1/clients"
}
