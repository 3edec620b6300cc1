#!/usr/bin/env bash
# The client examples (examples/go, examples/typescript), built from this
# checkout's protos and run against a kubedriver served over TLS with bearer
# tokens, on the Kubernetes API emulator: a contract change that breaks a
# client breaks this step. Assumes `npm ci` has run (it builds dist/); Go
# modules come from the Go module proxy. Secrets stay in files, never in output.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pids=()
token="" password=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "examples: $*" >&2
  for log in "$work"/*.log; do
    echo "--- $log" >&2
    sed -e "s/$token/[token]/g" -e "s/$password/[password]/g" "$log" >&2
  done
  exit 1
}

echo "examples: building the Go client (stubs from proto/ with buf)"
bash examples/go/generate.sh
(cd examples/go && go build -o .bin/kubedriver-client .)
echo "examples: building the TypeScript client"
npx --no-install tsc -p examples/typescript

echo "examples: throwaway CA and server certificate for 127.0.0.1"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=kubedriver-examples-ca -keyout "$work/ca.key" -out "$work/ca.crt" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj /CN=127.0.0.1 -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -CAserial "$work/ca.srl" -days 1 -out "$work/server.crt" \
  -extfile <(printf '%s\n' subjectAltName=IP:127.0.0.1 extendedKeyUsage=serverAuth) 2>/dev/null

umask 077
token=$(openssl rand -hex 24)
password=$(openssl rand -hex 16)
cat >"$work/tokens.yaml" <<EOF
- {token: "$token", name: examples, groups: [deployers]}
EOF
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$work/kubedriver.yaml" <<EOF
server:
  listen: 127.0.0.1:$port
  tls: {certFile: $work/server.crt, keyFile: $work/server.key}
  auth: {tokensFile: $work/tokens.yaml}
kubernetes:
  healthCheckIntervalSeconds: 1
  accounts:
    - name: examples
      kubeconfigFile: $work/kubeconfig
      namespaces: [examples]
      dockerRegistries: [{accountName: hub}]
dockerRegistry:
  accounts:
    - {name: hub, address: https://index.docker.io, username: examples, password: $password}
EOF

echo "examples: starting the Kubernetes API emulator and kubedriver on 127.0.0.1:$port"
node dist/src/main.js emulator --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" >"$work/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/kubeconfig" ] && break; sleep 0.1; done
[ -s "$work/kubeconfig" ] || fail "the emulator wrote no kubeconfig"
node dist/src/main.js serve --config "$work/kubedriver.yaml" >"$work/kubedriver.log" 2>&1 &
pids+=($!)
# The port opens at once; the account's namespace and pull secret are
# provisioned just after, and the clients deploy into that namespace.
for _ in $(seq 1 150); do
  kill -0 "${pids[1]}" 2>/dev/null || fail "kubedriver exited"
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && grep -q '"image pull secret created"' "$work/kubedriver.log" && break
  sleep 0.1
done
grep -q '"image pull secret created"' "$work/kubedriver.log" || fail "kubedriver did not provision the examples account"

export KUBEDRIVER_ADDR=127.0.0.1:$port KUBEDRIVER_CA_FILE=$work/ca.crt KUBEDRIVER_TOKEN=$token
export KUBEDRIVER_ACCOUNT=examples KUBEDRIVER_NAMESPACE=examples
status=0
examples/go/.bin/kubedriver-client || { echo "examples: the Go client failed" >&2; status=1; }
node examples/typescript/dist/examples/typescript/client.js || { echo "examples: the TypeScript client failed" >&2; status=1; }
if grep -qF -e "$token" -e "$password" "$work"/*.log; then
  echo "examples: the token or the registry password appeared in a log" >&2
  status=1
fi
[ $status -eq 0 ] || fail "failed"
echo "examples: both clients passed"
