#!/usr/bin/env bash
# npm run test:cluster: the integration suite on a real control plane. Builds
# it if needed, brings it up in a fresh directory, runs vitest against it
# (extra arguments go to vitest), and brings it down whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

dir=$(mktemp -d "${TMPDIR:-/tmp}/kubedriver-cluster-XXXXXX")
rmdir "$dir"
cleanup() {
  local status=$?
  if [ -d "$dir" ]; then bash "$here/cluster.sh" down "$dir" >/dev/null || true; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
bash "$here/cluster.sh" up "$dir"
echo "control plane up in $((SECONDS - started)) s"

cd "$root"
KUBEDRIVER_TEST_KUBECONFIG="$dir/kubeconfig" \
  KUBEDRIVER_TEST_KUBECONFIG_RESTRICTED="$dir/kubeconfig-restricted" \
  npx vitest run "$@"
