import { status as Code, type ClientReadableStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Kubedriver } from "../../../src/app.js";
import type { NamespaceProbe, WatchNamespacesResponse } from "../../../gen/kubedriver/v1/health.js";
import { HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { startFaultyCluster, type FaultyCluster } from "../../support/faults.js";
import { call, grpcError } from "../../support/grpc.js";

// Runs on the emulator and, unchanged, on a real cluster (KUBEDRIVER_TEST_KUBECONFIG),
// where faults come from a proxy in front of the API server. The 1 s interval keeps stream tests short;
// the interval logic itself is tested on fake time in monitor.test.ts.
let cluster: TestCluster;
let faulty: FaultyCluster;
let app: Kubedriver;
let kd: KubedriverOn;
let clients: KubedriverOn["clients"];
let namespaces: string[];

beforeAll(async () => {
  cluster = await startTestCluster();
  namespaces = [await cluster.createNamespace("health"), await cluster.createNamespace("health"), await cluster.createNamespace("health")];
  faulty = await startFaultyCluster(cluster);
  kd = await startKubedriverOn(cluster, {
    accounts: [{ name: "main", namespaces, kubeconfigFile: faulty.kubeconfigPath }],
    kubernetes: "healthCheckIntervalSeconds: 1\n  healthCheckTimeoutSeconds: 1",
  });
  app = kd.app;
  clients = kd.clients;
  // Provisioning reads every namespace once at start; count our GETs only once it is done.
  await eventually(async () => {
    const { account } = await call(clients.accounts.getAccount, clients.accounts, { account: "main" });
    expect(account?.lastProvisioning?.succeeded).toBe(true);
  }, { timeoutMs: 30_000 });
});

afterAll(async () => {
  await kd?.close();
  await faulty?.close();
  await cluster?.close();
});

/** Collects a stream's messages; `roundAtLeast(n)` resolves once a message for round ≥ n has arrived. */
function watch(stream: ClientReadableStream<WatchNamespacesResponse>) {
  const messages: WatchNamespacesResponse[] = [];
  stream.on("data", (m: WatchNamespacesResponse) => messages.push(m));
  stream.on("error", () => {});
  return {
    stream,
    messages,
    latest: () => messages.at(-1)?.round?.number ?? 0,
    roundAtLeast: (n: number) =>
      eventually(() => {
        if ((messages.at(-1)?.round?.number ?? 0) < n) throw new Error(`round ${n} not received yet`);
      }, { timeoutMs: 15_000 }),
  };
}

const byNamespace = (probes: NamespaceProbe[]) => Object.fromEntries(probes.map((p) => [p.namespace, p]));
/**
 * Namespace GETs: kubedriver's exactly, counted where they pass the fault
 * proxy (or the emulator), and the API server's own apiserver_request_total,
 * which on a real cluster also counts other test files' GETs.
 */
const namespaceGets = async () => ({
  ours: faulty.requestCount({ verb: "GET", resource: "namespaces" }),
  apiServer: await cluster.requestCount({ verb: "GET", resource: "namespaces" }),
});

describe(`namespace health on the ${onRealCluster ? "real cluster" : "emulator"}`, () => {
  it("streams every round to every watcher, with one namespace GET per namespace per round", async () => {
    const streams = Array.from({ length: 10 }, () => watch(clients.health.watchNamespaces({ accounts: [], namespaces: [] })));
    await Promise.all(streams.map((s) => s.roundAtLeast(1)));
    const start = Math.max(...streams.map((s) => s.latest()));
    await Promise.all(streams.map((s) => s.roundAtLeast(start)));
    const before = await namespaceGets();
    await Promise.all(streams.map((s) => s.roundAtLeast(start + 2)));
    const after = await namespaceGets();
    // Rounds start+1 and start+2 only: the next one is a whole interval away.
    expect(after.ours - before.ours).toBe(2 * namespaces.length);
    expect(after.apiServer - before.apiServer).toBeGreaterThanOrEqual(2 * namespaces.length);
    if (!onRealCluster) expect(after.apiServer - before.apiServer).toBe(2 * namespaces.length);
    for (const s of streams) {
      const numbers = s.messages.map((m) => m.round!.number);
      expect(numbers.slice(numbers.indexOf(start))).toEqual(expect.arrayContaining([start, start + 1, start + 2]));
      s.stream.cancel();
    }
    await eventually(() => expect(app.namespaceMonitor.subscriberCount).toBe(0));
  });

  it("answers NOT_FOUND for an unknown account before the stream starts", async () => {
    const s = watch(clients.health.watchNamespaces({ accounts: ["ghost"], namespaces: [] }));
    const err = await grpcError(new Promise((resolve, reject) => s.stream.on("error", reject).on("end", resolve)));
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(s.messages).toEqual([]);
  });

  it(
    "shows injected failures on exactly those namespaces, and their recovery",
    async () => {
      const [failing, hanging] = namespaces as [string, string];
      const undo = [
        faulty.faults.add({ namespace: failing, errorRate: 1, errorCode: 503 }),
        faulty.faults.add({ namespace: hanging, hang: true }),
      ];
      const res = await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces, fresh: true });
      const probes = byNamespace(res.round!.probes);
      expect(Object.keys(probes).sort()).toEqual([...namespaces].sort());
      expect(probes[failing]).toMatchObject({ reachable: false, error: { reason: "503 service unavailable" } });
      expect(probes[hanging]).toMatchObject({ reachable: false, error: { reason: "timeout" }, latency: { seconds: 1 } });

      undo.forEach((u) => u());
      // Fresh rounds are at most one per 5 s, so the recovery shows in the next round that runs.
      await eventually(async () => {
        const healed = await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces, fresh: true });
        expect(healed.round!.probes.every((p) => p.reachable)).toBe(true);
      });
    },
  );

  it(
    "turns kubedriver.v1.Health NOT_SERVING while the account's API server refuses connections, and back",
    async () => {
      const { grpcHealth } = clients;
      const status = async () => (await call(grpcHealth.check, grpcHealth, { service: "kubedriver.v1.Health" })).status;
      await faulty.refuseConnections(true);
      try {
        await eventually(async () => expect(await status()).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING), { timeoutMs: 10_000 });
        const res = await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces: [], fresh: false });
        expect(res.round!.probes.map((p) => p.error?.reason)).toEqual(res.round!.probes.map(() => "connection refused"));
      } finally {
        await faulty.refuseConnections(false);
      }
      await eventually(async () => expect(await status()).toBe(HealthCheckResponse_ServingStatus.SERVING), { timeoutMs: 10_000 });
    },
  );
  // Last: it removes one of the account's namespaces.
  it("reports a namespace deleted under it as `404 not found`, and only that one", async () => {
    const [gone, ...kept] = namespaces as [string, ...string[]];
    await cluster.core.deleteNamespace({ name: gone });
    // A real cluster finalizes the namespace first (still readable); poll until it is gone.
    const round = await eventually(async () => {
      const res = await call(clients.health.checkNamespaces, clients.health, { accounts: ["main"], namespaces: [], fresh: true });
      expect(byNamespace(res.round!.probes)[gone]?.reachable).toBe(false);
      return res.round!;
    }, { timeoutMs: onRealCluster ? 120_000 : 10_000 });
    const probes = byNamespace(round.probes);
    expect(probes[gone]).toMatchObject({ account: "main", error: { reason: "404 not found", detail: expect.stringContaining(gone) } });
    for (const ns of kept) expect(probes[ns]).toMatchObject({ reachable: true, round: round.number });
  }, 150_000);
});
