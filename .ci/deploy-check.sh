#!/usr/bin/env bash
# Checks the Helm chart deploy/chart/kubedriver against a real kube-apiserver
# (test/cluster, built from Go modules): `helm lint`; the plain manifests
# deploy/kubedriver.yaml are exactly the chart's rendering; every object the
# chart renders, with its default values and with the example values, passes
# server-side validation, admission included (the namespace enforces the
# "restricted" Pod Security Standard); the ServiceMonitor points at the metrics
# port the config serves; the alert rules pass promtool and the dashboard
# renders unchanged; and the ServiceAccount may make exactly the
# Kubernetes calls kubedriver makes (src/kube/*.ts) and not the dangerous ones
# around them, for both RBAC scopes (cluster-wide and per namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

bin=$(bash test/cluster/build.sh | tail -n 1)
kubectl_bin="$bin/kubectl"
helm=$(bash deploy/build-helm.sh | tail -n 1)
chart=deploy/chart/kubedriver
example=$chart/examples/per-namespace-metrics.yaml

# 1. Offline: lint with each values file, and the committed plain manifests.
for values in "$chart/values.yaml" "$example" deploy/kubedriver.values.yaml; do
  "$helm" lint --strict "$chart" -f "$values" >/dev/null || { "$helm" lint --strict "$chart" -f "$values"; exit 1; }
done
echo "helm lint --strict: default, example and plain-manifest values clean"
bash deploy/render.sh --check

# render NAMESPACE [helm template args]: the chart as release "kubedriver".
render() {
  local ns=$1
  shift
  "$helm" template kubedriver "$chart" --namespace "$ns" "$@"
}

# The metrics wiring, which no API server checks: the config's metricsListen
# port is the container port "metrics", the Service's "metrics" port targets
# it, and the ServiceMonitor (when rendered) selects that Service in its
# namespace and scrapes that port at /metrics. With metrics off, none exist.
check_metrics() {
  local what=$1 monitors=$2
  node -e '
    const YAML = require("yaml");
    const [what, monitors] = [process.argv[1], Number(process.argv[2])];
    const docs = YAML.parseAllDocuments(require("fs").readFileSync(0, "utf8")).map((d) => d.toJS()).filter(Boolean);
    const one = (kind) => { const all = docs.filter((d) => d.kind === kind); if (all.length !== 1) throw new Error(`${all.length} ${kind}s`); return all[0]; };
    const problems = [];
    const check = (ok, message) => { if (!ok) problems.push(message); };
    const config = YAML.parse(one("ConfigMap").data["kubedriver.yaml"]);
    const container = one("Deployment").spec.template.spec.containers[0];
    const service = one("Service");
    const listen = config.server.metricsListen;
    const containerPort = (container.ports ?? []).find((p) => p.name === "metrics");
    const servicePort = service.spec.ports.find((p) => p.name === "metrics");
    const sms = docs.filter((d) => d.kind === "ServiceMonitor");
    check(sms.length === monitors, `${sms.length} ServiceMonitors, expected ${monitors}`);
    if (listen === undefined) {
      check(!containerPort && !servicePort, "a metrics port without server.metricsListen");
    } else {
      const port = Number(String(listen).split(":").pop());
      check(containerPort?.containerPort === port, `container port "metrics" is not the port of ${listen}`);
      check(servicePort?.targetPort === "metrics", `Service port "metrics" does not target the container port "metrics"`);
    }
    for (const sm of sms) {
      check(sm.apiVersion === "monitoring.coreos.com/v1", `apiVersion ${sm.apiVersion}`);
      check(sm.metadata.namespace === service.metadata.namespace, "not in the namespace of the Service");
      check((sm.spec.namespaceSelector?.matchNames ?? []).includes(service.metadata.namespace), "namespaceSelector misses the namespace of the Service");
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) check(service.metadata.labels[k] === v, `selector ${k}=${v} does not match the Service`);
      check(sm.spec.endpoints.length > 0, "no endpoints");
      for (const e of sm.spec.endpoints) {
        check(servicePort !== undefined && e.port === servicePort.name, `endpoint port ${e.port} is not the Service port "metrics"`);
        check(e.path === "/metrics" && e.scheme === "http", `endpoint ${e.scheme}://…${e.path}, expected http /metrics`);
      }
    }
    if (problems.length) { console.error(`deploy-check: metrics wiring of ${what}:\n  ` + problems.join("\n  ")); process.exit(1); }
    console.log(`metrics wiring of ${what}: ${listen ?? "off"}, ${monitors} ServiceMonitor(s), consistent`);
  ' "$what" "$monitors"
}
render kubedriver | check_metrics "default values" 0
render kubedriver-scoped -f "$example" | check_metrics "example values" 1

