import { fork, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, type ClientReadableStream } from "@grpc/grpc-js";
import { afterAll, describe, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { resolveAccounts } from "../../src/core/accounts/resolve.js";
import { monitoredAccounts } from "../../src/core/health/accounts.js";
import { NamespaceMonitor } from "../../src/core/health/monitor.js";
import { silentLogger } from "../../src/observability/logger.js";
import { HealthClient, type WatchNamespacesResponse } from "../../gen/kubedriver/v1/health.js";
import { tempDir, writeKubeconfig } from "../support/kubeconfig.js";

/**
 * A bare namespace endpoint on loopback: answers every namespace GET after a
 * fixed latency and counts requests, so that what is measured is kubedriver,
 * with exactly the latency injected and nothing else.
 */
async function aNamespaceApi(latencyMs = 0) {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const name = decodeURIComponent(req.url?.split("?")[0]?.split("/").pop() ?? "");
    const answer = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name }, status: { phase: "Active" } }));
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const tmp = tempDir("kubedriver-bench-");
afterAll(() => tmp.cleanup());

function configYaml(url: string, accounts: { name: string; namespaces: string[] }[], kubernetes: Record<string, number> = {}): string {
  const kubeconfig = writeKubeconfig(path.join(tmp.dir, `kubeconfig-${Math.random().toString(36).slice(2)}`), {
    clusters: [{ name: "bench", server: url }],
  });
  const settings = Object.entries(kubernetes).map(([k, v]) => `  ${k}: ${v}\n`).join("");
  const lines = accounts.map((a) => `    - {name: ${a.name}, kubeconfigFile: ${kubeconfig}, namespaces: [${a.namespaces.join(", ")}], dockerRegistries: [{accountName: hub}]}`);
  return `
server: {listen: "127.0.0.1:0"}
kubernetes:
${settings}  accounts:
${lines.join("\n")}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: bench-password}]
`;
}

const configFor = (...args: Parameters<typeof configYaml>) => parseConfig(configYaml(...args));

/**
 * kubedriver in a child process, so that its memory is measured apart from
 * the thousands of client streams. Built with tsc into node_modules/.cache
 * (where node resolves the dependencies), driven over IPC.
 */
async function aServerProcess() {
  const out = fileURLToPath(new URL("../../node_modules/.cache/kubedriver-health-bench/", import.meta.url));
  const root = fileURLToPath(new URL("../../", import.meta.url));
  // Type errors elsewhere in the tree must not stop the build of what the bench runs: tsc emits regardless.
  spawnSync("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", out], { cwd: root, stdio: "ignore" });
  if (!fs.existsSync(path.join(out, "src/app.js"))) throw new Error(`tsc did not build ${out}src/app.js`);
  fs.writeFileSync(path.join(out, "package.json"), JSON.stringify({ type: "module" }));
  fs.writeFileSync(path.join(out, "health-bench-server.js"), serverScript);
  const child = fork(path.join(out, "health-bench-server.js"), { execArgv: ["--expose-gc"], stdio: "inherit" });
  let next = 0;
  const pending = new Map<number, (value: unknown) => void>();
  child.on("message", (m: { id: number; value: unknown }) => pending.get(m.id)?.(m.value));
  return {
    ask<T>(request: Record<string, unknown>): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve) => {
        pending.set(id, resolve as (value: unknown) => void);
        child.send({ id, ...request });
      });
    },
    kill: () => child.kill(),
  };
}

const serverScript = `
import { credentials } from "@grpc/grpc-js";
import { HealthClient, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health.js";
import { startKubedriver } from "./src/app.js";
import { parseConfig } from "./src/config/load.js";
import { silentLogger } from "./src/observability/logger.js";
let app;
let publishedAt = 0;
let clock;
const handlers = {
  async start({ yaml }) {
    app = await startKubedriver(parseConfig(yaml), silentLogger);
    await app.namespaceMonitor.latestRound();
    // Subscribed before any stream, so it sees each round first: the moment of publication.
    clock = app.namespaceMonitor.watch().subscribe(() => (publishedAt = performance.timeOrigin + performance.now()));
    return { address: app.grpc.address };
  },
  async memory() {
    global.gc();
    global.gc();
    return process.memoryUsage();
  },
  async round() {
    const round = await app.namespaceMonitor.runRound();
    // Rounds are handed to every stream synchronously before runRound resolves.
    return { number: round.number, publishedAt, fanOutMs: performance.timeOrigin + performance.now() - publishedAt };
  },
  async scale({ yaml }) {
    const started = performance.now();
    app = await startKubedriver(parseConfig(yaml), silentLogger);
    const health = new HealthClient(app.grpc.address, credentials.createInsecure());
    const status = (service) =>
      new Promise((resolve, reject) => health.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))));
    while (
      (await status("")) !== HealthCheckResponse_ServingStatus.SERVING ||
      (await status("kubedriver.v1.Health")) !== HealthCheckResponse_ServingStatus.SERVING
    );
    const toServingMs = performance.now() - started;
    health.close();
    const first = await app.namespaceMonitor.latestRound();
    const toFirstRoundMs = performance.now() - started;
    const { rss, heapUsed } = process.memoryUsage();
    const roundStarted = performance.now();
    const second = await app.namespaceMonitor.runRound();
    const roundMs = performance.now() - roundStarted;
    await app.stop();
    const unreachable = second.probes.filter((p) => !p.reachable).length;
    return { toServingMs, toFirstRoundMs, probes: first.probes.length, unreachable, rss, heapUsed, roundMs };
  },
  async stop() {
    clock.unsubscribe();
    await app.stop();
    return {};
  },
};
process.on("message", async ({ id, type, ...args }) => process.send({ id, value: await handlers[type](args) }));
`;

