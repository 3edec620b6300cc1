import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureFreshBuild, type BuildOutcome } from "../../bin/fresh-build.js";
import { tempDir } from "../support/kubeconfig.js";

const tmp = tempDir();
afterAll(tmp.cleanup);

let trees = 0;
/** A checkout with one source and, unless `built` is false, a build `ageMs` newer (negative: older) than it. */
function aTree({ built = true, ageMs = 1_000 } = {}) {
  const root = path.join(tmp.dir, `tree-${trees++}`);
  fs.mkdirSync(path.join(root, "src"), { recursive: true });
  const source = path.join(root, "src", "main.ts");
  fs.writeFileSync(source, "export {};\n");
  const entry = path.join(root, "dist", "src", "main.js");
  if (built) {
    fs.mkdirSync(path.dirname(entry), { recursive: true });
    fs.writeFileSync(entry, "export {};\n");
    const t = Date.now() / 1000;
    fs.utimesSync(source, t - 10, t - 10);
    fs.utimesSync(entry, t - 10 + ageMs / 1000, t - 10 + ageMs / 1000);
  }
  return { root, entry };
}

function run(root: string, outcome: BuildOutcome | ((root: string) => BuildOutcome)) {
  const lines: string[] = [];
  let builds = 0;
  const build = (r: string) => {
    builds++;
    return typeof outcome === "function" ? outcome(r) : outcome;
  };
  return { result: () => ensureFreshBuild(root, { build, write: (l) => lines.push(l) }), lines, builds: () => builds };
}

describe("starting from a checkout", () => {
  it("starts an up-to-date build at once, without tsc", () => {
    const { root } = aTree();
    const r = run(root, "built");
    expect(r.result()).toBe("fresh");
    expect(r.builds()).toBe(0);
    expect(r.lines).toEqual([]);
  });

  it("rebuilds once when a source is newer than the build, saying so in one JSON line naming it", () => {
    const { root } = aTree({ ageMs: -1_000 });
    const r = run(root, "built");
    expect(r.result()).toBe("built");
    expect(r.builds()).toBe(1);
    expect(r.lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: "warn", newest: path.join("src", "main.ts") })]);
  });

  it("builds a tree that was never built, and says how to when TypeScript is missing", () => {
    const fresh = aTree({ built: false });
    const r = run(fresh.root, (root) => {
      fs.mkdirSync(path.join(root, "dist", "src"), { recursive: true });
      fs.writeFileSync(fresh.entry, "export {};\n");
      return "built";
    });
    expect(r.result()).toBe("built");
    expect(() => run(aTree({ built: false }).root, "missing").result()).toThrow(/npm ci/);
  });

  it("starts a stale build with a warning when TypeScript is not installed", () => {
    const { root } = aTree({ ageMs: -1_000 });
    const r = run(root, "missing");
    expect(r.result()).toBe("stale");
    expect(r.lines.map((l) => JSON.parse(l).msg)).toContain("TypeScript is not installed: starting the stale build");
  });
});