# The alert rules and the dashboard as the chart renders them: the
# PrometheusRule's spec passes `promtool check rules`, and the dashboard
# ConfigMap holds files/dashboard.json unchanged. (That their queries name
# only exported metrics is checked on a live scrape by
# test/observability/dashboard.test.ts.)
promtool=$(bash deploy/build-promtool.sh | tail -n 1)
observability=$(mktemp -d)
render kubedriver --set metrics.prometheusRule.enabled=true --show-only templates/prometheusrule.yaml |
  node -e 'const YAML = require("yaml"); process.stdout.write(YAML.stringify(YAML.parse(require("fs").readFileSync(0, "utf8")).spec))' >"$observability/rules.yaml"
"$promtool" check rules "$observability/rules.yaml"
render kubedriver --set metrics.grafanaDashboard.enabled=true --show-only templates/grafana-dashboard.yaml |
  node -e '
    const YAML = require("yaml"), fs = require("fs");
    const rendered = YAML.parse(fs.readFileSync(0, "utf8")).data["kubedriver.json"];
    const shipped = fs.readFileSync(process.argv[1], "utf8");
    if (JSON.stringify(JSON.parse(rendered)) !== JSON.stringify(JSON.parse(shipped))) { console.error("deploy-check: the dashboard ConfigMap differs from files/dashboard.json"); process.exit(1); }
    console.log("dashboard ConfigMap: files/dashboard.json, valid JSON");
  ' "$chart/files/dashboard.json"
rm -rf "$observability"

# 2. Against the API server.
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

# dry_run WHAT [ALLOWED_WARNING]: the manifests on stdin, validated and
# admitted by the API server without being stored. Warnings are failures too:
# e.g. "would violate PodSecurity" for a Deployment is only a warning at apply
# time, and its pods would then be refused.
dry_run() {
  local what=$1 allowed=${2:-} warnings
  warnings=$(mktemp)
  kubectl apply --dry-run=server --validate=strict -f - 2>"$warnings" >/dev/null || { cat "$warnings" >&2; rm -f "$warnings"; return 1; }
  if grep -vxF "${allowed:-no warning is allowed}" "$warnings" >/dev/null; then
    echo "deploy-check: the API server warned about $what:" >&2
    cat "$warnings" >&2
    rm -f "$warnings"
    return 1
  fi
  rm -f "$warnings"
  echo "server dry-run of $what: accepted, no unexpected warnings"
}

# A namespaced object in a namespace that does not exist yet fails server
# dry-run with NotFound (a dry-run Namespace is not stored either), so the
# namespaces are created for real first, in this throwaway cluster: the
# release's own from the chart's Namespace template, and the account
# namespaces the per-namespace RBAC scope requires to exist.
render kubedriver --set namespace.create=true --show-only templates/namespace.yaml | kubectl apply -f - >/dev/null
render kubedriver-scoped --set namespace.create=true --show-only templates/namespace.yaml | kubectl apply -f - >/dev/null
scoped_namespaces=(apps batch) # rbac.namespaces of $example
for n in "${scoped_namespaces[@]}" other; do kubectl create namespace "$n" >/dev/null; done

render kubedriver | dry_run "the chart, default values"
# One warning is expected: the example TLS Secret holds placeholders, not a
# key pair, and the API server says so (a useful reminder to whoever applies
# it unchanged).
dry_run "deploy/kubedriver.yaml" "Warning: tls: failed to find any PEM data in certificate input" <deploy/kubedriver.yaml
# The ServiceMonitor's CRD (Prometheus Operator) is not in this cluster; its
# wiring was checked above, everything else is checked here.
render kubedriver-scoped -f "$example" --set metrics.serviceMonitor.enabled=false | dry_run "the chart, example values (without its ServiceMonitor)"