const names = (n: number, prefix = "ns") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (x: number) => x.toFixed(1);

describe("namespace health benchmark", () => {
  it("shares one probe round among 1 to 10,000 WatchNamespaces streams over 200 namespaces", async () => {
    const server = await aServerProcess();
    const rows: Record<string, string | number>[] = [];
    for (const streams of [1, 100, 1_000, 10_000]) {
      const api = await aNamespaceApi();
      // An hour-long interval: the benchmark triggers rounds itself.
      const yaml = configYaml(api.url, [{ name: "bench", namespaces: names(200) }], { healthCheckIntervalSeconds: 3600 });
      const { address } = await server.ask<{ address: string }>({ type: "start", yaml });
      const heapBefore = (await server.ask<{ heapUsed: number }>({ type: "memory" })).heapUsed;

      const connections = Array.from(
        { length: Math.min(streams, 50) },
        (_, i) => new HealthClient(address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1, "bench.connection": i }),
      );
      const receivedAt = new Map<number, number[]>();
      const open: ClientReadableStream<WatchNamespacesResponse>[] = [];
      let firstRounds = 0;
      const allFirst = new Promise<void>((resolve) => {
        for (let i = 0; i < streams; i++) {
          const stream = connections[i % connections.length]!.watchNamespaces({ accounts: [], namespaces: [] });
          stream.on("error", () => {});
          let first = true;
          stream.on("data", (m: WatchNamespacesResponse) => {
            if (first) {
              first = false;
              if (++firstRounds === streams) resolve();
              return;
            }
            const at = receivedAt.get(m.round!.number) ?? [];
            at.push(performance.timeOrigin + performance.now());
            receivedAt.set(m.round!.number, at);
          });
          open.push(stream);
        }
      });
      await allFirst;
      const heapAfter = (await server.ask<{ heapUsed: number }>({ type: "memory" })).heapUsed;

      const requestsPerRound: number[] = [];
      const delivery: number[] = [];
      const fanOut: number[] = [];
      for (let r = 0; r < (streams >= 10_000 ? 2 : 3); r++) {
        const before = api.requests;
        const round = await server.ask<{ number: number; publishedAt: number; fanOutMs: number }>({ type: "round" });
        requestsPerRound.push(api.requests - before);
        fanOut.push(round.fanOutMs);
        while ((receivedAt.get(round.number)?.length ?? 0) < streams) await new Promise((resolve) => setTimeout(resolve, 1));
        delivery.push(...receivedAt.get(round.number)!.map((t) => t - round.publishedAt));
      }
      delivery.sort((a, b) => a - b);
      rows.push({
        streams,
        "k8s requests/round": [...new Set(requestsPerRound)].join(","),
        "delivery p50 ms": ms(percentile(delivery, 50)),
        "delivery p99 ms": ms(percentile(delivery, 99)),
        "last subscriber ms": ms(delivery.at(-1)!),
        "server fan-out ms": ms(Math.max(...fanOut)),
        "server heap/stream KiB": ((heapAfter - heapBefore) / streams / 1024).toFixed(1),
      });
      open.forEach((s) => s.cancel());
      connections.forEach((c) => c.close());
      await server.ask({ type: "stop" });
      await api.close();
    }
    server.kill();
    console.log("\nWatchNamespaces fan-out, 200 namespaces (server in its own process; delivery = round published → a client has decoded it;\nserver fan-out = round published → handed to every stream)");
    console.table(rows);
  });

  it("probes 1,000 namespaces with 20 ms of API latency at concurrency 1, 8 and 32", async () => {
    const rows: Record<string, string | number>[] = [];
    const api = await aNamespaceApi(20);
    for (const concurrency of [1, 8, 32]) {
      const config = configFor(api.url, [{ name: "bench", namespaces: names(1_000) }]);
      const monitor = new NamespaceMonitor(monitoredAccounts(resolveAccounts(config)), {
        intervalMs: 3_600_000,
        timeoutMs: 5_000,
        concurrency,
        log: silentLogger,
      });
      const started = performance.now();
      const round = await monitor.runRound();
      const took = performance.now() - started;
      const floor = (1_000 * 20) / concurrency;
      rows.push({
        concurrency,
        "round ms": Math.round(took),
        "floor ms (ns × latency ÷ concurrency)": floor,
        "over floor": `${(((took - floor) / floor) * 100).toFixed(1)}%`,
        unreachable: round.probes.filter((p) => !p.reachable).length,
      });
      monitor.stop();
    }
    await api.close();
    console.log("\nProbe round, 1,000 namespaces, 20 ms injected latency");
    console.table(rows);
  });

  it("runs 1,000 accounts × 5 namespaces in one process", async () => {
    const api = await aNamespaceApi();
    const server = await aServerProcess();
    const accounts = names(1_000, "account").map((name) => ({ name, namespaces: names(5) }));
    const scale = await server.ask<Record<string, number>>({ type: "scale", yaml: configYaml(api.url, accounts) });
    server.kill();
    await api.close();
    console.log("\n1,000 accounts × 5 namespaces (concurrency 16, kubedriver in its own process, loopback API)");
    console.table([
      {
        "start → SERVING ms": Math.round(scale.toServingMs!),
        "start → first full round ms": Math.round(scale.toFirstRoundMs!),
        "probes/round": scale.probes,
        unreachable: scale.unreachable,
        "RSS after first round MiB": (scale.rss! / 2 ** 20).toFixed(0),
        "heap after first round MiB": (scale.heapUsed! / 2 ** 20).toFixed(0),
        "round ms": Math.round(scale.roundMs!),
      },
    ]);
  });
});
