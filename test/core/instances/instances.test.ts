import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceOutcome } from "../../../gen/kubedriver/v1/instances.js";
import { TrafficState } from "../../../gen/kubedriver/v1/server_group.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, grpcError } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { aCreateRequest } from "../../support/server-groups.js";

let cluster: TestCluster;
let kd: KubedriverOn;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("inst");
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] });
  await cluster.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "web" }, spec: { selector: { "load-balancer-web": "true" }, ports: [{ port: 80 }] } } });
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sg = () => kd.clients.serverGroups;
const inst = () => kd.clients.instances;

async function runningGroup(application: string, size: number) {
  const name = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application, targetSize: size, loadBalancers: ["web"] }))).serverGroup!.name;
  return eventually(async () => {
    const g = (await call(sg().getServerGroup, sg(), { account: "main", namespace: ns, name, consistency: 0 })).serverGroup!;
    if (g.instances.filter((i) => i.ready).length !== size) throw new Error("not ready yet");
    return g;
  });
}

describe("DeregisterInstances / RegisterInstances", () => {
  it("takes one pod out, shows the group partly enabled, and enabling does not put it back", async () => {
    const group = await runningGroup("dereg", 2);
    const [one, other] = group.instances.map((i) => i.name);
    const res = await call(inst().deregisterInstances, inst(), { account: "main", namespace: ns, names: [one!], loadBalancers: ["web"], requestId: "" });
    expect(res.results).toEqual([expect.objectContaining({ name: one, outcome: InstanceOutcome.INSTANCE_OUTCOME_CHANGED, serverGroup: group.name })]);

    const partial = (await call(sg().getServerGroup, sg(), { account: "main", namespace: ns, name: group.name, consistency: 0 })).serverGroup!;
    expect(partial.traffic).toBe(TrafficState.TRAFFIC_STATE_PARTIAL);
    expect(partial.instances.find((i) => i.name === one)).toMatchObject({ enabled: false, deregisteredLoadBalancers: ["web"] });
    expect(partial.instances.find((i) => i.name === other)).toMatchObject({ enabled: true, deregisteredLoadBalancers: [] });

    const enabled = await call(sg().enableServerGroup, sg(), { account: "main", namespace: ns, name: group.name, requestId: "" });
    expect(enabled.changedInstances).toEqual([]);
    const pod = await cluster.core.readNamespacedPod({ namespace: ns, name: one! });
    expect(pod.metadata?.labels?.["load-balancer-web"]).toBe("false");

    const back = await call(inst().registerInstances, inst(), { account: "main", namespace: ns, names: [one!], loadBalancers: [], requestId: "" });
    expect(back.results[0]!.outcome).toBe(InstanceOutcome.INSTANCE_OUTCOME_CHANGED);
    const whole = (await call(sg().getServerGroup, sg(), { account: "main", namespace: ns, name: group.name, consistency: 0 })).serverGroup!;
    expect(whole.traffic).toBe(TrafficState.TRAFFIC_STATE_ENABLED);
  });

  it("reports pods that are missing, foreign or not behind the load balancer, per instance", async () => {
    const group = await runningGroup("report", 1);
    await cluster.core.createNamespacedPod({ namespace: ns, body: { metadata: { name: "stranger" }, spec: { containers: [{ name: "c", image: "busybox" }] } } });
    const res = await call(inst().deregisterInstances, inst(), {
      account: "main",
      namespace: ns,
      names: ["nope", "stranger", group.instances[0]!.name],
      loadBalancers: ["other"],
      requestId: "",
    });
    expect(res.results.map((r) => r.outcome)).toEqual([
      InstanceOutcome.INSTANCE_OUTCOME_NOT_FOUND,
      InstanceOutcome.INSTANCE_OUTCOME_NOT_MANAGED,
      InstanceOutcome.INSTANCE_OUTCOME_NOT_BEHIND_LOAD_BALANCER,
    ]);
  });
});

describe("TerminateInstances", () => {
  it("deletes the pod and the ReplicationController replaces it", async () => {
    const group = await runningGroup("term", 1);
    const victim = group.instances[0]!.name;
    const res = await call(inst().terminateInstances, inst(), { account: "main", namespace: ns, names: [victim], requestId: "term-1" });
    expect(res.results[0]).toMatchObject({ name: victim, outcome: InstanceOutcome.INSTANCE_OUTCOME_CHANGED });
    const again = await call(inst().terminateInstances, inst(), { account: "main", namespace: ns, names: [victim], requestId: "term-1" });
    expect(again.results).toEqual(res.results);
    await eventually(async () => {
      const g = (await call(sg().getServerGroup, sg(), { account: "main", namespace: ns, name: group.name, consistency: 0 })).serverGroup!;
      if (g.instances.length !== 1 || g.instances[0]!.name === victim) throw new Error("not replaced yet");
    });
  });

  it("refuses an empty or repeated list with field paths", async () => {
    const err = await grpcError(call(inst().terminateInstances, inst(), { account: "main", namespace: ns, names: ["a", "a"], requestId: "" }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
  });
});

describe("GetInstanceLogs", () => {
  it.skipIf(onRealCluster)("returns the container's log, bounded by limit_bytes (KWOK pods have no kubelet to serve logs)", async () => {
    const group = await runningGroup("logs", 1);
    const name = group.instances[0]!.name;
    const log = await call(inst().getInstanceLogs, inst(), { account: "main", namespace: ns, name, container: "", tailLines: 0, since: undefined, limitBytes: 0 });
    expect(log.content).toContain("started");
    expect(log.truncated).toBe(false);
    const cut = await call(inst().getInstanceLogs, inst(), { account: "main", namespace: ns, name, container: "web", tailLines: 10, since: undefined, limitBytes: 5 });
    expect(Buffer.byteLength(cut.content)).toBe(5);
    expect(cut.truncated).toBe(true);
  });

  it.skipIf(onRealCluster)("cuts a long log at a character boundary, never inside a character (KWOK pods have no kubelet to serve logs)", async () => {
    const group = await runningGroup("logsutf8", 1);
    const name = group.instances[0]!.name;
    cluster.emulator!.writeLog(ns, name, "web", "€€€€\n");
    const cut = await call(inst().getInstanceLogs, inst(), { account: "main", namespace: ns, name, container: "web", tailLines: 1, since: undefined, limitBytes: 4 });
    expect(cut).toEqual({ content: "€", truncated: true });
  });

  it("answers NOT_FOUND naming an unknown container", async () => {
    const group = await runningGroup("logsnf", 1);
    const err = await grpcError(
      call(inst().getInstanceLogs, inst(), { account: "main", namespace: ns, name: group.instances[0]!.name, container: "nope", tailLines: 0, since: undefined, limitBytes: 0 }),
    );
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(err.details).toContain('container "nope"');
  });
});
