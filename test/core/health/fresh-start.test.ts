import { afterAll, beforeAll, expect, it } from "vitest";
import { Logger } from "../../../src/observability/logger.js";
import { HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health.js";
import { startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";

// A fresh start on a cluster where the account's namespaces do not exist yet:
// provisioning creates them, and the first probe round must not call them unreachable.
let cluster: TestCluster;
let kd: KubedriverOn;
const lines: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
}, 60_000);

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

it("never reports a namespace being provisioned unreachable, in CheckNamespaces or the log", async () => {
  const namespaces = [cluster.uniqueNamespace("fresh"), cluster.uniqueNamespace("fresh")];
  kd = await startKubedriverOn(cluster, {
    accounts: [{ name: "fresh", namespaces }],
    kubernetes: "healthCheckIntervalSeconds: 3600",
    log: new Logger({ level: "debug", write: (line) => lines.push(line) }),
  });
  const { grpcHealth, health } = kd.clients;
  const serving = await call(grpcHealth.check, grpcHealth, { service: "kubedriver.v1.Health" });
  expect(serving.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

  const { round } = await call(health.checkNamespaces, health, { accounts: [], namespaces: [], fresh: false });
  expect(round!.number).toBe(1);
  expect(round!.probes.map((p) => [p.namespace, p.reachable, p.error?.reason])).toEqual(namespaces.sort().map((ns) => [ns, true, undefined]));
  expect(lines.filter((l) => l.includes('"msg":"namespace created"'))).toHaveLength(2);
  expect(lines.filter((l) => /unreachable/.test(JSON.parse(l).msg as string))).toEqual([]);
});
