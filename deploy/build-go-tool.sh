#!/usr/bin/env bash
# build-go-tool.sh NAME VERSION PACKAGE [LDFLAGS]: builds a Go command from the
# module proxy into a cache outside the repository, keyed on NAME and VERSION,
# so it is built once per version (minutes on two cores). Prints the path of
# the binary last. deploy/build-helm.sh and deploy/build-promtool.sh pin theirs.
set -euo pipefail
name=$1 version=$2 package=$3 ldflags=${4:-}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/kubedriver/${name}-${version}"

if [ -f "$cache/.complete" ]; then
  echo "$cache/$name"
  exit 0
fi
mkdir -p "$cache"
started=$SECONDS
# `go install pkg@version` builds outside any module of ours, from the module proxy.
CGO_ENABLED=0 GOBIN="$cache" nice go install -trimpath -ldflags "-s -w $ldflags" "${package}@${version}" >&2
"$cache/$name" --version >&2 || "$cache/$name" version --short >&2
echo "built ${name} ${version} in $((SECONDS - started)) s" >&2
touch "$cache/.complete"
echo "$cache/$name"
