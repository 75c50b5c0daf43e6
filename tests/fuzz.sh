#!/usr/bin/env bash
# Fuzzes the real local host against its own OpenAPI document with every
# schemathesis check: no 5xx, every error problem+json, every response matching
# its schema, no schema-valid request refused. `agencyops serve --demo` runs on a
# free loopback port over a throwaway data dir; the admin token drives the full
# run, and each other role a shorter one, since what a role may do changes the
# answers.
# Configuration and each accepted exception live in schemathesis.toml.
# Usage: bash tests/fuzz.sh   (needs .venv with schemathesis; tests/run.sh sets it up)
set -euo pipefail
cd "$(dirname "$0")/.."

ST=.venv/bin/schemathesis
TARGET=${CARGO_TARGET_DIR:-target}
# Kept small so the whole run stays well under 5 minutes on a 2-core machine.
ADMIN_EXAMPLES=${FUZZ_ADMIN_EXAMPLES:-10}
ROLE_EXAMPLES=${FUZZ_ROLE_EXAMPLES:-5}
REPORTS=${FUZZ_REPORTS:-$TARGET/fuzz}

# The same build as the test run's (workspace features), so after it this is a
# no-op; `-p agencyops` alone would resolve features anew and rebuild the SDK.
cargo test --workspace --locked --no-run --quiet
BIN="$TARGET/debug/agencyops"

DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
mkdir -p "$REPORTS"
# The host counts each operation's DynamoDB calls over the demo set-up and the
# fuzzing, and writes the table when it stops (README "Round trips").
CALLS="$REPORTS/calls.md"
rm -f "$CALLS"
"$BIN" serve --demo --data "$DATA" --addr "127.0.0.1:$PORT" --count-calls "$CALLS" 2>"$DATA/serve.log" &
SERVER=$!
stop() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$DATA"
}
trap stop EXIT

for _ in $(seq 1 120); do
  if curl -fsS "$BASE/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "agencyops serve exited:" >&2
    cat "$DATA/serve.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "$BASE/health" >/dev/null

# serve --demo prints "  <role> <name> <token>" for each demo person.
token() { awk -v r="$1" '$1 == r && NF >= 3 { print $NF; exit }' "$DATA/serve.log"; }

# One schemathesis run as `role`, its output in $REPORTS/<role>.log; non-zero on any failure.
run() {
  local role=$1
  shift
  local tok
  tok=$(token "$role")
  if [ -z "$tok" ]; then
    echo "no demo token for role $role" >"$REPORTS/$role.log"
    return 1
  fi
  AGENCYOPS_TOKEN="$tok" "$ST" --no-color --config-file schemathesis.toml run "$BASE/openapi.json" \
    --url "$BASE" --checks all \
    --report junit --report-junit-path "$REPORTS/$role.xml" "$@" >"$REPORTS/$role.log" 2>&1
}

failed=()
# The admin run has every phase: examples, coverage (boundaries and each kind of
# invalid input), fuzzing, and stateful (following the links from each create).
# The other roles then run side by side, examples and fuzzing only, since what
# differs for them is who may see and do what: all within the 5-minute budget.
printf '\n==> schemathesis as admin (stateful)\n'
run admin --max-examples "$ADMIN_EXAMPLES" || failed+=(admin)
cat "$REPORTS/admin.log"
ROLES=(manager finance member contractor client)
pids=()
for role in "${ROLES[@]}"; do
  run "$role" --max-examples "$ROLE_EXAMPLES" --phases examples,fuzzing &
  pids+=($!)
done
for i in "${!ROLES[@]}"; do
  wait "${pids[$i]}" || failed+=("${ROLES[$i]}")
  printf '\n==> schemathesis as %s\n' "${ROLES[$i]}"
  cat "$REPORTS/${ROLES[$i]}.log"
done

kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
if [ -f "$CALLS" ]; then
  printf '\n==> DynamoDB calls per operation over this run (%s)\n' "$CALLS"
  cat "$CALLS"
else
  echo "the host wrote no call table" >&2
  failed+=(call-table)
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "schemathesis found contract failures as: ${failed[*]}" >&2
  exit 1
fi
echo "schemathesis: no failures for any role"
