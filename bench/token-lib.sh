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

# halt_poll: with HALT_POLL_NS set, an idle CPU of this (virtual) machine polls that many
# nanoseconds for work before halting, for as long as the script runs (restore_halt_poll puts the
# old value back); sets idle_poll to the setting in force, for the results' header. It needs the
# guest kernel's haltpoll idle driver (/sys/module/haltpoll/parameters/guest_halt_poll_ns).
# Why it matters here: on loopback the server's `writev` runs the load generator's receive path on
# the server's CPU and wakes wrk on the other CPU; when that CPU is halted the wake is an
# inter-processor interrupt, which in a VM is an exit to the hypervisor, charged to the server
# (perf: 13 % of the server's samples under `sock_def_readable` at the default of 0 ns). A client
# on another machine costs the server no such wake, so the figures are given both ways.
halt_poll_file=/sys/module/haltpoll/parameters/guest_halt_poll_ns
halt_poll() {
  if [ -n "${HALT_POLL_NS:-}" ]; then
    [ -w "$halt_poll_file" ] || { echo "HALT_POLL_NS needs the haltpoll idle driver ($halt_poll_file)" >&2; exit 1; }
    halt_poll_before=$(cat "$halt_poll_file")
    echo "$HALT_POLL_NS" > "$halt_poll_file"
  fi
  idle_poll="idle poll -"
  [ ! -r "$halt_poll_file" ] || idle_poll="idle poll $(cat "$halt_poll_file") ns"
}
restore_halt_poll() {
  [ -z "${halt_poll_before:-}" ] || echo "$halt_poll_before" > "$halt_poll_file"
}
