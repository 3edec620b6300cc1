#!/usr/bin/env bash
# Runs the client-go protobuf test (protobuf_test.go) against a kubeconfig, or,
# without one, against a `kubedriver emulator` it starts (needs `npm run build`,
# which bin/kubedriver.js does when the build is stale).
#
#   bash test/clientgo/run.sh              # the emulator
#   bash test/clientgo/run.sh KUBECONFIG   # e.g. a real control plane
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -ge 1 ]; then
  kubeconfig=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/kubedriver-clientgo-XXXXXX")
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  node "$root/bin/kubedriver.js" emulator --listen "127.0.0.1:$port" --kubeconfig-out "$work/kubeconfig" >"$work/emulator.log" 2>&1 &
  emulator=$!
  trap 'kill $emulator 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 1 600); do [ -s "$work/kubeconfig" ] && break; sleep 0.1; done
  [ -s "$work/kubeconfig" ] || { cat "$work/emulator.log"; exit 1; }
  kubeconfig=$work/kubeconfig
fi
cd "$here"
KUBEDRIVER_CLIENTGO_KUBECONFIG=$kubeconfig go test -count=1 -v ./...
