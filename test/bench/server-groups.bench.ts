import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { replicationControllerFor } from "../../src/core/server-groups/manifest.js";
import { silentLogger } from "../../src/observability/logger.js";
import { onRealCluster, startTestCluster, type TestCluster } from "../support/cluster.js";
import { call, clientsFor } from "../support/grpc.js";
import { aCreateRequest } from "../support/server-groups.js";

/**
 * CreateServerGroup and ListServerGroups through kubedriver against the same
 * Kubernetes calls made directly with client-node, side by side in one run,
 * on the emulator (npm run bench) or a real cluster
 * (KUBEDRIVER_TEST_KUBECONFIG=… npm run bench).
 */
let cluster: TestCluster;
let app: Kubedriver;
let clients: ReturnType<typeof clientsFor>;
let ns: string;
let listNs: string;
const rows: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("bench-sg");
  listNs = await cluster.createNamespace("bench-list");
  app = await startKubedriver(
    parseConfig(`
server: {listen: "127.0.0.1:0"}
kubernetes:
  accounts: [{name: main, kubeconfigFile: ${cluster.kubeconfigPath}, namespaces: [${ns}, ${listNs}], dockerRegistries: [{accountName: hub}]}]
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: bench-pw}]
`),
    silentLogger,
  );
  clients = clientsFor(app.grpc.address);
}, 120_000);

afterAll(async () => {
  console.log(`\nServer groups on ${onRealCluster ? "a real control plane" : "the emulator"}\n${rows.join("\n")}\n`);
  clients?.close();
  await app?.stop();
  await cluster?.close();
});

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

/** Requests kubedriver's Create and List make, counted from apiserver_request_total. */
const counted = [
  { verb: "LIST", resource: "replicationcontrollers" },
  { verb: "POST", resource: "replicationcontrollers" },
  { verb: "GET", resource: "services" },
  { verb: "LIST", resource: "pods" },
];
async function requestTotal(): Promise<number> {
  let total = 0;
  for (const labels of counted) total += await cluster.requestCount(labels);
  return total;
}

function row(name: string, ours: number[], direct: number[], requestsPerCall: number): void {
  const p50 = percentile(ours, 50);
  const d50 = percentile(direct, 50);
  rows.push(
    `${name.padEnd(34)} kubedriver p50 ${p50.toFixed(2).padStart(7)} ms p99 ${percentile(ours, 99).toFixed(2).padStart(7)} ms | ` +
      `client-node p50 ${d50.toFixed(2).padStart(7)} ms p99 ${percentile(direct, 99).toFixed(2).padStart(7)} ms | ratio ${(p50 / d50).toFixed(2)} | ` +
      `k8s requests/RPC ${requestsPerCall.toFixed(1)}`,
  );
}

describe("server group latency, kubedriver vs direct client-node", () => {
  it("CreateServerGroup", async () => {
    const n = 50;
    const kube = app && cluster.core;
    const spec = { application: "direct", stack: "", detail: "", targetSize: 0, containers: [{ name: "web", image: "registry.example.com/team/web:1.0", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }], loadBalancers: [], volumes: [], labels: {}, annotations: {}, nodeSelector: {} };
    // Warm both paths (connections, JIT) before measuring.
    await call(clients.serverGroups.createServerGroup, clients.serverGroups, aCreateRequest({ namespace: ns, application: "warm", targetSize: 0 }));
    await kube.listNamespacedReplicationController({ namespace: ns, labelSelector: "kubedriver.io/cluster=warm" });

    const before = await requestTotal();
    const ours = await time(n, () =>
      call(clients.serverGroups.createServerGroup, clients.serverGroups, aCreateRequest({ namespace: ns, application: "bench", targetSize: 0 })),
    );
    const perCall = ((await requestTotal()) - before) / n;
    // The same calls made directly: list the cluster's versions, create the next one.
    const direct = await time(n, async (i) => {
      await kube.listNamespacedReplicationController({ namespace: ns, labelSelector: "app.kubernetes.io/managed-by=kubedriver,kubedriver.io/cluster=direct" });
      await kube.createNamespacedReplicationController({ namespace: ns, body: replicationControllerFor(spec as never, i, ["hub"]) });
    });
    row("CreateServerGroup", ours, direct, perCall);
  }, 300_000);

  it("ListServerGroups over 1,000 groups (pages of 500)", async () => {
    const spec = { application: "", stack: "", detail: "", targetSize: 0, containers: [{ name: "web", image: "web:1", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }], loadBalancers: [], volumes: [], labels: {}, annotations: {}, nodeSelector: {} };
    for (let a = 0; a < 10; a++) {
      const batch = Array.from({ length: 100 }, (_, v) => replicationControllerFor({ ...spec, application: `list${a}` } as never, v, []));
      for (let i = 0; i < batch.length; i += 25) {
        await Promise.all(batch.slice(i, i + 25).map((body) => cluster.core.createNamespacedReplicationController({ namespace: listNs, body })));
      }
    }
    const listAll = async () => {
      let token = "";
      do {
        const page = await call(clients.serverGroups.listServerGroups, clients.serverGroups, {
          account: "main",
          namespaces: [listNs],
          application: "",
          cluster: "",
          pageSize: 500,
          pageToken: token, consistency: 0,
        });
        token = page.nextPageToken;
      } while (token);
    };
    await listAll();
    const n = 10;
    const before = await requestTotal();
    const ours = await time(n, listAll);
    const perCall = ((await requestTotal()) - before) / n / 2;
    const selector = "app.kubernetes.io/managed-by=kubedriver";
    const direct = await time(n, async () => {
      for (let page = 0; page < 2; page++) {
        await Promise.all([
          cluster.core.listNamespacedReplicationController({ namespace: listNs, labelSelector: selector }),
          cluster.core.listNamespacedPod({ namespace: listNs, labelSelector: selector }),
        ]);
      }
    });
    row("ListServerGroups, 1,000 (2 pages)", ours, direct, perCall);
  }, 600_000);
});
