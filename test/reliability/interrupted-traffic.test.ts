import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrafficState } from "../../gen/kubedriver/v1/server_group.js";
import { Consistency } from "../../gen/kubedriver/v1/server_groups.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../support/cluster.js";
import { startFaultyCluster, type FaultyCluster } from "../support/faults.js";
import { call, clientsFor, grpcError } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";
import { startKubedriverProcess } from "../support/process.js";
import { aCreateRequest } from "../support/server-groups.js";

// An enable/disable cut short between its two steps (the template, then the
// pods) must never be reported as done, and must be completed by kubedriver
// itself, without a caller's retry.
let cluster: TestCluster;
let faulty: FaultyCluster;
let ns: string;

const leaseMs = 1_000;
const convergeWithinMs = leaseMs + 1_000 + (onRealCluster ? 10_000 : 3_000);

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("cut");
  await cluster.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "front" }, spec: { selector: { "load-balancer-front": "true" }, ports: [{ port: 80 }] } },
  });
  faulty = await startFaultyCluster(cluster);
}, 60_000);

afterAll(async () => {
  await faulty?.close();
  await cluster?.close();
});

/** Every kubedriver RC and pod of the namespace: template value, pod values, and whether it is marked pending. */
async function trafficInCluster(name: string) {
  const rc = await cluster.core.readNamespacedReplicationController({ namespace: ns, name });
  const pods = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: `kubedriver.io/server-group=${name}` })).items.filter(
    (p) => !p.metadata?.deletionTimestamp,
  );
  return {
    template: rc.spec!.template!.metadata!.labels!["load-balancer-front"],
    pods: pods.map((p) => p.metadata!.labels!["load-balancer-front"]),
    pending: rc.metadata?.labels?.["kubedriver.io/traffic-pending"],
  };
}

describe("a connection cut between the template patch and the pod patches", () => {
  let kd: KubedriverOn;
  beforeAll(async () => {
    kd = await startKubedriverOn(cluster, {
      accounts: [{ name: "main", namespaces: [ns], kubeconfigFile: faulty.kubeconfigPath }],
      kubernetes: "healthCheckIntervalSeconds: 1",
      options: { trafficLeaseMs: leaseMs },
    });
  });
  afterAll(async () => kd?.close());

  it("shows the group as partly enabled, then completes the disable by itself", async () => {
    const sg = kd.clients.serverGroups;
    await call(sg.createServerGroup, sg, aCreateRequest({ namespace: ns, application: "cut", targetSize: 3, loadBalancers: ["front"] }));
    await eventually(async () => expect((await trafficInCluster("cut-v000")).pods).toHaveLength(3));
    const ref = { account: "main", namespace: ns, name: "cut-v000", requestId: "" };

    const cut = faulty.faults.add({ namespace: ns, verbs: ["PATCH"], resources: ["pods"], reset: true });
    const err = await grpcError(call(sg.disableServerGroup, sg, ref));
    expect(err.code, err.details).toBe(Code.UNAVAILABLE);
    const halfway = (await call(sg.getServerGroup, sg, { ...ref, consistency: 0 })).serverGroup!;
    expect(halfway.traffic).toBe(TrafficState.TRAFFIC_STATE_PARTIAL);
    expect(halfway.enabled).toBe(false);
    expect(await trafficInCluster("cut-v000")).toMatchObject({ template: "false", pods: ["true", "true", "true"], pending: "true" });

    cut();
    await eventually(async () => expect(await trafficInCluster("cut-v000")).toEqual({ template: "false", pods: ["false", "false", "false"], pending: undefined }), {
      timeoutMs: convergeWithinMs,
    });
    const after = (await call(sg.getServerGroup, sg, { ...ref, consistency: 0 })).serverGroup!;
    expect(after.traffic).toBe(TrafficState.TRAFFIC_STATE_DISABLED);
    expect(after.instances.map((i) => i.enabled)).toEqual([false, false, false]);
  });
});

describe("kubedriver killed (kill -9) while enable/disable calls are in flight", () => {
  const configYaml = () => `
server: {listen: "127.0.0.1:0"}
kubernetes:
  healthCheckIntervalSeconds: 1
  accounts:
    - name: main
      kubeconfigFile: ${JSON.stringify(cluster.kubeconfigPath)}
      namespaces: [${ns}]
      dockerRegistries: [{accountName: hub}]
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: kill-suite-pw}]
`;
  const groups = Array.from({ length: 5 }, (_, i) => `killed-s${i}-v000`);

  it("leaves no group reported enabled or disabled while half done, and every one converges after a restart", async () => {
    const first = await startKubedriverProcess(configYaml(), { trafficLeaseMs: leaseMs });
    let clients = clientsFor(first.address);
    for (const [i, name] of groups.entries()) {
      const created = await call(clients.serverGroups.createServerGroup, clients.serverGroups, aCreateRequest({ namespace: ns, application: "killed", stack: `s${i}`, targetSize: 3, loadBalancers: ["front"] }));
      expect(created.serverGroup!.name).toBe(name);
    }
    await eventually(async () => {
      for (const name of groups) expect((await trafficInCluster(name)).pods).toHaveLength(3);
    });
    let running = first;
    for (let round = 0; round < 3; round++) {
      const sg = clients.serverGroups;
      // Fifty flips in flight over five groups, then the process dies mid-way.
      const inFlight = Array.from({ length: 50 }, (_, i) => {
        const ref = { account: "main", namespace: ns, name: groups[i % groups.length]!, requestId: "" };
        return (i % 2 ? call(sg.enableServerGroup, sg, ref) : call(sg.disableServerGroup, sg, ref)).catch(() => undefined);
      });
      await new Promise((r) => setTimeout(r, 30 + round * 20));
      await running.kill9();
      await Promise.all(inFlight);
      clients.close();

      running = await startKubedriverProcess(configYaml(), { trafficLeaseMs: leaseMs });
      clients = clientsFor(running.address);
      // Whatever the kill left, reads tell the truth about it: a group is reported enabled (or
      // disabled) only when every instance in the same answer is. (Writes the dead process had sent
      // still land for a moment, so the answer is compared with itself, not with a second read.)
      for (const name of groups) {
        const g = (await call(clients.serverGroups.getServerGroup, clients.serverGroups, { account: "main", namespace: ns, name, consistency: Consistency.CONSISTENCY_STRONG })).serverGroup!;
        if (g.traffic === TrafficState.TRAFFIC_STATE_ENABLED) expect(g.instances.map((i) => i.enabled)).not.toContain(false);
        if (g.traffic === TrafficState.TRAFFIC_STATE_DISABLED) expect(g.instances.map((i) => i.enabled)).not.toContain(true);
        expect(g.enabled).toBe(g.traffic === TrafficState.TRAFFIC_STATE_ENABLED);
      }
      // ...and with nobody retrying, every group comes to agree with its template.
      await eventually(
        async () => {
          for (const name of groups) {
            const live = await trafficInCluster(name);
            expect(live.pending).toBeUndefined();
            expect(live.pods).toEqual([live.template, live.template, live.template]);
          }
        },
        { timeoutMs: convergeWithinMs },
      );
    }
    clients.close();
    await running.stop();
  }, 120_000);
});
