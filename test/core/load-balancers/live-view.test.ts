import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UpsertLoadBalancerRequest } from "../../../gen/kubedriver/v1/load_balancers.js";
import { Consistency } from "../../../gen/kubedriver/v1/server_groups.js";
import { anUpsertRequest, aPort } from "../../support/load-balancers.js";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import type { FaultyCluster } from "../../support/faults.js";
import { call, grpcError } from "../../support/grpc.js";
import { startKubedriverBehindFaults, type KubedriverOn } from "../../support/kubedriver.js";
import { aCreateRequest } from "../../support/server-groups.js";

// Load balancer reads served from the namespace's watch of Services (and of server-group pods),
// counted at the API server's door through the fault proxy, on the emulator and on a real cluster.
let cluster: TestCluster;
let kd: KubedriverOn & { faulty: FaultyCluster };
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("lbview");
  kd = await startKubedriverBehindFaults(cluster, {
    accounts: [{ name: "main", namespaces: [ns] }],
    options: { liveViews: { backoffMs: 50, maxBackoffMs: 500 } },
  });
}, 60_000);

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const lbs = () => kd.clients.loadBalancers;
const upsert = (overrides: Partial<UpsertLoadBalancerRequest>) => call(lbs().upsertLoadBalancer, lbs(), anUpsertRequest({ namespace: ns, name: "", ...overrides }));
const get = (name: string, consistency = Consistency.CONSISTENCY_UNSPECIFIED) => call(lbs().getLoadBalancer, lbs(), { account: "main", namespace: ns, name, consistency });
const list = (consistency = Consistency.CONSISTENCY_UNSPECIFIED) =>
  call(lbs().listLoadBalancers, lbs(), { account: "main", namespaces: [ns], managedOnly: false, pageSize: 500, pageToken: "", consistency });
const reads = () => ["GET", "LIST"].reduce((n, verb) => n + kd.faulty.requestCount({ verb, resource: "services" }) + kd.faulty.requestCount({ verb, resource: "pods" }), 0);

/** Waits until load balancer reads are served from the views: a Get that costs the API server nothing. */
async function viewSynced(name: string) {
  await eventually(async () => {
    const before = reads();
    await get(name);
    expect(reads()).toBe(before);
  });
}

describe("load balancer reads from the view", () => {
  it("answers Get and List from memory once synced: no Kubernetes request", async () => {
    await upsert({ name: "mem", ports: [aPort(80)] });
    await viewSynced("mem");
    const before = reads();
    for (let i = 0; i < 20; i++) expect((await get("mem")).loadBalancer!.name).toBe("mem");
    for (let i = 0; i < 5; i++) expect((await list()).loadBalancers.map((lb) => lb.name)).toContain("mem");
    expect(reads()).toBe(before);
  });

  it("reflects this replica's own writes at once (read-your-writes): upsert, deregistration, delete", async () => {
    await upsert({ name: "ryw", ports: [aPort(80)] });
    await viewSynced("ryw");
    await upsert({ name: "ryw", ports: [aPort(8080)] });
    expect((await get("ryw")).loadBalancer!.ports.map((p) => p.port)).toEqual([8080]);
    await upsert({ name: "ryw-new", ports: [aPort(81)] });
    expect((await get("ryw-new")).loadBalancer!.name).toBe("ryw-new");
    expect((await list()).loadBalancers.map((lb) => lb.name)).toContain("ryw-new");

    const sg = kd.clients.serverGroups;
    const group = (await call(sg.createServerGroup, sg, aCreateRequest({ namespace: ns, application: "ryw", targetSize: 1, loadBalancers: ["ryw"] }))).serverGroup!;
    const pod = await eventually(async () => {
      const g = (await call(sg.getServerGroup, sg, { account: "main", namespace: ns, name: group.name, consistency: 0 })).serverGroup!;
      if (!g.instances[0]?.ready) throw new Error("not ready yet");
      return g.instances[0].name;
    });
    await eventually(async () => expect((await get("ryw")).loadBalancer!.instanceCount).toBe(1));
    const inst = kd.clients.instances;
    await call(inst.deregisterInstances, inst, { account: "main", namespace: ns, names: [pod], loadBalancers: ["ryw"], requestId: "" });
    expect((await get("ryw")).loadBalancer).toMatchObject({ instanceCount: 0, serverGroups: [] });

    await call(lbs().deleteLoadBalancer, lbs(), { account: "main", namespace: ns, name: "ryw-new", force: false, adopt: false, requestId: "" });
    expect((await grpcError(get("ryw-new"))).code).toBe(Code.NOT_FOUND);
    expect((await list()).loadBalancers.map((lb) => lb.name)).not.toContain("ryw-new");
  });

  it("goes to the API server for a STRONG read", async () => {
    await upsert({ name: "strong", ports: [aPort(80)] });
    await viewSynced("strong");
    const before = reads();
    expect((await get("strong", Consistency.CONSISTENCY_STRONG)).loadBalancer!.name).toBe("strong");
    expect(reads()).toBeGreaterThan(before);
  });

  it("shows Services other tools create and change, kubedriver's or not, through the watch", async () => {
    await upsert({ name: "seen", ports: [aPort(80)] });
    await viewSynced("seen");
    await cluster.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "outsider" }, spec: { selector: { app: "x" }, ports: [{ port: 82 }] } } });
    await eventually(async () => expect((await get("outsider")).loadBalancer).toMatchObject({ managed: false, selector: { app: "x" } }));
    await cluster.core.patchNamespacedService({ namespace: ns, name: "seen", body: [{ op: "add", path: "/spec/externalIPs", value: ["192.0.2.7"] }] });
    await eventually(async () => expect((await get("seen")).loadBalancer!.externalIps).toEqual(["192.0.2.7"]));
    await cluster.core.deleteNamespacedService({ namespace: ns, name: "outsider" });
    await eventually(async () => expect((await grpcError(get("outsider"))).code).toBe(Code.NOT_FOUND));
  });
});
