#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test of every crate.
# Installs or starts what the tests need (Node.js 22 + oidc-provider for interop tests are
# installed by those tests themselves into testing/oidc-peer); fails loudly when something is
# missing, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }

# Disk: the debug target (~3.5 GB), the fuzz build (~2 GB), test data and the browser need room;
# a build that runs out of it fails deep inside rustc, so say it first.
need_gb=${TESSERA_TEST_MIN_FREE_GB:-8}
free_gb=$(df -Pk . | awk 'NR == 2 { print int($4 / 1048576) }')
if [ "$free_gb" -lt "$need_gb" ]; then
  echo "the test suite needs ${need_gb} GB free on $(df -P . | awk 'NR == 2 { print $6 }'); ${free_gb} GB are" >&2
  exit 1
fi
command -v npm >/dev/null || {
  say "installing Node.js and npm (Debian) for the oidc-provider interop tests"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
}

# Chromium and chromedriver: the page tests drive a real headless browser.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "installing Debian's chromium and chromium-driver for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
[ -x /usr/bin/chromedriver ] || { echo "the browser tests need /usr/bin/chromium and /usr/bin/chromedriver" >&2; exit 1; }

# PostgreSQL: the store and cluster tests need one. Start it when installed and stopped; create a
# fresh database for this run; fail loudly when there is none.
PGHOST_PORT=${TESSERA_TEST_PG_HOSTPORT:-127.0.0.1:5432}
pg_up() { pg_isready -q -h "${PGHOST_PORT%:*}" -p "${PGHOST_PORT#*:}"; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 50); do pg_up && break; sleep 0.2; done
  fi
fi
pg_up || { echo "PostgreSQL is required at $PGHOST_PORT (trust auth, user postgres) and is not running" >&2; exit 1; }
pg() { psql -h "${PGHOST_PORT%:*}" -p "${PGHOST_PORT#*:}" -U postgres -qAt "$@" postgres; }
# Drops the databases test runs make (per run and per test), all but the one named in $1.
drop_test_databases() {
  local db
  for db in $(pg -c "SELECT datname FROM pg_database WHERE datname LIKE 'tessera\_t\_%' OR (datname LIKE 'tessera\_run\_%' AND datname <> '${1:-}')"); do
    pg -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
run_db=tessera_run_$$
pg -c "CREATE DATABASE $run_db" >/dev/null
# Databases left by an earlier run that was killed are dropped now; this run's, when it ends.
drop_test_databases "$run_db"
trap drop_test_databases EXIT
export TESSERA_TEST_POSTGRES_URL=postgres://postgres@$PGHOST_PORT/$run_db

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "cargo test"
mkdir -p target
cargo test --workspace --locked --no-fail-fast 2>&1 | tee target/test-output.txt
say "server API tests again, on PostgreSQL"
# `--workspace` selects the target with the features the run above built it with (with `-p` it
# was built again, over 3 minutes).
TESSERA_TEST_BACKEND=postgres cargo test --workspace --locked --test api 2>&1 | tee -a target/test-output.txt
# Fail loudly when a test binary ran no test at all.
if ! grep -q "test result: ok" target/test-output.txt; then
  echo "no test ran" >&2
  exit 1
fi

# ---- fuzzing (docs/fuzzing.md) ------------------------------------------------------------------
# Every fuzz target briefly, so that a regression in a parser shows up; fails on any finding.
# scripts/fuzz.sh installs cargo-fuzz when it is missing and needs no nightly toolchain.
say "fuzz targets, ${CI_FUZZ_SECONDS:-30} s each"
FUZZ_SECONDS=${CI_FUZZ_SECONDS:-30} ./scripts/fuzz.sh
# ---- end of fuzzing -----------------------------------------------------------------------------
