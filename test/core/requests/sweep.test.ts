import { afterAll, beforeAll, expect, it } from "vitest";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import type { FaultyCluster } from "../../support/faults.js";
import { call } from "../../support/grpc.js";
import { startKubedriverBehindFaults, type KubedriverOn } from "../../support/kubedriver.js";
import { aCreateRequest } from "../../support/server-groups.js";

// Request records expire after 24 hours; the first claim in a namespace (and every 100th after) looks for
// expired ones in the background, so that records do not pile up in a namespace forever.
let cluster: TestCluster;
let kd: KubedriverOn & { faulty: FaultyCluster };
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("sweep");
  kd = await startKubedriverBehindFaults(cluster, { accounts: [{ name: "main", namespaces: [ns] }] });
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sweeps = () => kd.faulty.requestCount({ verb: "LIST", resource: "secrets" });

it("sweeps expired request records on the first claim in a namespace, not on every one", async () => {
  const sg = kd.clients.serverGroups;
  expect(sweeps()).toBe(0);
  await call(sg.createServerGroup, sg, aCreateRequest({ namespace: ns, application: "swept", targetSize: 0, requestId: "sweep-1" }));
  await eventually(() => expect(sweeps()).toBe(1));
  for (let i = 2; i <= 5; i++) await call(sg.createServerGroup, sg, aCreateRequest({ namespace: ns, application: "swept", targetSize: 0, requestId: `sweep-${i}` }));
  expect(sweeps()).toBe(1);
  // The records themselves are young, so they stay.
  const records = await cluster.core.listNamespacedSecret({ namespace: ns, labelSelector: "kubedriver.io/request-record=true" });
  expect(records.items).toHaveLength(5);
});
