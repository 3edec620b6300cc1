#!/usr/bin/env bash
# Builds promtool (Prometheus's checker of metrics expositions and rule files)
# from its Go module into a cache outside the repository (see
# build-go-tool.sh). Prints the path of the binary last. Used by CI
# (.ci/run, .ci/deploy-check.sh, the metrics tests) and by hand.
set -euo pipefail
# Prometheus v3.x is published as Go module versions v0.3xx.y.
exec bash "$(dirname "$0")/build-go-tool.sh" promtool v0.316.0 github.com/prometheus/prometheus/cmd/promtool
