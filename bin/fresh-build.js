// Keeps `npm start` and `bin/kubedriver.js` from serving a stale build: when a
// source is newer than dist/, rebuild once (what `npm run build` does) before
// starting. An installed tree (`npm ci` builds dist/ through `prepare`) starts
// at once; only a checkout with edited sources pays for tsc. Plain JavaScript,
// because it runs before anything is compiled.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const inputs = ["src", "gen", "tsconfig.json", "tsconfig.build.json"];

/** The most recently modified file under `paths` (files or folders), or undefined when there is none. */
function newest(paths) {
  let found;
  const visit = (p) => {
    let stat;
    try {
      stat = fs.statSync(p);
    } catch {
      return;
    }
    if (stat.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    else if (!found || stat.mtimeMs > found.mtimeMs) found = { file: p, mtimeMs: stat.mtimeMs };
  };
  for (const p of paths) visit(p);
  return found;
}

function runTsc(root) {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  if (!fs.existsSync(tsc)) return "missing";
  // tsc reports type errors on stdout; stdout carries the JSON log, so they go to stderr.
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: ["ignore", 2, 2] });
  return result.status === 0 ? "built" : "errors";
}

function logLine(level, msg, fields) {
  return JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
}

/**
 * Makes sure `root`/dist/src/main.js exists and is not older than any source.
 * Returns "fresh", "built" or "stale" (served as it is, with a warning);
 * throws when there is nothing to serve.
 */
export function ensureFreshBuild(root, { build = runTsc, write = (line) => process.stdout.write(line + "\n") } = {}) {
  const entry = path.join(root, "dist", "src", "main.js");
  const builtAt = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : undefined;
  const source = newest(inputs.map((p) => path.join(root, p)));
  // No sources (an image with dist/ only): nothing to compare with.
  if (!source || (builtAt !== undefined && source.mtimeMs <= builtAt)) {
    if (builtAt === undefined) throw new Error(`${entry} is missing and there are no sources to build it from`);
    return "fresh";
  }
  const changed = path.relative(root, source.file);
  write(
    logLine("warn", builtAt === undefined ? "no build yet: building with tsc (npm run build)" : "sources changed since the last build: rebuilding with tsc (npm run build)", {
      newest: changed,
    }),
  );
  const outcome = build(root);
  if (outcome === "built") return "built";
  if (outcome === "errors" && fs.existsSync(entry)) {
    write(logLine("warn", "the build reported type errors (on stderr); starting what it emitted", {}));
    return "built";
  }
  if (builtAt === undefined || !fs.existsSync(entry)) throw new Error(`cannot build ${entry}: run \`npm ci\` (it builds dist/), then \`npm run build\``);
  write(logLine("warn", "TypeScript is not installed: starting the stale build", { newest: changed }));
  return "stale";
}
