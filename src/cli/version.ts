import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * kubedriver's version, from its package.json: found by walking up from this
 * file, which sits at a different depth in src/ (tests) and in dist/src/.
 */
export function version(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "kubedriver" && pkg.version) return pkg.version;
    } catch {
      // No package.json here (or dist's own): keep walking up.
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}
