#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, all state under one directory:
# etcd, kube-apiserver (TLS, RBAC, default admission plugins), kube-controller-
# manager, kube-scheduler and KWOK fake nodes (pods become Running and Ready).
#
#   cluster.sh up DIR     start it; writes DIR/kubeconfig (cluster-admin) and
#                         DIR/kubeconfig-restricted (may only read namespaces and pods)
#   cluster.sh down DIR   stop exactly the processes `up` started, remove DIR
#
# It never falls back to the emulator: a component that fails to start fails
# `up`, with that component's last log lines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

usage() {
  echo "usage: $0 up DIR | down DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
command=$1
dir=$2

step_started=$SECONDS
step() {
  echo "[$((SECONDS - step_started)) s] $*"
}

fail() {
  local component=$1 message=$2
  echo "cluster.sh: $component $message" >&2
  if [ -f "$dir/logs/$component.log" ]; then
    echo "--- last lines of $dir/logs/$component.log ---" >&2
    tail -n 30 "$dir/logs/$component.log" >&2
  fi
  stop_all
  exit 1
}

alive() {
  local pidfile=$1
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

stop_all() {
  [ -d "$dir/pids" ] || return 0
  local pidfile
  # Reverse start order: clients first, etcd last.
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    pidfile="$dir/pids/$name.pid"
    if alive "$pidfile"; then kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    pidfile="$dir/pids/$name.pid"
    for _ in $(seq 1 100); do alive "$pidfile" || break; sleep 0.1; done
    if alive "$pidfile"; then kill -KILL "$(cat "$pidfile")" 2>/dev/null || true; fi
    rm -f "$pidfile"
  done
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  local name=$1
  shift
  "$@" >"$dir/logs/$name.log" 2>&1 &
  echo $! >"$dir/pids/$name.pid"
}

# wait_for NAME SECONDS COMMAND...: poll COMMAND until it succeeds, the
# component dies, or the deadline passes.
wait_for() {
  local name=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    alive "$dir/pids/$name.pid" || fail "$name" "exited during start-up"
    [ $SECONDS -lt $deadline ] || fail "$name" "was not ready within ${seconds} s"
    sleep 0.2
  done
}

write_kubeconfig() {
  local file=$1 user=$2 cert=$3 key=$4
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
current-context: $user
clusters:
  - name: kubedriver-test
    cluster:
      server: https://127.0.0.1:$apiserver_port
      certificate-authority-data: $(base64 -w0 <"$dir/pki/ca.crt")
users:
  - name: $user
    user:
      client-certificate-data: $(base64 -w0 <"$cert")
      client-key-data: $(base64 -w0 <"$key")
contexts:
  - name: $user
    context:
      cluster: kubedriver-test
      user: $user
EOF
  chmod 600 "$file"
}

issue_cert() {
  local name=$1 subject=$2 ext=${3:-}
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/pki/$name.key" -subj "$subject" -out "$dir/pki/$name.csr" 2>/dev/null
  if [ -n "$ext" ]; then
    openssl x509 -req -in "$dir/pki/$name.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" -CAcreateserial \
      -days 2 -out "$dir/pki/$name.crt" -extfile <(printf '%s' "$ext") 2>/dev/null
  else
    openssl x509 -req -in "$dir/pki/$name.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" -CAcreateserial \
      -days 2 -out "$dir/pki/$name.crt" 2>/dev/null
  fi
}

up() {
  if [ -d "$dir/pids" ] && ls "$dir"/pids/*.pid >/dev/null 2>&1; then
    for pidfile in "$dir"/pids/*.pid; do
      if alive "$pidfile"; then
        echo "cluster.sh: a control plane is already running in $dir ($(basename "$pidfile" .pid) pid $(cat "$pidfile")); run '$0 down $dir' first" >&2
        exit 1
      fi
    done
  fi
  local bin
  bin=$(bash "$here/build.sh" | tail -n 1)
  step "binaries in $bin"
  mkdir -p "$dir/pids" "$dir/logs" "$dir/pki" "$dir/etcd" "$dir/kwok"
  dir=$(cd "$dir" && pwd)

  step_started=$SECONDS
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/pki/ca.key" -out "$dir/pki/ca.crt" -days 2 \
    -subj "/CN=kubedriver-test-ca" 2>/dev/null
  issue_cert apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
  issue_cert admin "/O=system:masters/CN=kubedriver-admin"
  issue_cert restricted "/CN=restricted-user"
  openssl genrsa -out "$dir/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/pki/sa.key" -pubout -out "$dir/pki/sa.pub" 2>/dev/null
  step "certificates and service-account keys"

  local etcd_port etcd_peer_port
  etcd_port=$(free_port)
  etcd_peer_port=$(free_port)
  apiserver_port=$(free_port)
  start etcd "$bin/etcd" --name default --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "default=http://127.0.0.1:$etcd_peer_port" --unsafe-no-fsync --log-level warn
  wait_for etcd 30 curl -sf "http://127.0.0.1:$etcd_port/health"
  step "etcd on 127.0.0.1:$etcd_port"

  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$apiserver_port" \
    --cert-dir "$dir/pki" --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.0.0.0/24 \
    --authorization-mode RBAC \
    --allow-privileged=true
  write_kubeconfig "$dir/kubeconfig" kubedriver-admin "$dir/pki/admin.crt" "$dir/pki/admin.key"
  write_kubeconfig "$dir/kubeconfig-restricted" restricted-user "$dir/pki/restricted.crt" "$dir/pki/restricted.key"
  local kubectl=("$bin/kubectl" --kubeconfig "$dir/kubeconfig")
  wait_for kube-apiserver 90 "${kubectl[@]}" get --raw /readyz
  step "kube-apiserver on https://127.0.0.1:$apiserver_port"

  # The control-plane clients use the admin identity: RBAC for the test
  # user is what the suite checks, not the controllers' own roles.
  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$dir/kubeconfig" --authentication-kubeconfig "$dir/kubeconfig" --authorization-kubeconfig "$dir/kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$(free_port)" --leader-elect=false \
    --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
    --concurrent-gc-syncs 5 --concurrent-namespace-syncs 5
  start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$dir/kubeconfig" --authentication-kubeconfig "$dir/kubeconfig" --authorization-kubeconfig "$dir/kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$(free_port)" --leader-elect=false
  start kwok "$bin/kwok" --kubeconfig "$dir/kubeconfig" --config "$bin/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-ip 10.0.0.2 --node-lease-duration-seconds 40 \
    --server-address "127.0.0.1:$(free_port)"
  step "controller-manager, scheduler and kwok started"

  "${kubectl[@]}" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "32", memory: 256Gi, pods: "1000"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubedriver-test-restricted
rules:
  - apiGroups: [""]
    resources: [namespaces]
    verbs: [get, list]
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubedriver-test-restricted
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubedriver-test-restricted
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: restricted-user
EOF
  step "fake node and the restricted user's RBAC"

  wait_for kube-controller-manager 60 "${kubectl[@]}" -n default get serviceaccount default
  step "default service account exists"
  wait_for kwok 60 bash -c "'${kubectl[0]}' --kubeconfig '$dir/kubeconfig' get node kwok-node-0 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  alive "$dir/pids/kube-scheduler.pid" || fail kube-scheduler "exited during start-up"
  step "node Ready; control plane up (kubeconfig: $dir/kubeconfig)"
}

case "$command" in
  up) up ;;
  down)
    if [ ! -d "$dir" ]; then
      echo "cluster.sh: no control plane in $dir" >&2
      exit 1
    fi
    stop_all
    rm -rf "$dir"
    echo "stopped and removed $dir"
    ;;
  *) usage ;;
esac
