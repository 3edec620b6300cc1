import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceType, type UpsertLoadBalancerRequest } from "../../../gen/kubedriver/v1/load_balancers.js";
import { Consistency } from "../../../gen/kubedriver/v1/server_groups.js";
import { anUpsertRequest, aPort } from "../../support/load-balancers.js";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, detailsOf, grpcError } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { aCreateRequest } from "../../support/server-groups.js";

// End to end through the gRPC server, on the emulator and unchanged on a real cluster.
let cluster: TestCluster;
let kd: KubedriverOn;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("lb");
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] });
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const lbs = () => kd.clients.loadBalancers;
const anUpsert = (overrides: Partial<UpsertLoadBalancerRequest>) => anUpsertRequest({ namespace: ns, ...overrides });
const upsert = (o: Partial<UpsertLoadBalancerRequest>) => call(lbs().upsertLoadBalancer, lbs(), anUpsert(o));

describe("UpsertLoadBalancer", () => {
  it("creates a Service selecting load-balancer-<name>, then keeps what a later upsert leaves unset", async () => {
    const created = await upsert({ name: "shop", ports: [aPort(80, "http")], externalIps: { items: ["192.0.2.10"] }, labels: { entries: { team: "a" } } });
    expect(created.created).toBe(true);
    expect(created.loadBalancer).toMatchObject({ name: "shop", managed: true, selector: { "load-balancer-shop": "true" }, externalIps: ["192.0.2.10"] });
    expect(created.loadBalancer!.clusterIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    const svc = await cluster.core.readNamespacedService({ namespace: ns, name: "shop" });
    expect(svc.spec?.selector).toEqual({ "load-balancer-shop": "true" });
    expect(svc.metadata?.labels).toMatchObject({ "app.kubernetes.io/managed-by": "kubedriver", team: "a" });

    const changed = await upsert({ name: "shop", sessionAffinity: 2 });
    expect(changed.created).toBe(false);
    expect(changed.loadBalancer).toMatchObject({
      ports: [expect.objectContaining({ name: "http", port: 80, targetPort: 80 })],
      externalIps: ["192.0.2.10"],
      labels: { team: "a" },
      clusterIp: created.loadBalancer!.clusterIp,
    });
    expect(changed.loadBalancer!.sessionAffinity).toBe(2);

    const cleared = await upsert({ name: "shop", externalIps: { items: [] }, ports: [aPort(8080, "alt")] });
    expect(cleared.loadBalancer).toMatchObject({ externalIps: [], ports: [expect.objectContaining({ name: "alt", port: 8080 })] });
  });

  it("keeps both of two concurrent upserts' changes", async () => {
    await upsert({ name: "both", ports: [aPort(80)] });
    await Promise.all([upsert({ name: "both", labels: { entries: { a: "1" } } }), upsert({ name: "both", sessionAffinity: 2 })]);
    const got = await call(lbs().getLoadBalancer, lbs(), { account: "main", namespace: ns, name: "both", consistency: 0 });
    // Labels given replace the caller's labels, so the affinity change must survive the label change and vice versa.
    expect(got.loadBalancer).toMatchObject({ labels: { a: "1" }, sessionAffinity: 2 });
  });

  it("allocates a node port for NodePort and keeps it when the same ports are sent again", async () => {
    const first = await upsert({ name: "nodes", type: ServiceType.SERVICE_TYPE_NODE_PORT, ports: [aPort(80)] });
    const nodePort = first.loadBalancer!.ports[0]!.nodePort;
    expect(nodePort).toBeGreaterThan(0);
    const again = await upsert({ name: "nodes", ports: [aPort(80)] });
    expect(again.loadBalancer!.ports[0]!.nodePort).toBe(nodePort);
  });

  it("names every problem at once with its field path", async () => {
    const err = await grpcError(
      upsert({
        name: "9-bad",
        ports: [aPort(0, "a"), { ...aPort(70000, "Bad_Name"), nodePort: 5, targetPortName: "x", targetPort: 8 }],
        type: ServiceType.SERVICE_TYPE_CLUSTER_IP,
        externalIps: { items: ["not-an-ip"] },
        clusterIp: "10.0.0.999",
        loadBalancerIp: "1.2.3.4",
        labels: { entries: { "kubedriver.io/x": "y" } },
      }),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    const fields = detailsOf(err)!.fieldViolations.map((v) => v.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "name",
        "ports[0].port",
        "ports[1].name",
        "ports[1].port",
        "ports[1].target_port_name",
        "ports[1].node_port",
        "external_ips.items[0]",
        "cluster_ip",
        "load_balancer_ip",
        'labels.entries["kubedriver.io/x"]',
      ]),
    );
  });

  it("shows a Service kubedriver did not create, and changes it only with adopt: true", async () => {
    await cluster.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "foreign" }, spec: { selector: { app: "x" }, ports: [{ port: 81 }] } } });
    // Created by another tool: a view read would see it once the watch does, a strong read at once.
    const shown = await call(lbs().getLoadBalancer, lbs(), { account: "main", namespace: ns, name: "foreign", consistency: Consistency.CONSISTENCY_STRONG });
    expect(shown.loadBalancer).toMatchObject({ managed: false, selector: { app: "x" } });

    const refused = await grpcError(upsert({ name: "foreign", sessionAffinity: 2 }));
    expect(refused.code).toBe(Code.FAILED_PRECONDITION);
    expect(detailsOf(refused)!.errorInfo?.reason).toBe("LOAD_BALANCER_NOT_MANAGED");
    const del = await grpcError(call(lbs().deleteLoadBalancer, lbs(), { account: "main", namespace: ns, name: "foreign", force: false, adopt: false, requestId: "" }));
    expect(del.code).toBe(Code.FAILED_PRECONDITION);

    const adopted = await upsert({ name: "foreign", adopt: true });
    expect(adopted.loadBalancer).toMatchObject({ managed: true, selector: { "load-balancer-foreign": "true" }, ports: [expect.objectContaining({ port: 81 })] });
  });
});

