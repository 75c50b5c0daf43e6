#!/usr/bin/env bash
# Load on the local host: builds `agencyops` and `agencyops-load` with the bench
# profile (opt-level 3; the release profile is sized for Lambda packages),
# starts `agencyops serve` on a fresh data dir (on a free loopback port) and
# runs the bench's scenarios against it, printing a markdown table (the
# README's "Load on the local host"). Each run gets a fresh server, so each
# row's peak RSS is that server's own.
# Not part of tests/run.sh: it takes minutes and its figures are the point.
# Usage: bash tests/load.sh               creates, mix, drafts (10 s each)
#        SOAK_SECS=600 bash tests/load.sh  also the 10-minute soak
#        LOAD_SECS=20 CONNS=16 ...        longer runs, other connection counts
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=${CARGO_TARGET_DIR:-target}
SECS=${LOAD_SECS:-10}
CONNS=${CONNS:-16}
SOAK_SECS=${SOAK_SECS:-0}

# The bench profile builds into target/release, as release does.
cargo build --profile bench --locked -p agencyops -p agencyops-load --quiet
BIN="$TARGET/release/agencyops"
LOAD="$TARGET/release/agencyops-load"

SERVER=
DATA=
stop() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  if [ -n "$DATA" ]; then rm -rf "$DATA"; fi
  SERVER=
  DATA=
}
trap stop EXIT

# Starts a server on a fresh data dir; sets SERVER, DATA and BASE.
start() {
  DATA=$(mktemp -d)
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  BASE="http://127.0.0.1:$port"
  "$BIN" --data "$DATA" serve --addr "127.0.0.1:$port" 2>"$DATA/serve.log" &
  SERVER=$!
  for _ in $(seq 1 100); do
    if curl -fsS "$BASE/health" >/dev/null 2>&1; then return; fi
    if ! kill -0 "$SERVER" 2>/dev/null; then
      echo "agencyops serve exited:" >&2
      cat "$DATA/serve.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  curl -fsS "$BASE/health" >/dev/null
}

bench() {
  start
  "$LOAD" --base "$BASE" --bin "$BIN" --data "$DATA" --pid "$SERVER" --conns "$CONNS" "$@"
  stop
}

echo "Load on $(nproc) cores, $(date -u +%Y-%m-%d), $CONNS connections, $SECS s per scenario"
echo
echo "| scenario | req/s | p50 | p99 | max | errors | peak RSS | goal | met? |"
echo "|---|---|---|---|---|---|---|---|---|"
bench --secs "$SECS" creates
bench --secs "$SECS" mix
bench --secs "$SECS" drafts
if [ "$SOAK_SECS" -gt 0 ]; then
  bench --secs "$SOAK_SECS" --warmup 60 soak
fi
