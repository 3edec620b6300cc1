#!/usr/bin/env bash
# Builds helm from its Go module into a cache outside the repository (see
# build-go-tool.sh), stamped with its version as helm's own release does it.
# Prints the path of the binary last.
set -euo pipefail
version=v4.3.1
exec bash "$(dirname "$0")/build-go-tool.sh" helm "$version" helm.sh/helm/v4/cmd/helm \
  "-X helm.sh/helm/v4/internal/version.version=${version}"
