#!/usr/bin/env bash
# Builds the test control plane from the Go modules pinned beside this script
# (go.mod, kwok/go.mod) into a cache outside the repository, keyed on the pins,
# so it is rebuilt only when they change. Prints the cache directory last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

k8s_version=$(awk '$1 == "k8s.io/kubernetes" { print $2 }' go.mod)
# Keyed on the pins only: the binaries depend on nothing else.
key=$(cat go.mod go.sum kwok/go.mod kwok/go.sum | sha256sum | cut -c1-12)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/kubedriver/k8s-${k8s_version}-${key}"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

# KWOK does nothing without stages: use its own "fast" ones (nodes Ready at
# once; pods Running and Ready with an IP once scheduled; deletion honoured).
kwok_stages() {
  local module
  module=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$module/kustomize/stage/$f"
  done >"$cache/kwok-stages.yaml"
}

if [ -f "$cache/.complete" ]; then
  [ -f "$cache/kwok-stages.yaml" ] || kwok_stages
  echo "$cache"
  exit 0
fi
mkdir -p "$cache"

minor=${k8s_version#v1.}
minor=${minor%%.*}
# What `kubectl version` and /version report: the real release, not "v0.0.0-master".
version_ldflags="-s -w \
  -X k8s.io/component-base/version.gitVersion=${k8s_version} \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=${minor} \
  -X k8s.io/component-base/version.gitTreeState=clean \
  -X k8s.io/component-base/version.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"

build() {
  local name=$1 pkg=$2 dir=$3 ldflags=$4
  local started=$SECONDS
  (cd "$dir" && CGO_ENABLED=0 nice go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$cache/$name" "$pkg") >&2
  echo "built $name in $((SECONDS - started)) s" >&2
}

# Two cores: one package graph at a time keeps memory and the machine sane.
build etcd go.etcd.io/etcd/server/v3 "$here" "-s -w"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$here" "$version_ldflags"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$here" "$version_ldflags"
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$here" "$version_ldflags"
build kubectl k8s.io/kubernetes/cmd/kubectl "$here" "$version_ldflags"
build kwok sigs.k8s.io/kwok/cmd/kwok "$here/kwok" "-s -w"

kwok_stages
for b in "${binaries[@]}"; do [ -x "$cache/$b" ] || { echo "missing $cache/$b" >&2; exit 1; }; done
touch "$cache/.complete"
echo "$cache"
