import { status as Code, type ServiceError } from "@grpc/grpc-js";
import { AutoscalingV2Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UpsertLoadBalancerRequest } from "../../../gen/kubedriver/v1/load_balancers.js";
import { InstanceOutcome } from "../../../gen/kubedriver/v1/instances.js";
import { anUpsertRequest, aPort } from "../../support/load-balancers.js";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, detailsOf, grpcError } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { aCreateRequest } from "../../support/server-groups.js";

// Two kubedriver replicas on one cluster, as in test/core/server-groups/idempotency.test.ts, for the
// load balancer, instance and autoscaler mutations: every duplicate of a request_id, on either
// replica, has one effect and answers as the first call did.
let cluster: TestCluster;
let replicas: KubedriverOn[];
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("idem2");
  replicas = await Promise.all([0, 1].map(() => startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] })));
});

afterAll(async () => {
  await Promise.all((replicas ?? []).map((r) => r.close()));
  await cluster?.close();
});

/** The i-th caller's clients: callers alternate between the two replicas. */
const lbs = (i: number) => replicas[i % 2]!.clients.loadBalancers;
const inst = (i: number) => replicas[i % 2]!.clients.instances;
const hpas = (i: number) => replicas[i % 2]!.clients.autoscalers;
const sg = (i: number) => replicas[i % 2]!.clients.serverGroups;

const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.allSettled(Array.from({ length: n }, (_, i) => f(i)));
const codesOf = (results: PromiseSettledResult<unknown>[]) =>
  results.map((r) => (r.status === "fulfilled" ? "OK" : `${Code[(r.reason as ServiceError).code]}: ${(r.reason as ServiceError).details}`));
const valuesOf = <T>(results: PromiseSettledResult<T>[]) => results.map((r) => (r as PromiseFulfilledResult<T>).value);
const allOk = (n: number) => Array(n).fill("OK");

const anUpsert = (overrides: Partial<UpsertLoadBalancerRequest>) => anUpsertRequest({ namespace: ns, ...overrides });
const upsertLb = (i: number, o: Partial<UpsertLoadBalancerRequest>) => call(lbs(i).upsertLoadBalancer, lbs(i), anUpsert(o));

const serviceNames = async () => (await cluster.core.listNamespacedService({ namespace: ns })).items.map((s) => s.metadata!.name!);

/** A server group of `size` running pods behind `loadBalancers`; its name and pods. */
async function aRunningGroup(application: string, size: number, loadBalancers: string[] = []) {
  const name = (await call(sg(0).createServerGroup, sg(0), aCreateRequest({ namespace: ns, application, targetSize: size, loadBalancers }))).serverGroup!.name;
  const pods = await eventually(async () => {
    const g = (await call(sg(0).getServerGroup, sg(0), { account: "main", namespace: ns, name, consistency: 0 })).serverGroup!;
    if (g.instances.filter((p) => p.ready).length !== size) throw new Error("not ready yet");
    return g.instances.map((p) => p.name);
  });
  return { name, pods };
}

