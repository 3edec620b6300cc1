import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { startEmulator, type Emulator } from "../../src/emulator/index.js";

/**
 * The cluster integration tests talk to: the in-memory emulator by default,
 * or the real cluster `KUBEDRIVER_TEST_KUBECONFIG` points at (with
 * `KUBEDRIVER_TEST_KUBECONFIG_RESTRICTED` for a user that may only read
 * namespaces and pods). Tests are written once for both.
 */
export const onRealCluster = Boolean(process.env.KUBEDRIVER_TEST_KUBECONFIG);

/** The reason a fault-injection test gives when it skips on a real cluster. */
export const needsFaultInjection = "(needs the emulator's fault injection)";

export interface TestCluster {
  kind: "emulator" | "real";
  /** Admin kubeconfig file. */
  kubeconfigPath: string;
  /** Kubeconfig of a user that may only get/list namespaces and read pods. */
  restrictedKubeconfigPath: string;
  kubeConfig(): KubeConfig;
  core: CoreV1Api;
  /** Only on the emulator: fault injection, request log, stored objects. */
  emulator?: Emulator;
  /** A namespace name unique to this run, removed by `close()` if created. */
  uniqueNamespace(prefix?: string): string;
  /** Creates a uniquely named namespace (removed by `close()`). */
  createNamespace(prefix?: string): Promise<string>;
  /** `apiserver_request_total` summed over the given labels, read from /metrics. */
  requestCount(labels: { verb?: string; resource?: string; subresource?: string; code?: string }): Promise<number>;
  close(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubedriver-cluster-"));
  let emulator: Emulator | undefined;
  let kubeconfigPath: string;
  let restrictedKubeconfigPath: string;
  if (onRealCluster) {
    kubeconfigPath = process.env.KUBEDRIVER_TEST_KUBECONFIG!;
    restrictedKubeconfigPath = process.env.KUBEDRIVER_TEST_KUBECONFIG_RESTRICTED ?? "";
  } else {
    emulator = await startEmulator();
    kubeconfigPath = path.join(dir, "kubeconfig");
    restrictedKubeconfigPath = path.join(dir, "kubeconfig-restricted");
    fs.writeFileSync(kubeconfigPath, emulator.kubeconfig());
    fs.writeFileSync(restrictedKubeconfigPath, emulator.kubeconfig({ user: "restricted" }));
  }
  const kubeConfig = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    return kc;
  };
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const created = new Set<string>();
  const run = randomBytes(3).toString("hex");
  let counter = 0;
  const uniqueNamespace = (prefix = "kd") => `${prefix}-${run}-${counter++}`;

  return {
    kind: emulator ? "emulator" : "real",
    kubeconfigPath,
    restrictedKubeconfigPath,
    kubeConfig,
    core,
    emulator,
    uniqueNamespace: (prefix) => {
      const name = uniqueNamespace(prefix);
      created.add(name);
      return name;
    },
    async createNamespace(prefix) {
      const name = uniqueNamespace(prefix);
      created.add(name);
      await core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
    async requestCount(labels) {
      return requestCountFrom(await metricsText(kubeConfig()), labels);
    },
    async close() {
      if (emulator) await emulator.close();
      else {
        await Promise.all([...created].map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET /metrics with the kubeconfig's credentials, as client-node would send them. */
async function metricsText(kc: KubeConfig): Promise<string> {
  const cluster = kc.getCurrentCluster()!;
  const opts: { headers?: Record<string, string>; ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  await kc.applyToHTTPSOptions(opts as never);
  const https = await import("node:https");
  const http = await import("node:http");
  const url = new URL("/metrics", cluster.server);
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      { ...opts, method: "GET", rejectUnauthorized: !cluster.skipTLSVerify } as never,
      (res: import("node:http").IncomingMessage) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: ${res.statusCode} ${body}`))));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

export function requestCountFrom(metrics: string, labels: Record<string, string | undefined>): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    const m = /^apiserver_request_total\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const present = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => v === undefined || present[k] === v)) total += Number(m[2]);
  }
  return total;
}

/**
 * Polls `check` until it returns without throwing, or throws its last error
 * after the deadline: for asynchronous state such as pods made by a
 * controller, which is never instantaneous on a real cluster.
 */
export async function eventually<T>(check: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? (onRealCluster ? 60_000 : 5_000));
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? (onRealCluster ? 250 : 20)));
    }
  }
}
