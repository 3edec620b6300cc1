#!/usr/bin/env bash
# The README's operator walkthrough, run as written: start the demo server,
# call it with grpcurl through reflection only, stop it with SIGTERM and
# expect a clean exit.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
addr=127.0.0.1:$port
log=$(mktemp)
node dist/src/main.js serve --listen "$addr" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  grpcurl -plaintext "$addr" list >/dev/null 2>&1 && break
  sleep 0.1
done
set -x
# Each output is read whole before matching: `grep -q` stops at the first match,
# and under pipefail the SIGPIPE that gives grpcurl would fail the step.
services=$(grpcurl -plaintext "$addr" list)
grep -qx kubedriver.v1.Accounts <<<"$services"
methods=$(grpcurl -plaintext "$addr" list kubedriver.v1.ServerGroups)
grep -q CreateServerGroup <<<"$methods"
accounts=$(grpcurl -plaintext -d '{}' "$addr" kubedriver.v1.Accounts/ListAccounts)
grep -q '"name": "demo"' <<<"$accounts"
health=$(grpcurl -plaintext -d '{"service": "kubedriver.v1.Accounts"}' "$addr" grpc.health.v1.Health/Check)
grep -q SERVING <<<"$health"
set +x
if grep -q demo-password-not-secret "$log"; then echo "the demo registry password appeared in the log" >&2; exit 1; fi
kill -TERM $pid
wait $pid
echo "server exited cleanly after SIGTERM"