# 3. The RBAC objects for real, then what each ServiceAccount may do.
rbac_only=(--show-only templates/serviceaccount.yaml --show-only templates/rbac.yaml)
render kubedriver "${rbac_only[@]}" | kubectl apply -f - >/dev/null
render kubedriver-scoped -f "$example" "${rbac_only[@]}" | kubectl apply -f - >/dev/null
sa_cluster=system:serviceaccount:kubedriver:kubedriver
sa_scoped=system:serviceaccount:kubedriver-scoped:kubedriver

# "verb resource[/subresource]" pairs kubedriver uses, with where (src/kube).
allowed=(
  "get namespaces"                     # namespaces.ts readNamespace, namespace-probe.ts probeNamespace
  "create namespaces"                  # namespaces.ts createNamespace (cluster scope only)
  "get secrets"                        # secrets.ts readSecret (pull secrets, request records)
  "create secrets"                     # secrets.ts createSecret
  "update secrets"                     # secrets.ts replaceSecret (pull secret content changed, request record result)
  "list secrets"                       # secrets.ts listSecrets (expired request records)
  "delete secrets"                     # secrets.ts deleteSecret (failed or expired request records)
  "create replicationcontrollers"      # replication-controllers.ts createReplicationController
  "get replicationcontrollers"         # replication-controllers.ts readReplicationController
  "list replicationcontrollers"        # replication-controllers.ts listReplicationControllers
  "watch replicationcontrollers"       # reflector.ts, through client.ts watch (the live view)
  "patch replicationcontrollers"       # replication-controllers.ts patchReplicationController
  "delete replicationcontrollers"      # replication-controllers.ts deleteReplicationController
  "update replicationcontrollers/scale" # replication-controllers.ts scaleReplicationController
  "get pods"                           # pods.ts readPod
  "list pods"                          # pods.ts listPods
  "watch pods"                         # reflector.ts (the live view)
  "patch pods"                         # pods.ts patchPod
  "delete pods"                        # pods.ts deletePod (TerminateInstances)
  "get pods/log"                       # pod-logs.ts
  "get services"                       # services.ts readService
  "list services"                      # services.ts listServices
  "watch services"                     # reflector.ts (the load balancers' live view)
  "create services"                    # services.ts createService
  "update services"                    # services.ts replaceService
  "delete services"                    # services.ts deleteService
  "get horizontalpodautoscalers"       # autoscalers.ts readAutoscaler
  "list horizontalpodautoscalers"      # autoscalers.ts listAutoscalers
  "watch horizontalpodautoscalers"     # reflector.ts (the live view)
  "create horizontalpodautoscalers"    # autoscalers.ts createAutoscaler
  "update horizontalpodautoscalers"    # autoscalers.ts replaceAutoscaler
  "delete horizontalpodautoscalers"    # autoscalers.ts deleteAutoscaler
)
denied=(
  "delete namespaces" "update namespaces" "patch namespaces" "list namespaces" "watch namespaces"
  "get nodes" "list nodes"
  "create pods" "update pods" "create pods/exec" "create pods/eviction"
  "update replicationcontrollers" "update replicationcontrollers/status"
  "patch replicationcontrollers/scale"
  "patch secrets" "watch secrets" "deletecollection secrets"
  "patch services" "deletecollection pods"
  "patch horizontalpodautoscalers" "update horizontalpodautoscalers/status"
  "get configmaps" "create deployments.apps" "create serviceaccounts/token"
  "create roles.rbac.authorization.k8s.io" "create rolebindings.rbac.authorization.k8s.io"
  "create clusterrolebindings.rbac.authorization.k8s.io"
  "escalate clusterroles.rbac.authorization.k8s.io" "bind clusterroles.rbac.authorization.k8s.io"
  "impersonate users" "impersonate groups" "impersonate serviceaccounts"
  "* *"
)

cluster_scoped=" namespaces nodes clusterrolebindings.rbac.authorization.k8s.io clusterroles.rbac.authorization.k8s.io users groups * "
mismatches=0
checks=0

