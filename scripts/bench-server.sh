#!/usr/bin/env bash
# bench-server: the side-by-side of ../shared/bench/n8n-peer.sh for
# Leverflow. It starts `leverflow serve` on 127.0.0.1 with a fresh data
# directory, saves the peer's workflow (trigger data -> set user and amount
# -> if amount > 100; every run saved to SQLite), and loads
# POST /api/v1/workflows/:id/runs?wait=30s (answered when the run has
# finished, like n8n's "respond when the last node finishes") at each
# concurrency for DURATION, then stops the server by its process id.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18181}
DURATION=${DURATION:-10s}
CONCURRENCIES=${CONCURRENCIES:-"1 10 50"}
TOKEN=bench-$(date +%s)-$RANDOM
DATA=$(mktemp -d)
BASE=http://127.0.0.1:$PORT

go build -o bin/leverflow ./cmd/leverflow
go build -o bin/loadgen ./scripts/loadgen

LEVERFLOW_ADMIN_TOKEN=$TOKEN bin/leverflow serve --addr 127.0.0.1:$PORT --data-dir "$DATA" \
  --examples=false --api-rate-limit=-1 >"$DATA/out.log" 2>"$DATA/err.log" &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

curl -fs -X POST "$BASE/api/v1/workflows?id=bench" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{
  "name": "webhook -> set -> if",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "set", "type": "transform", "input": {"value": {"user": "<<trigger.user>>", "amount": "<<trigger.amount>>"}}},
    {"id": "big", "type": "condition", "input": {"if": "<<steps.set.amount > 100>>"}}
  ],
  "edges": [{"from": "set", "to": "big"}]
}' >/dev/null

echo "leverflow serve ($(go version | awk '{print $3}')), webhook -> set -> if, every run saved, ?wait=30s:"
for c in $CONCURRENCIES; do
  bin/loadgen -url "$BASE/api/v1/workflows/bench/runs?wait=30s" -c "$c" -d "$DURATION" \
    -H "Authorization: Bearer $TOKEN" -body '{"user": "ada", "amount": 150}'
done
ps -o rss= -p "$PID" | awk '{printf "server RSS at the end: %.0f MB\n", $1/1024}'
