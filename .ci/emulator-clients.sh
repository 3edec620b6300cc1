#!/usr/bin/env bash
# The emulator answers Kubernetes clients other than client-node: the same
# kubectl v1.36.3 script (create/get/describe/scale/apply/delete of the served
# kinds) runs against `kubedriver emulator` and against a throwaway real
# control plane, and the outputs must match column for column, ignoring only
# names, uids, timestamps, ages and addresses. Needs `npm run build` and the
# binaries of test/cluster/build.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kubectl=$(ls -d "$HOME"/.cache/kubedriver/k8s-v1.36.3-*/kubectl 2>/dev/null | head -n 1)
[ -x "$kubectl" ] || bash test/cluster/build.sh >/dev/null
kubectl=$(ls -d "$HOME"/.cache/kubedriver/k8s-v1.36.3-*/kubectl | head -n 1)

work=$(mktemp -d "${TMPDIR:-/tmp}/kubedriver-emulator-clients-XXXXXX")
cluster=$work/cluster
emulator_pid=
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null
  [ -d "$cluster" ] && bash test/cluster/cluster.sh down "$cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node bin/kubedriver.js emulator --listen "127.0.0.1:$port" --kubeconfig-out "$work/emulator.kubeconfig" >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 1 100); do [ -s "$work/emulator.kubeconfig" ] && break; sleep 0.1; done
bash test/cluster/cluster.sh up "$cluster" >/dev/null || { echo "control plane did not start"; exit 1; }

cat >"$work/app.yaml" <<'YAML'
apiVersion: v1
kind: ReplicationController
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: registry.example.com/web:1.0, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Secret
metadata: {name: web-config}
stringData: {key: value}
YAML

# One kubectl session; every command's output and exit code go to OUT.
session() {
  local kubeconfig=$1 out=$2
  local k=("$kubectl" --kubeconfig "$kubeconfig")
  run() {
    echo "\$ kubectl $*"
    "${k[@]}" "$@" 2>&1
    echo "(exit $?)"
  }
  wait_ready() {
    for _ in $(seq 1 120); do
      [ "$("${k[@]}" -n clients get rc web -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = "$1" ] && return
      sleep 0.5
    done
  }
  {
    run get ns default kube-system kube-public kube-node-lease
    run create ns clients
    run -n clients create -f "$work/app.yaml"
    wait_ready 2
    run -n clients get rc,svc
    run -n clients get pods -o wide
    run -n clients get secret web-config
    run -n clients get sa
    run -n clients describe rc web
    run -n clients scale rc web --replicas=1
    wait_ready 1
    run -n clients get rc web
    run -n clients apply -f "$work/app.yaml"
    run -n clients create secret generic extra --from-literal=a=b
    run -n clients create service clusterip extra --tcp=80:8080
    run -n clients get all
    run -n clients delete rc web
    run -n clients delete svc web extra
    run -n clients delete secret web-config extra
    run delete ns clients --wait=false
  } >"$out"
}

# Names, uids, timestamps, ages and addresses differ between any two clusters.
normalise() {
  sed -E \
    -e 's/web-[a-z0-9]{5}\b/web-XXXXX/g' \
    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UID/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
    -e 's/[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}/TIME/g' \
    -e 's/\b[0-9]+(\.[0-9]+){3}(\/[0-9]+)?\b/ADDR/g' \
    -e 's/\b([0-9]+[smhdy])+\b/AGE/g' \
    -e 's/(kwok-node-0|emulator-node)/NODE/g' \
    -e 's/ +/ /g' "$1"
}

session "$work/emulator.kubeconfig" "$work/emulator.out"
session "$cluster/kubeconfig" "$work/real.out"
if diff -u <(normalise "$work/real.out") <(normalise "$work/emulator.out") >"$work/diff"; then
  echo "kubectl: the emulator's output matches the real control plane's ($(grep -c '^\$ kubectl' "$work/real.out") commands)"
else
  echo "kubectl: the emulator differs from the real control plane (- real, + emulator):"
  cat "$work/diff"
  exit 1
fi
