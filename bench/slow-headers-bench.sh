#!/usr/bin/env bash
# Memory under slow, unfinished request heads: the server's RSS before, during and after CONNS
# connections that each send part of a request head and then stop, never finishing it.
#
# usage: bench/slow-headers-bench.sh
# env:   SERVER_CPUS=0   CPUs (taskset list) for Tessera
#        LOAD_CPUS=1     CPUs for the load generator (Python asyncio)
#        CONNS=2000      connections per phase
#        HOLD=30000      bytes of unfinished head each connection sends in the "hold" phase (under
#                        http.max_header_bytes, so they stay open until http.header_read_timeout_secs)
#        BIG=400000      bytes each connection tries to send in the "big" phase (the issue's ~390 KB;
#                        over the cap, so the server answers 431 and closes)
#        SETTLE=10       seconds after the connections close (with a /healthz every 0.2 s) before
#                        reading "after"
#        PORT=18090      Tessera's port
#        BIN=path        use this tessera binary as it is (no build)
# Prints, per phase, the server's RSS (VmRSS, MB) before, while the connections are open, and after
# they are closed; the largest RSS seen during the phase; how many connections the server answered 431
# or closed; and /healthz's time while they were open. Results are kept in bench/out/ (not committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v taskset >/dev/null || { echo "need taskset (util-linux)" >&2; exit 1; }
export SERVER_CPUS=${SERVER_CPUS:-0} LOAD_CPUS=${LOAD_CPUS:-1}
CONNS=${CONNS:-2000} HOLD=${HOLD:-30000} BIG=${BIG:-400000} SETTLE=${SETTLE:-10}
PORT=${PORT:-18090}
out=$root/bench/out; mkdir -p "$out"
results=$out/slow-headers-$(date +%Y%m%d-%H%M%S).txt
# Two phases of CONNS connections, plus the server's own files.
ulimit -n "$(( $(ulimit -Hn) < 65536 ? $(ulimit -Hn) : 65536 ))"

if [ -z "${BIN:-}" ]; then
  echo "building tessera (release)…" >&2
  (cd "$root" && cargo build --release -q -p tessera)
fi
bin=${BIN:-${CARGO_TARGET_DIR:-$root/target}/release/tessera}

data=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
TESSERA_LISTEN=127.0.0.1:$PORT TESSERA_DATA_DIR=$data/data taskset -c "$SERVER_CPUS" "$bin" serve > "$data/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

{
echo "# $(date -u +%FT%TZ) $(nproc) cores; server on CPUs $SERVER_CPUS, load on CPUs $LOAD_CPUS; $CONNS connections per phase; $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
taskset -c "$LOAD_CPUS" python3 - "$PORT" "$pid" "$CONNS" "$HOLD" "$BIG" "$SETTLE" <<'PY'
import asyncio, sys, time
port, pid, conns, hold, big, settle = (int(a) for a in sys.argv[1:])

def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")

async def healthz_ms():
    started = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        w.write(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        await w.drain()
        answer = await asyncio.wait_for(r.read(), 10)
        w.close()
        ok = answer.startswith(b"HTTP/1.1 200")
    except (OSError, asyncio.TimeoutError):
        ok = False
    return (time.monotonic() - started) * 1000 if ok else float("inf")

async def slow_head(size, writers, results):
    """Sends `size` bytes of a head that never ends, in 4 KiB pieces; keeps the connection."""
    async with writers:
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            results["connect_failed"] += 1
            return None
        head = b"GET / HTTP/1.1\r\nhost: x\r\n"
        line = b"x-filler: " + b"a" * 4000 + b"\r\n"
        sent = len(head)
        try:
            w.write(head)
            while sent < size:
                piece = line[: min(len(line), size - sent)]
                w.write(piece)
                sent += len(piece)
                await w.drain()
        except OSError:
            pass
    return r, w

async def answered(r, results):
    """What the server did with a connection: answered 431, closed it, or nothing yet."""
    try:
        got = await asyncio.wait_for(r.read(64), 0.01)
    except asyncio.TimeoutError:
        return
    except OSError:
        results["closed"] += 1
        return
    if got.startswith(b"HTTP/1.1 431"):
        results["431"] += 1
    else:
        results["closed"] += 1

async def phase(name, size):
    before = rss_mb()
    peak = before
    results = {"connect_failed": 0, "431": 0, "closed": 0}
    writers = asyncio.Semaphore(200)
    tasks = [asyncio.create_task(slow_head(size, writers, results)) for _ in range(conns)]
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=0.2)
        peak = max(peak, rss_mb())
    opened = [t.result() for t in tasks if t.result()]
    peak = max(peak, rss_mb())
    during = rss_mb()
    health = await healthz_ms()
    await asyncio.gather(*(answered(r, results) for r, _ in opened))
    for _, w in opened:
        w.close()
    # A probe every 0.2 s meanwhile, as a load balancer would send: an allocator may hand freed
    # memory back only when it is next called.
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        peak = max(peak, rss_mb())
        await healthz_ms()
        await asyncio.sleep(0.2)
    after = rss_mb()
    print(f"{name}: head_bytes={size} conns={conns} before_mb={before:.1f} during_mb={during:.1f} "
          f"peak_mb={peak:.1f} after_mb={after:.1f} answered_431={results['431']} "
          f"closed={results['closed']} connect_failed={results['connect_failed']} "
          f"healthz_during_ms={health:.1f}", flush=True)

async def main():
    # Warm up: a few requests, so that "before" is a server that has served.
    for _ in range(20):
        await healthz_ms()
    await phase("hold", hold)
    await phase("big", big)

asyncio.run(main())
PY
} | tee "$results"
echo "raw results: $results" >&2
