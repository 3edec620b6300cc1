#!/usr/bin/env bash
# Builds promtool (Prometheus's checker of metrics expositions and rule files)
# from its Go module into a cache outside the repository, keyed on the version
# pinned here, so it is built once per version. Prints the path of the binary
# last. Used by CI (.ci/deploy-check.sh, the metrics test) and by hand.
set -euo pipefail
# Prometheus v3.x is published as Go module versions v0.3xx.y.
version=v0.316.0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/kubedriver/promtool-${version}"

if [ -f "$cache/.complete" ]; then
  echo "$cache/promtool"
  exit 0
fi
mkdir -p "$cache"
started=$SECONDS
CGO_ENABLED=0 GOBIN="$cache" nice go install -trimpath -ldflags "-s -w" \
  "github.com/prometheus/prometheus/cmd/promtool@${version}" >&2
"$cache/promtool" --version >&2
echo "built promtool ${version} in $((SECONDS - started)) s" >&2
touch "$cache/.complete"
echo "$cache/promtool"
