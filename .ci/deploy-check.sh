#!/usr/bin/env bash
# Checks deploy/ against a real kube-apiserver (test/cluster, built from Go
# modules): every manifest passes server-side validation, admission included
# (the namespace enforces the "restricted" Pod Security Standard), and the
# ServiceAccount may make exactly the Kubernetes calls kubedriver makes
# (src/kube/*.ts) and not the dangerous ones around them.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

bin=$(bash test/cluster/build.sh | tail -n 1)
kubectl_bin="$bin/kubectl"

dir=$(mktemp -d "${TMPDIR:-/tmp}/kubedriver-deploy-check-XXXXXX")
cleanup() {
  local status=$?
  if [ -d "$dir" ]; then bash test/cluster/cluster.sh down "$dir" >/dev/null || true; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash test/cluster/cluster.sh up "$dir" >/dev/null
echo "control plane up in $((SECONDS - started)) s"
kubectl() { "$kubectl_bin" --kubeconfig "$dir/kubeconfig" "$@"; }

# 1. Every manifest, validated and admitted by the API server without being
# stored. A namespaced object in a namespace that does not exist yet fails
# server dry-run with NotFound (a dry-run Namespace is not stored either), so
# the Namespace is created for real first, in this throwaway cluster.
kubectl apply -f deploy/00-namespace.yaml >/dev/null
warnings=$(mktemp)
kubectl apply --dry-run=server --validate=strict -f deploy/ 2>"$warnings" >/dev/null
# Warnings are failures too: e.g. "would violate PodSecurity" for a Deployment
# is only a warning at apply time, and its pods would then be refused. One is
# expected: the example TLS Secret holds placeholders, not a key pair, and the
# API server says so (a useful reminder to whoever applies it unchanged).
placeholder_tls="Warning: tls: failed to find any PEM data in certificate input"
if grep -vxF "$placeholder_tls" "$warnings" >/dev/null; then
  echo "deploy-check: the API server warned about deploy/:" >&2
  cat "$warnings" >&2
  rm -f "$warnings"
  exit 1
fi
rm -f "$warnings"
echo "server dry-run of deploy/: accepted, no unexpected warnings"

# 2. The RBAC objects for real, then what the ServiceAccount may do.
kubectl apply -f deploy/10-serviceaccount.yaml -f deploy/20-rbac.yaml >/dev/null
sa=system:serviceaccount:kubedriver:kubedriver
ns=apps # any account namespace: the ClusterRoleBinding makes them all alike

# "verb resource[/subresource]" pairs kubedriver uses, with where (src/kube).
allowed=(
  "get namespaces"                     # namespaces.ts readNamespace, namespace-probe.ts probeNamespace
  "create namespaces"                  # namespaces.ts createNamespace
  "get secrets"                        # secrets.ts readSecret (pull secrets, destroy tombstones)
  "create secrets"                     # secrets.ts createSecret
  "update secrets"                     # secrets.ts replaceSecret (pull secret content changed)
  "list secrets"                       # secrets.ts listSecrets (expired tombstones)
  "delete secrets"                     # secrets.ts deleteSecret (expired tombstones)
  "create replicationcontrollers"      # replication-controllers.ts createReplicationController
  "get replicationcontrollers"         # replication-controllers.ts readReplicationController
  "list replicationcontrollers"        # replication-controllers.ts listReplicationControllers
  "patch replicationcontrollers"       # replication-controllers.ts patchReplicationController
  "delete replicationcontrollers"      # replication-controllers.ts deleteReplicationController
  "update replicationcontrollers/scale" # replication-controllers.ts scaleReplicationController
  "list pods"                          # pods.ts listPods
  "patch pods"                         # pods.ts patchPod
  "get services"                       # services.ts readService
)
denied=(
  "delete namespaces" "update namespaces" "patch namespaces" "list namespaces" "watch namespaces"
  "get nodes" "list nodes"
  "get pods" "create pods" "delete pods" "create pods/exec" "get pods/log" "create pods/eviction"
  "update replicationcontrollers" "watch replicationcontrollers" "update replicationcontrollers/status"
  "patch replicationcontrollers/scale"
  "patch secrets" "watch secrets" "deletecollection secrets"
  "create services" "update services" "delete services"
  "get configmaps" "create deployments.apps" "create serviceaccounts/token"
  "create roles.rbac.authorization.k8s.io" "create rolebindings.rbac.authorization.k8s.io"
  "create clusterrolebindings.rbac.authorization.k8s.io"
  "escalate clusterroles.rbac.authorization.k8s.io" "bind clusterroles.rbac.authorization.k8s.io"
  "impersonate users" "impersonate groups" "impersonate serviceaccounts"
  "* *"
)

cluster_scoped=" namespaces nodes clusterrolebindings.rbac.authorization.k8s.io clusterroles.rbac.authorization.k8s.io users groups * "
mismatches=0

# can_i EXPECTED "VERB RESOURCE[/SUB]": one table row; counts a mismatch.
can_i() {
  local expected=$1 verb=${2%% *} resource=${2#* } sub="" scope=() out err got
  case $resource in */*) sub=${resource#*/} resource=${resource%%/*} ;; esac
  # Cluster-scoped resources are asked about with -A: kubectl otherwise asks in
  # the context's namespace and warns that the resource has none.
  case $cluster_scoped in *" $resource "*) scope=(-A) ;; *) scope=(-n "$ns") ;; esac
  err=$(mktemp)
  out=$(kubectl auth can-i "$verb" "$resource" ${sub:+--subresource="$sub"} "${scope[@]}" --as="$sa" 2>"$err") || true
  # A warning (e.g. an unknown resource type) would make a "no" meaningless.
  if [ -s "$err" ]; then
    got="error: $(tr '\n' ' ' <"$err")"
  else
    got=$out
  fi
  rm -f "$err"
  local mark=ok
  if [ "$got" != "$expected" ]; then mark=MISMATCH; mismatches=$((mismatches + 1)); fi
  printf '%-8s %-4s %-60s %s\n' "$mark" "$expected" "$verb ${resource}${sub:+/$sub} ${scope[*]}" "$got"
}

printf '%-8s %-4s %-60s %s\n' "" want "as $sa" got
for pair in "${allowed[@]}"; do can_i yes "$pair"; done
for pair in "${denied[@]}"; do can_i no "$pair"; done

# 3. The ClusterRole grants nothing beyond the list above: a verb added to
# deploy/20-rbac.yaml without a reason in src/kube fails here.
granted=$(kubectl get clusterrole kubedriver -o go-template='{{range .rules}}{{$r := .resources}}{{range .verbs}}{{$v := .}}{{range $r}}{{$v}} {{.}}{{"\n"}}{{end}}{{end}}{{end}}' | sort)
expected=$(printf '%s\n' "${allowed[@]}" | sort)
if [ "$granted" != "$expected" ]; then
  echo "deploy-check: ClusterRole kubedriver differs from the calls kubedriver makes (< granted, > expected):" >&2
  diff <(echo "$granted") <(echo "$expected") >&2 || true
  mismatches=$((mismatches + 1))
fi

echo "deploy-check: $((${#allowed[@]} + ${#denied[@]})) permission checks, $mismatches mismatch(es), $((SECONDS - started)) s"
[ "$mismatches" -eq 0 ]
