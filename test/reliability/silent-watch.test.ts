import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Consistency } from "../../gen/kubedriver/v1/server_groups.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import type { FaultyCluster } from "../support/faults.js";
import { call } from "../support/grpc.js";
import { startKubedriverBehindFaults, type KubedriverOn } from "../support/kubedriver.js";
import { aCreateRequest } from "../support/server-groups.js";

// A watch that the API server (or a proxy in front of it) holds open and
// silent must not be trusted forever: a change made behind kubedriver's back
// reaches reads within the silence bound. The watches here end every 2 s and
// the next ones hang: the old reflector waited ~32 s for its watchdog, with
// the view still "ready" and stale.
let cluster: TestCluster;
let kd: KubedriverOn & { faulty: FaultyCluster };
let ns: string;
const maxSilenceMs = 3_000;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("silent");
  kd = await startKubedriverBehindFaults(cluster, {
    accounts: [{ name: "main", namespaces: [ns] }],
    options: { liveViews: { watchTimeoutSeconds: 2, maxSilenceMs, backoffMs: 50, maxBackoffMs: 200 } },
  });
}, 60_000);

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sg = () => kd.clients.serverGroups;
const get = (name: string) => call(sg().getServerGroup, sg(), { account: "main", namespace: ns, name, consistency: Consistency.CONSISTENCY_UNSPECIFIED });

describe("a watch held open and silent", () => {
  it("is replaced within the silence bound, so a resize made behind kubedriver's back is read", async () => {
    const name = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application: "quiet", targetSize: 1 }))).serverGroup!.name;
    await eventually(async () => expect((await get(name)).serverGroup!.targetSize).toBe(1));
    const silence = kd.faulty.faults.add({ namespace: ns, verbs: ["WATCH"], hang: true });
    try {
      // The watches open now end on the API server's 2 s timeout; the ones that replace them hang.
      await new Promise((r) => setTimeout(r, 3_000));
      await cluster.core.replaceNamespacedReplicationControllerScale({ namespace: ns, name, body: { metadata: { name, namespace: ns }, spec: { replicas: 3 } } });
      const started = Date.now();
      // The running watches end within 2 s, the next ones never answer: the bound, then a LIST, tell.
      await eventually(async () => expect((await get(name)).serverGroup!.targetSize).toBe(3), { timeoutMs: 2_000 + maxSilenceMs + 5_000 });
      expect(Date.now() - started).toBeLessThan(2_000 + maxSilenceMs + 5_000);
    } finally {
      silence();
    }
  });
});
