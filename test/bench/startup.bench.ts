import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { credentials, Metadata } from "@grpc/grpc-js";
import { describe, it } from "vitest";
import { HealthCheckResponse_ServingStatus, HealthClient } from "../../gen/grpc/health/v1/health.js";
import { ensureFreshBuild } from "../../bin/fresh-build.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves when grpc.health.v1 answers SERVING on `address`; the channel reconnects every 10 ms until it can. */
async function serving(address: string): Promise<void> {
  const client = new HealthClient(address, credentials.createInsecure(), {
    "grpc.initial_reconnect_backoff_ms": 10,
    "grpc.max_reconnect_backoff_ms": 10,
  });
  try {
    for (const deadline = Date.now() + 30_000; ; ) {
      await new Promise<void>((resolve, reject) => client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())));
      const status = await new Promise<HealthCheckResponse_ServingStatus | undefined>((resolve) =>
        client.check({ service: "" }, new Metadata(), { deadline }, (err, res) => resolve(err ? undefined : res.status)),
      );
      if (status === HealthCheckResponse_ServingStatus.SERVING) return;
      if (Date.now() > deadline) throw new Error(`${address} not SERVING within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    client.close();
  }
}

function rssKiB(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

/** One start of `command` (the demo: no config) until SERVING, then its resident memory after 2 s idle. */
async function startOnce(command: string, args: string[]): Promise<{ ms: number; rssMiB: number }> {
  const port = await freePort();
  const started = performance.now();
  // Its own process group, so that npm's child (the server) stops with it.
  const child = spawn(command, [...args, "--listen", `127.0.0.1:${port}`], { cwd: root, stdio: "ignore", detached: true });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await serving(`127.0.0.1:${port}`);
    const ms = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // npm's RSS is npm's; the server is the node process that holds the port.
    const rssMiB = command === "npm" ? NaN : rssKiB(child.pid!) / 1024;
    return { ms, rssMiB };
  } finally {
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  }
}

describe("start-up benchmark", () => {
  it("measures start → SERVING over grpc.health.v1, and idle RSS, on a built tree", async () => {
    ensureFreshBuild(root);
    const commands: [string, string, string[]][] = [
      ["npm start", "npm", ["start", "--silent", "--"]],
      ["bin/kubedriver.js serve", process.execPath, ["bin/kubedriver.js", "serve"]],
      ["node dist/src/main.js serve (the image's entrypoint)", process.execPath, ["dist/src/main.js", "serve"]],
    ];
    const rows: Record<string, string>[] = [];
    for (const [name, command, args] of commands) {
      await startOnce(command, args); // file cache warm, as on a machine that has run it before
      const runs: { ms: number; rssMiB: number }[] = [];
      for (let i = 0; i < 5; i++) runs.push(await startOnce(command, args));
      const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
      const rss = runs.map((r) => r.rssMiB).sort((a, b) => a - b);
      rows.push({
        command: name,
        "→ SERVING p50 ms": ms[2]!.toFixed(0),
        "min–max ms": `${ms[0]!.toFixed(0)}–${ms[4]!.toFixed(0)}`,
        "idle RSS MiB (p50)": Number.isNaN(rss[2]) ? "(npm's child: as below)" : rss[2]!.toFixed(0),
      });
    }
    console.log("\nStart-up with no config (demo on the embedded emulator): process spawned → grpc.health.v1 SERVING; 5 runs after one warm-up");
    console.table(rows);
  });
});