row() {
  local expected=$1 asked=$2 got=$3 mark=ok
  checks=$((checks + 1))
  if [ "$got" != "$expected" ]; then mark=MISMATCH; mismatches=$((mismatches + 1)); fi
  printf '%-8s %-4s %-64s %s\n' "$mark" "$expected" "$asked" "$got"
}

# can_i EXPECTED "VERB RESOURCE[/SUB]" SA NAMESPACE: one table row.
can_i() {
  local expected=$1 verb=${2%% *} resource=${2#* } sa=$3 ns=$4 sub="" scope=() out err got
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
  row "$expected" "$verb ${resource}${sub:+/$sub} ${scope[*]}" "$got"
}

# get_namespace EXPECTED SA NAMESPACE: a Role in a namespace grants the GET of
# that Namespace object (the API server authorizes it in the namespace it
# names), which `auth can-i` cannot ask about without -A; so make the request.
get_namespace() {
  local expected=$1 sa=$2 ns=$3 got=yes
  kubectl get namespace "$ns" --as="$sa" >/dev/null 2>&1 || got=no
  row "$expected" "GET namespace $ns (real request)" "$got"
}

# granted KIND NAME [-n NS]: the rules of a (Cluster)Role as "verb resource" lines.
granted() {
  kubectl get "$@" -o go-template='{{range .rules}}{{$r := .resources}}{{range .verbs}}{{$v := .}}{{range $r}}{{$v}} {{.}}{{"\n"}}{{end}}{{end}}{{end}}' | sort
}

# Nothing beyond the list above: a verb added to the chart's rules without a
# reason in src/kube (and a row in allowed) fails here.
compare_rules() {
  local what=$1 expected=$2 got
  shift 2
  got=$(granted "$@")
  if [ "$got" != "$expected" ]; then
    echo "deploy-check: $what differs from the calls kubedriver makes (< granted, > expected):" >&2
    diff <(echo "$got") <(echo "$expected") >&2 || true
    mismatches=$((mismatches + 1))
  fi
  checks=$((checks + 1))
}

echo "rbac.scope cluster (default values), as $sa_cluster:"
printf '%-8s %-4s %-64s %s\n' "" want "" got
# any account namespace: the ClusterRoleBinding makes them all alike
for pair in "${allowed[@]}"; do can_i yes "$pair" "$sa_cluster" apps; done
for pair in "${denied[@]}"; do can_i no "$pair" "$sa_cluster" apps; done
compare_rules "ClusterRole kubedriver" "$(printf '%s\n' "${allowed[@]}" | sort)" clusterrole kubedriver

echo "rbac.scope namespaces (example values: ${scoped_namespaces[*]}), as $sa_scoped:"
printf '%-8s %-4s %-64s %s\n' "" want "" got
scoped_allowed=()
for pair in "${allowed[@]}"; do
  case $pair in "get namespaces" | "create namespaces") ;; *) scoped_allowed+=("$pair") ;; esac
done
for n in "${scoped_namespaces[@]}"; do
  get_namespace yes "$sa_scoped" "$n"
  for pair in "${scoped_allowed[@]}"; do can_i yes "$pair" "$sa_scoped" "$n"; done
  compare_rules "Role kubedriver in $n" "$(printf '%s\n' "get namespaces" "${scoped_allowed[@]}" | sort)" role kubedriver -n "$n"
done
can_i no "create namespaces" "$sa_scoped" apps
for pair in "${denied[@]}"; do can_i no "$pair" "$sa_scoped" apps; done
# Outside the list: nothing at all.
get_namespace no "$sa_scoped" other
for pair in "${scoped_allowed[@]}"; do can_i no "$pair" "$sa_scoped" other; done
# And nothing cluster-wide in that scope's rendering.
checks=$((checks + 1))
if render kubedriver-scoped -f "$example" | grep -E '^kind: Cluster(Role|RoleBinding)$' >&2; then
  echo "deploy-check: rbac.scope namespaces renders cluster-wide RBAC (above)" >&2
  mismatches=$((mismatches + 1))
fi

echo "deploy-check: $checks permission checks, $mismatches mismatch(es), $((SECONDS - started)) s"
[ "$mismatches" -eq 0 ]