describe("concurrent duplicates of one request_id through two replicas", () => {
  it("UpsertLoadBalancer: ten at once create one Service, and all ten answer it as created", async () => {
    const results = await times(10, (i) => upsertLb(i, { name: "dup", ports: [aPort(80)], requestId: "lb-create-1" }));
    expect(codesOf(results)).toEqual(allOk(10));
    const answers = valuesOf(results);
    expect(answers.map((a) => a.created)).toEqual(Array(10).fill(true));
    expect(new Set(answers.map((a) => JSON.stringify(a.loadBalancer)))).toHaveProperty("size", 1);
    const svc = await cluster.core.readNamespacedService({ namespace: ns, name: "dup" });
    expect(svc.spec!.ports!.map((p) => p.port)).toEqual([80]);

    // A change under one id is applied once: a later upsert under another id is not undone by a late duplicate.
    const changed = await times(6, (i) => upsertLb(i, { name: "dup", ports: [aPort(8080)], requestId: "lb-change-1" }));
    expect(codesOf(changed)).toEqual(allOk(6));
    expect(valuesOf(changed).map((a) => a.created)).toEqual(Array(6).fill(false));
    await upsertLb(0, { name: "dup", ports: [aPort(9090)], requestId: "lb-change-2" });
    const late = await upsertLb(1, { name: "dup", ports: [aPort(8080)], requestId: "lb-change-1" });
    expect(late.created).toBe(false);
    expect((await cluster.core.readNamespacedService({ namespace: ns, name: "dup" })).spec!.ports!.map((p) => p.port)).toEqual([9090]);
  });

  it("DeleteLoadBalancer: ten at once, all answer OK with the same report, and the Service goes once", async () => {
    await upsertLb(0, { name: "gone", ports: [aPort(80)] });
    const results = await times(10, (i) => call(lbs(i).deleteLoadBalancer, lbs(i), { account: "main", namespace: ns, name: "gone", force: false, adopt: false, requestId: "lb-delete-1" }));
    expect(codesOf(results)).toEqual(allOk(10));
    expect(valuesOf(results)).toEqual(Array(10).fill({ name: "gone", orphanedServerGroups: [] }));
    expect(await serviceNames()).not.toContain("gone");
    // A new Service of the same name is not deleted by a late duplicate.
    await upsertLb(0, { name: "gone", ports: [aPort(80)] });
    const late = await call(lbs(1).deleteLoadBalancer, lbs(1), { account: "main", namespace: ns, name: "gone", force: false, adopt: false, requestId: "lb-delete-1" });
    expect(late).toEqual({ name: "gone", orphanedServerGroups: [] });
    expect((await cluster.core.readNamespacedService({ namespace: ns, name: "gone" })).metadata!.name).toBe("gone");
  });

  it("TerminateInstances: ten at once delete the pod once, and all ten answer the first call's report", async () => {
    const group = await aRunningGroup("term", 1);
    const [victim] = group.pods;
    const results = await times(10, (i) => call(inst(i).terminateInstances, inst(i), { account: "main", namespace: ns, names: [victim!], requestId: "term-1" }));
    expect(codesOf(results)).toEqual(allOk(10));
    expect(valuesOf(results).map((r) => r.results)).toEqual(Array(10).fill([expect.objectContaining({ name: victim, outcome: InstanceOutcome.INSTANCE_OUTCOME_CHANGED, serverGroup: group.name })]));
    // The replacement pod is left alone by the duplicates.
    const replacement = await eventually(async () => {
      const pods = (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: `kubedriver.io/server-group=${group.name}` })).items.filter((p) => !p.metadata!.deletionTimestamp);
      if (pods.length !== 1 || pods[0]!.metadata!.name === victim) throw new Error("not replaced yet");
      return pods[0]!.metadata!.name!;
    });
    const late = await call(inst(1).terminateInstances, inst(1), { account: "main", namespace: ns, names: [victim!], requestId: "term-1" });
    expect(late.results[0]!.outcome).toBe(InstanceOutcome.INSTANCE_OUTCOME_CHANGED);
    expect((await cluster.core.readNamespacedPod({ namespace: ns, name: replacement })).metadata!.deletionTimestamp).toBeUndefined();
  });

  it("DeregisterInstances and RegisterInstances: six at once change the pod's label once, every duplicate answers CHANGED", async () => {
    await upsertLb(0, { name: "front", ports: [aPort(80)] });
    const group = await aRunningGroup("reg", 1, ["front"]);
    const [pod] = group.pods;
    const ref = { account: "main", namespace: ns, names: [pod!], loadBalancers: ["front"] };
    const label = async () => (await cluster.core.readNamespacedPod({ namespace: ns, name: pod! })).metadata!.labels!["load-balancer-front"];

    const out = await times(6, (i) => call(inst(i).deregisterInstances, inst(i), { ...ref, requestId: "dereg-1" }));
    expect(codesOf(out)).toEqual(allOk(6));
    expect(valuesOf(out).map((r) => r.results.map((x) => x.outcome))).toEqual(Array(6).fill([InstanceOutcome.INSTANCE_OUTCOME_CHANGED]));
    expect(await label()).toBe("false");

    const back = await times(6, (i) => call(inst(i).registerInstances, inst(i), { ...ref, requestId: "reg-1" }));
    expect(codesOf(back)).toEqual(allOk(6));
    expect(valuesOf(back).map((r) => r.results.map((x) => x.outcome))).toEqual(Array(6).fill([InstanceOutcome.INSTANCE_OUTCOME_CHANGED]));
    expect(await label()).toBe("true");

    // A late duplicate of the deregistration does not take the pod out again.
    const late = await call(inst(1).deregisterInstances, inst(1), { ...ref, requestId: "dereg-1" });
    expect(late.results[0]!.outcome).toBe(InstanceOutcome.INSTANCE_OUTCOME_CHANGED);
    expect(await label()).toBe("true");
  });

  it("UpsertAutoscaler and DeleteAutoscaler: six at once have one effect each, every duplicate answers OK", async () => {
    const { name } = await aRunningGroup("scaled", 1);
    const policy = { minSize: 1, maxSize: 3, targetCpuUtilizationPercent: 70 };
    const autoscaling = cluster.kubeConfig().makeApiClient(AutoscalingV2Api);
    const hpaNames = async () => (await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns })).items.map((h) => h.metadata!.name!);

    const upserted = await times(6, (i) => call(hpas(i).upsertAutoscaler, hpas(i), { account: "main", namespace: ns, serverGroup: name, policy, requestId: "hpa-up-1" }));
    expect(codesOf(upserted)).toEqual(allOk(6));
    expect(valuesOf(upserted).map((r) => r.serverGroup!.autoscaler)).toEqual(Array(6).fill(policy));
    expect(await hpaNames()).toEqual([name]);

    const deleted = await times(6, (i) => call(hpas(i).deleteAutoscaler, hpas(i), { account: "main", namespace: ns, serverGroup: name, requestId: "hpa-del-1" }));
    expect(codesOf(deleted)).toEqual(allOk(6));
    expect(valuesOf(deleted).map((r) => r.serverGroup!.autoscaler)).toEqual(Array(6).fill(undefined));
    expect(await hpaNames()).toEqual([]);

    // A late duplicate of the upsert does not bring the deleted autoscaler back.
    const late = await call(hpas(1).upsertAutoscaler, hpas(1), { account: "main", namespace: ns, serverGroup: name, policy, requestId: "hpa-up-1" });
    expect(late.serverGroup!.name).toBe(name);
    expect(await hpaNames()).toEqual([]);
  });
});

describe("a request_id reused for a different request of the new mutations", () => {
  it("is refused, naming request_id, and changes nothing", async () => {
    await upsertLb(0, { name: "reuse", ports: [aPort(80)], requestId: "lb-reuse-1" });
    const err = await grpcError(upsertLb(1, { name: "reuse", ports: [aPort(81)], requestId: "lb-reuse-1" }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.errorInfo!.reason).toBe("REQUEST_ID_REUSED");
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field)).toEqual(["request_id"]);
    const other = await grpcError(call(lbs(1).deleteLoadBalancer, lbs(1), { account: "main", namespace: ns, name: "reuse", force: false, adopt: false, requestId: "lb-reuse-1" }));
    expect(detailsOf(other)!.errorInfo!.reason).toBe("REQUEST_ID_REUSED");
    expect((await cluster.core.readNamespacedService({ namespace: ns, name: "reuse" })).spec!.ports!.map((p) => p.port)).toEqual([80]);
  });
});
