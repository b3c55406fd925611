#!/usr/bin/env bash
# The ceiling and the broker loaded by wrk (not by our own load generator), one after the other, with
# the same script: median requests/s of RUNS runs each and the ratio. Needs `npm run build` and wrk.
# Usage: bench/load/wrk-compare.sh [memory|redis]   (redis: REDIS_URL, default redis://127.0.0.1:6379,
#        with BROKER_PREFIX keys, default hermod-wrk-<pid>, deleted afterwards)
# Env: RUNS (3), DURATION (10 s), CONNECTIONS (32); pinned like npm run bench: wrk on CPU 0, server on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
STORE=${1:-memory}
RUNS=${RUNS:-3}; DURATION=${DURATION:-10}; CONNECTIONS=${CONNECTIONS:-32}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}; PREFIX=${BROKER_PREFIX:-hermod-wrk-$$}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[ -f dist/bench/ceiling.js ] || { echo "run npm run build first" >&2; exit 2; }
pin () { if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi; }
# For `serve ... &`: exec, so that $! is the server itself (taskset execs too) and kill reaches it.
serve () { if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then exec taskset -c 1 "$@"; else exec "$@"; fi; }
port () { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
KEY=$(node -e "console.log(require('crypto').randomBytes(32).toString('hex'))")
export HERMOD_API_KEY=$(printf 'wrk:%s' "$KEY" | base64 -w0)
DIR=$(mktemp -d); SERVER=""
cleanup () { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

wait_for () { for _ in $(seq 1 100); do curl -sk -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer at $1" >&2; exit 1; }
load () { # url -> median requests/s over RUNS runs (after a 2 s warm-up)
  pin 0 wrk -t1 -c"$CONNECTIONS" -d2s -s bench/load/accept.lua "$1" >/dev/null
  for _ in $(seq 1 "$RUNS"); do
    pin 0 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/load/accept.lua "$1" | tee -a "$DIR/wrk.log" | awk '/Requests\/sec/ {print $2}'
  done | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

P=$(port)
serve node dist/bench/ceiling.js --port "$P" > "$DIR/ceiling.log" 2>&1 & SERVER=$!
wait_for "https://127.0.0.1:$P/"
CEILING=$(load "https://127.0.0.1:$P/hermod/rest/command/sign")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

P=$(port)
cat > "$DIR/application.yml" <<YML
server: { port: $P, address: 127.0.0.1, servlet: { context-path: /hermod }, ssl: { enabled: true } }
allowed-clients: [ { client-id: wrk, key: $KEY, group: wrk } ]
broker: { store: $STORE, log: { level: warn }, redis: { url: "$REDIS_URL", prefix: "$PREFIX" } }
YML
serve node dist/src/cli/main.js start --config "$DIR/application.yml" > "$DIR/broker.log" 2>&1 & SERVER=$!
wait_for "https://127.0.0.1:$P/hermod/actuator/health/readiness"
BROKER=$(load "https://127.0.0.1:$P/hermod/rest/command/sign")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
if [ "$STORE" = redis ] && command -v redis-cli >/dev/null; then
  redis-cli -u "$REDIS_URL" --scan --pattern "$PREFIX:*" | xargs -r -n 1000 redis-cli -u "$REDIS_URL" del >/dev/null
fi
grep -h "non-2xx" "$DIR/wrk.log" | awk '{s+=$4} END {if (s>0) print "warning: " s " non-2xx answers"}'
node -e "const [c,b]=[+process.argv[1],+process.argv[2]];console.log(JSON.stringify({store:process.argv[3],runs:+process.argv[4],durationS:+process.argv[5],connections:+process.argv[6],ceilingPerSecond:c,brokerPerSecond:b,ratio:+(b/c).toFixed(3)}))" "$CEILING" "$BROKER" "$STORE" "$RUNS" "$DURATION" "$CONNECTIONS"
