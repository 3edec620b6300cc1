import { status as Code, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/observability/logger.js";
import { startTestCluster, type TestCluster } from "../support/cluster.js";
import { startFaultyCluster, type FaultyCluster } from "../support/faults.js";
import { call, clientsFor } from "../support/grpc.js";
import { aCreateRequest } from "../support/server-groups.js";

let cluster: TestCluster;
let faulty: FaultyCluster;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("shutdown");
  faulty = await startFaultyCluster(cluster);
}, 60_000);

afterAll(async () => {
  await faulty?.close();
  await cluster?.close();
});

it("finishes every accepted unary call when it stops under load, and refuses the ones that come after", async () => {
  const app: Kubedriver = await startKubedriver(
    parseConfig(`
server: {listen: "127.0.0.1:0", shutdownGraceSeconds: 30}
kubernetes:
  accounts:
    - {name: main, kubeconfigFile: ${faulty.kubeconfigPath}, namespaces: [${ns}], dockerRegistries: [{accountName: hub}]}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: pw-shutdown}]
`),
    silentLogger,
  );
  const clients = clientsFor(app.grpc.address);
  const sg = clients.serverGroups;
  try {
    // Slow Kubernetes answers keep the calls in flight while the server stops.
    faulty.faults.add({ namespace: ns, latencyMs: 400 });
    const inFlight = Array.from({ length: 120 }, (_, i) =>
      i % 4 === 0
        ? call(sg.createServerGroup, sg, aCreateRequest({ namespace: ns, application: "drain", targetSize: 0 }))
        : call(sg.listServerGroups, sg, { account: "main", namespaces: [ns], application: "", cluster: "", pageSize: 0, pageToken: "" , consistency: 0}),
    );
    // Until the server has them all, stopping could refuse some that were never accepted.
    while (app.grpc.activeUnaryCalls < inFlight.length) await new Promise((r) => setTimeout(r, 10));
    const stopped = app.stop();

    const outcomes = await Promise.allSettled(inFlight);
    const failed = outcomes.filter((o) => o.status === "rejected").map((o) => (o.reason as ServiceError).details);
    expect(failed).toEqual([]);
    const created = (await cluster.core.listNamespacedReplicationController({ namespace: ns })).items.map((rc) => rc.metadata!.name).sort();
    expect(created).toHaveLength(30);
    expect(new Set(created).size).toBe(30);

    await stopped;
    const late = await call(sg.listServerGroups, sg, { account: "main", namespaces: [], application: "", cluster: "", pageSize: 0, pageToken: "" , consistency: 0}).catch(
      (err: ServiceError) => err.code,
    );
    expect(late).toBe(Code.UNAVAILABLE);
  } finally {
    clients.close();
    await app.stop();
  }
}, 60_000);
