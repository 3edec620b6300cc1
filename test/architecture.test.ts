import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The floors of ARCHITECTURE.md, read off the imports of every source file:
 * a change that points an import up, into another feature's private
 * module, or at a library its floor must not use, fails here.
 */

const root = path.resolve(import.meta.dirname, "..");
const src = path.join(root, "src");

interface Import {
  from: string;
  /** Relative to the repository: `src/core/shared/scope.ts`; or the package name. */
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    const to = specifier.startsWith(".") ? path.relative(root, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, ".ts") : packageOf(specifier);
    found.push({ from: path.relative(root, file), to, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = Boolean(clause?.isTypeOnly || (clause?.namedBindings && ts.isNamedImports(clause.namedBindings) && !clause.name && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** `common`, `core`, … for a file under src/, `gen` for generated code, `top` for the composition root. */
function floorOf(file: string): string {
  if (file.startsWith("gen/")) return "gen";
  const rel = path.relative("src", file);
  return rel.includes(path.sep) ? rel.split(path.sep)[0]! : "top";
}

const all = sourceFiles(src).flatMap(importsOf);
const ours = all.filter((i) => i.to.startsWith("src/") || i.to.startsWith("gen/"));

/** What each floor may import of ours; `top` (app.ts, main.ts) and the CLI stand on everything. */
const mayImport: Record<string, readonly string[]> = {
  common: ["common"],
  observability: ["common", "observability"],
  config: ["common", "observability", "config"],
  kube: ["common", "observability", "config", "kube"],
  core: ["common", "observability", "config", "kube", "core"],
  grpc: ["common", "observability", "config", "core", "grpc", "gen"],
  emulator: ["common", "emulator"],
  cli: ["common", "observability", "config", "kube", "core", "grpc", "gen", "emulator", "cli", "top"],
  top: ["common", "observability", "config", "kube", "core", "grpc", "cli", "top"],
};

/** Inside core: floors every feature stands on, and the features, which reach one another only through a feature's index.ts. */
const coreFloors = new Set(["accounts", "auth", "shared"]);
const coreFolder = (file: string) => file.split("/")[2]!;

describe("the floors of the stack", () => {
  it("reads every source file", () => {
    expect(all.length).toBeGreaterThan(500);
    expect(new Set(ours.map((i) => floorOf(i.from)))).toEqual(new Set(Object.keys(mayImport).filter((f) => f !== "gen")));
  });

  it("imports point down only", () => {
    const upward = ours.filter((i) => !mayImport[floorOf(i.from)]!.includes(floorOf(i.to))).map((i) => `${i.from} -> ${i.to}`);
    expect(upward).toEqual([]);
  });

  it("only src/kube talks to the Kubernetes API: elsewhere client-node is a source of types", () => {
    // The demo seeds its emulator as any outside client would, before kubedriver starts.
    const seeding = new Set(["src/cli/demo.ts"]);
    const calls = all
      .filter((i) => i.to === "@kubernetes/client-node" && !i.typeOnly && floorOf(i.from) !== "kube" && !seeding.has(i.from))
      .map((i) => i.from);
    expect(calls).toEqual([]);
    expect(all.filter((i) => i.to === "@kubernetes/client-node" && ["grpc", "common", "config", "observability"].includes(floorOf(i.from))).map((i) => i.from)).toEqual([]);
  });

  it("only src/grpc (and the CLI above it) knows gRPC and the generated code", () => {
    const grpcLibraries = new Set(["@grpc/grpc-js", "@grpc/reflection", "grpc-health-check"]);
    const outside = all.filter((i) => (grpcLibraries.has(i.to) || floorOf(i.to) === "gen") && !["grpc", "cli"].includes(floorOf(i.from))).map((i) => `${i.from} -> ${i.to}`);
    expect(outside).toEqual([]);
  });
});

describe("the floors inside core", () => {
  const core = ours.filter((i) => i.from.startsWith("src/core/") && i.to.startsWith("src/core/"));

  it("the shared floors (accounts, auth, shared) never import a feature", () => {
    const up = core.filter((i) => coreFloors.has(coreFolder(i.from)) && !coreFloors.has(coreFolder(i.to))).map((i) => `${i.from} -> ${i.to}`);
    expect(up).toEqual([]);
  });

  it("a feature reaches another feature only through its index.ts", () => {
    const into = core
      .filter((i) => !coreFloors.has(coreFolder(i.to)) && coreFolder(i.from) !== coreFolder(i.to) && !i.to.endsWith("/index.ts"))
      .map((i) => `${i.from} -> ${i.to}`);
    expect(into).toEqual([]);
  });

  it("has no import cycle", () => {
    const edges = new Map<string, string[]>();
    for (const i of core.filter((i) => !i.typeOnly)) edges.set(i.from, [...(edges.get(i.from) ?? []), i.to]);
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const walk = (file: string, trail: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "open");
      for (const next of edges.get(file) ?? []) walk(next, [...trail, file]);
      state.set(file, "done");
    };
    for (const file of edges.keys()) walk(file, []);
    expect(cycles).toEqual([]);
  });
});
