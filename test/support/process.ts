import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { KubedriverOptions } from "../../src/app.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** Inside node_modules, so that node resolves the dependencies from the build. */
const out = path.join(root, "node_modules/.cache/kubedriver-test-build");

let built: string | undefined;

/** This tree compiled with tsc (incrementally), once per test process. */
function build(): string {
  if (built) return built;
  // Type errors elsewhere in the tree must not stop the build: tsc emits regardless, and the typecheck is CI's job.
  spawnSync("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", out, "--incremental", "--tsBuildInfoFile", path.join(out, ".tsbuildinfo")], {
    cwd: root,
    stdio: "ignore",
  });
  if (!fs.existsSync(path.join(out, "src/app.js"))) throw new Error(`tsc did not build ${out}/src/app.js`);
  fs.writeFileSync(path.join(out, "package.json"), JSON.stringify({ type: "module" }));
  fs.writeFileSync(path.join(out, "serve-for-test.js"), serveScript);
  return (built = out);
}

const serveScript = `
import fs from "node:fs";
import { startKubedriver } from "./src/app.js";
import { parseConfig } from "./src/config/load.js";
import { Logger } from "./src/observability/logger.js";

const log = new Logger({ write: (line) => process.stdout.write(line + "\\n") });
const app = await startKubedriver(parseConfig(fs.readFileSync(process.argv[2], "utf8")), log, JSON.parse(process.argv[3]));
process.stdout.write(JSON.stringify({ msg: "test server listening", address: app.grpc.address }) + "\\n");
process.on("SIGTERM", () => app.stop().then(() => process.exit(0)));
`;

export interface KubedriverProcess {
  address: string;
  /** Every line it printed so far. */
  lines: string[];
  /** kill -9: no shutdown, no cleanup, calls in flight cut. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** kubedriver in a child process of its own, so that a test can kill it as an operator's node would. */
export async function startKubedriverProcess(configYaml: string, options: KubedriverOptions = {}): Promise<KubedriverProcess> {
  const dir = build();
  const configFile = path.join(fs.mkdtempSync(path.join(dir, "config-")), "kubedriver.yaml");
  fs.writeFileSync(configFile, configYaml);
  const child = spawn(process.execPath, [path.join(dir, "serve-for-test.js"), configFile, JSON.stringify(options)], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        if (line.includes('"test server listening"')) resolve((JSON.parse(line) as { address: string }).address);
      }
    });
    void exited.then(() => reject(new Error(`kubedriver exited before listening:\n${lines.join("\n")}`)));
  });
  const end = async (child: ChildProcess, signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { address, lines, kill9: () => end(child, "SIGKILL"), stop: () => end(child, "SIGTERM") };
}