describe("GetLoadBalancer and DeleteLoadBalancer", () => {
  it("tells the server groups and instances it routes to, and refuses deletion while they are enabled unless force", async () => {
    await upsert({ name: "front", ports: [aPort(80)] });
    const sg = kd.clients.serverGroups;
    const group = (await call(sg.createServerGroup, sg, aCreateRequest({ namespace: ns, application: "front", targetSize: 2, loadBalancers: ["front"] }))).serverGroup!;
    const routed = await eventually(async () => {
      const lb = (await call(lbs().getLoadBalancer, lbs(), { account: "main", namespace: ns, name: "front", consistency: 0 })).loadBalancer!;
      if (lb.instanceCount !== 2) throw new Error(`routes to ${lb.instanceCount} instances`);
      return lb;
    });
    expect(routed.serverGroups).toEqual([group.name]);

    const refused = await grpcError(call(lbs().deleteLoadBalancer, lbs(), { account: "main", namespace: ns, name: "front", force: false, adopt: false, requestId: "" }));
    expect(refused.code).toBe(Code.FAILED_PRECONDITION);
    expect(detailsOf(refused)!.errorInfo?.reason).toBe("LOAD_BALANCER_IN_USE");
    expect(refused.details).toContain(group.name);

    const forced = await call(lbs().deleteLoadBalancer, lbs(), { account: "main", namespace: ns, name: "front", force: true, adopt: false, requestId: "del-front" });
    expect(forced.orphanedServerGroups).toEqual([group.name]);
    const retried = await call(lbs().deleteLoadBalancer, lbs(), { account: "main", namespace: ns, name: "front", force: true, adopt: false, requestId: "del-front" });
    expect(retried.orphanedServerGroups).toEqual([group.name]);
    const gone = await grpcError(call(lbs().getLoadBalancer, lbs(), { account: "main", namespace: ns, name: "front", consistency: 0 }));
    expect(gone.code).toBe(Code.NOT_FOUND);
  });

  it("lists load balancers in pages", async () => {
    const first = await call(lbs().listLoadBalancers, lbs(), { account: "main", namespaces: [], managedOnly: true, pageSize: 1, pageToken: "", consistency: 0 });
    expect(first.loadBalancers).toHaveLength(1);
    expect(first.nextPageToken).not.toBe("");
  });
});
