import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** What was built: the package's version and the git commit of its sources. */
export interface BuildInfo {
  version: string;
  /** A full commit hash, or "unknown". */
  commit: string;
}

let known: BuildInfo | undefined;

/**
 * kubedriver's version, from its package.json (found by walking up from this
 * file, which sits at a different depth in src/ and in dist/src/), and its
 * commit: `KUBEDRIVER_COMMIT` where the build set it (the image, whose build
 * context has no .git), else git's HEAD when the package is a checkout (`npm
 * start` in a clone), else "unknown". Read once per process.
 */
export function buildInfo(): BuildInfo {
  return (known ??= readBuildInfo(process.env));
}

export function readBuildInfo(env: NodeJS.ProcessEnv): BuildInfo {
  const root = packageRoot();
  const commit = validCommit(env.KUBEDRIVER_COMMIT) ?? (root && validCommit(gitHead(root.dir))) ?? "unknown";
  return { version: root?.version ?? "unknown", commit };
}

function packageRoot(): { dir: string; version: string } | undefined {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "kubedriver" && pkg.version) return { dir, version: pkg.version };
    } catch {
      // No package.json here (or dist's own): keep walking up.
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function gitHead(dir: string): string | undefined {
  // A .git file (a worktree) or folder: only a checkout is asked, never a parent repository of an installed package.
  if (!fs.existsSync(path.join(dir, ".git"))) return undefined;
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 }).trim();
  } catch {
    // No git on this machine, or not a repository after all.
    return undefined;
  }
}

function validCommit(value: string | undefined): string | undefined {
  const v = value?.trim().toLowerCase();
  return v && /^[0-9a-f]{7,64}$/.test(v) ? v : undefined;
}
