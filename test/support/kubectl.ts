import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * The v1.36.3 kubectl that test/cluster/build.sh builds (CI builds it before
 * both runs), or undefined on a machine that has not built it.
 */
export function kubectlBinary(): string | undefined {
  const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "kubedriver");
  const dir = fs.existsSync(cache) ? fs.readdirSync(cache).find((d) => d.startsWith("k8s-v1.36.3-") && fs.existsSync(path.join(cache, d, "kubectl"))) : undefined;
  return dir ? path.join(cache, dir, "kubectl") : undefined;
}
