import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { loadConfigFile } from "../../src/config/load.js";
import { startEmulator, type Emulator } from "../../src/emulator/index.js";
import { silentLogger } from "../../src/observability/logger.js";
import { eventually } from "../support/cluster.js";
import { tempDir } from "../support/kubeconfig.js";

/**
 * 1,000 accounts (one namespace and one pull secret each) on the emulator,
 * reloaded under a running kubedriver: unchanged, then with one account
 * changed. Counts the Kubernetes requests each reload causes and times how
 * long the reload takes to be in force. BENCH_ACCOUNTS sets another size.
 */
const size = Number(process.env.BENCH_ACCOUNTS ?? 1_000);
const tmp = tempDir("kubedriver-bench-reload-");
const configFile = path.join(tmp.dir, "config.yaml");
const kubeconfig = path.join(tmp.dir, "kubeconfig");
let emulator: Emulator;
let app: Kubedriver;

function writeConfig(extra: { account: number; namespace: string } | undefined) {
  const lines = Array.from({ length: size }, (_, i) => {
    const namespaces = [`bench-${i}`, ...(extra?.account === i ? [extra.namespace] : [])];
    return `    - {name: a${i}, kubeconfigFile: ${kubeconfig}, namespaces: [${namespaces.join(", ")}], dockerRegistries: [{accountName: hub}]}`;
  });
  fs.writeFileSync(
    `${configFile}.next`,
    `server: {listen: "127.0.0.1:0"}
kubernetes:
  healthCheckIntervalSeconds: 86400
  accounts:
${lines.join("\n")}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: bench-password}]
`,
  );
  fs.renameSync(`${configFile}.next`, configFile);
}

/** Waits until the emulator has seen no request for a while: start-up provisioning, views and the first probe round are done. */
async function quiet(): Promise<number> {
  let last = -1;
  for (;;) {
    const now = emulator.requests.count();
    if (now === last) return now;
    last = now;
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  emulator = await startEmulator();
  fs.writeFileSync(kubeconfig, emulator.kubeconfig());
  writeConfig(undefined);
  // Reloads are driven by the benchmark alone: the poll interval is longer than the run.
  app = await startKubedriver(loadConfigFile(configFile), silentLogger, { configFile, configPollIntervalMs: 3_600_000 });
  await eventually(() => expect(emulator.objects("secrets").filter((s) => s.metadata?.name === "hub").length).toBe(size), { timeoutMs: 300_000, intervalMs: 200 });
  await quiet();
});

afterAll(async () => {
  await app?.stop();
  await emulator?.close();
  tmp.cleanup();
});

describe(`reloading ${size} accounts`, () => {
  it("reloads the unchanged file with no Kubernetes request", async () => {
    const before = await quiet();
    const started = performance.now();
    expect(await app.reload("bench")).toBe("unchanged");
    const ms = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1_000));
    const requests = emulator.requests.count() - before;
    console.log(`unchanged reload of ${size} accounts: ${ms.toFixed(0)} ms, ${requests} Kubernetes requests`);
    expect(requests).toBe(0);
    expect(ms).toBeLessThan(1_000);
  });

  it("re-provisions only the one account changed, in force in under 1 s", async () => {
    const namespace = "bench-added";
    const before = await quiet();
    const inNamespace = emulator.requests.count({ namespace });
    // A namespace create names no namespace in its path.
    const creates = emulator.requests.count({ verb: "POST", resource: "namespaces" });
    writeConfig({ account: Math.floor(size / 2), namespace });
    const started = performance.now();
    expect(await app.reload("bench")).toBe("applied");
    const ms = performance.now() - started;
    await eventually(() => expect(emulator.objects("secrets", namespace).some((s) => s.metadata?.name === "hub")).toBe(true));
    await quiet();
    const requests = emulator.requests.count() - before;
    const ofChanged = emulator.requests.count({ namespace }) - inNamespace + emulator.requests.count({ verb: "POST", resource: "namespaces" }) - creates;
    console.log(`one account changed among ${size}: applied in ${ms.toFixed(0)} ms; ${requests} Kubernetes requests, ${ofChanged} of them in its new namespace`);
    // Namespace GET+create, secret GET+create, and the new namespace's live views (LIST+WATCH of RCs, pods, HPAs and Services): nothing elsewhere.
    expect(requests).toBe(ofChanged);
    expect(requests).toBeLessThanOrEqual(12);
    expect(ms).toBeLessThan(1_000);
  });
});
