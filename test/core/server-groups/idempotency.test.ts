import { status as Code, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintOf, leaseMs } from "../../../src/core/shared/exactly-once.js";
import { validateSpec } from "../../../src/core/server-groups/validate.js";
import type { CreateServerGroupRequest } from "../../../gen/kubedriver/v1/server_groups.js";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, detailsOf, grpcError } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { aContainer, aCreateRequest } from "../../support/server-groups.js";

// Two kubedriver replicas on one cluster: every duplicate of a request_id, on either, has one effect.
let cluster: TestCluster;
let replicas: KubedriverOn[];
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("idem");
  await cluster.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "front" }, spec: { selector: { "load-balancer-front": "true" }, ports: [{ port: 80 }] } },
  });
  replicas = await Promise.all([0, 1].map(() => startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] })));
});

afterAll(async () => {
  await Promise.all((replicas ?? []).map((r) => r.close()));
  await cluster?.close();
});

/** The i-th caller's client: callers alternate between the two replicas. */
const sg = (i: number) => replicas[i % 2]!.clients.serverGroups;
const create = (i: number, overrides: Partial<CreateServerGroupRequest>) =>
  call(sg(i).createServerGroup, sg(i), aCreateRequest({ namespace: ns, ...overrides }));
const ref = (name: string, requestId: string) => ({ account: "main", namespace: ns, name, requestId });
const rcNames = async (prefix: string) =>
  (await cluster.core.listNamespacedReplicationController({ namespace: ns })).items.map((rc) => rc.metadata!.name!).filter((n) => n.startsWith(prefix)).sort();
const times = <T>(n: number, f: (i: number) => Promise<T>) => Promise.allSettled(Array.from({ length: n }, (_, i) => f(i)));
const codesOf = (results: PromiseSettledResult<unknown>[]) =>
  results.map((r) => (r.status === "fulfilled" ? "OK" : Code[(r.reason as ServiceError).code]));

describe("concurrent duplicates of one request_id through two replicas", () => {
  it("create: ten at once make one group, and all ten answer it", async () => {
    const results = await times(10, (i) => create(i, { application: "dup", targetSize: 0, requestId: "deploy-1" }));
    expect(codesOf(results)).toEqual(Array(10).fill("OK"));
    const names = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof create>>>).value.serverGroup!.name);
    expect(new Set(names)).toEqual(new Set(["dup-v000"]));
    expect(await rcNames("dup-")).toEqual(["dup-v000"]);
  });

  it("destroy: ten at once, five rounds, all answer OK and each group goes once", async () => {
    for (let round = 0; round < 5; round++) {
      const name = (await create(round, { application: "gone", stack: `r${round}`, targetSize: 0 })).serverGroup!.name;
      const results = await times(10, (i) => call(sg(i).destroyServerGroup, sg(i), ref(name, `destroy-${round}`)));
      expect(codesOf(results)).toEqual(Array(10).fill("OK"));
      await eventually(async () => expect(await rcNames(`gone-r${round}-`)).toEqual([]));
      // And a retry long after still answers as the first did.
      expect((await call(sg(round).destroyServerGroup, sg(round), ref(name, `destroy-${round}`))).name).toBe(name);
    }
  });

  it("clone, resize, disable and enable: one effect each, every duplicate answers the same", async () => {
    await create(0, { application: "ops", targetSize: 1, loadBalancers: ["front"] });
    const clones = await times(6, (i) =>
      call(sg(i).cloneServerGroup, sg(i), { account: "main", namespace: ns, source: "ops-v000", requestId: "clone-1", targetSize: 0 } as never),
    );
    expect(codesOf(clones)).toEqual(Array(6).fill("OK"));
    expect(await rcNames("ops-")).toEqual(["ops-v000", "ops-v001"]);

    const resized = await times(6, (i) => call(sg(i).resizeServerGroup, sg(i), { ...ref("ops-v000", "resize-1"), targetSize: 2 }));
    expect(codesOf(resized)).toEqual(Array(6).fill("OK"));
    await eventually(async () => expect((await call(sg(0).getServerGroup, sg(0), { ...ref("ops-v000", ""), consistency: 0 })).serverGroup!.instances).toHaveLength(2));

    const disabled = await times(6, (i) => call(sg(i).disableServerGroup, sg(i), ref("ops-v000", "off-1")));
    expect(codesOf(disabled)).toEqual(Array(6).fill("OK"));
    const changed = disabled.map((r) => (r as PromiseFulfilledResult<{ changedInstances: string[] }>).value.changedInstances);
    // One call changed the pods; every duplicate reports that call's list.
    expect(new Set(changed.map((c) => c.join(",")))).toHaveProperty("size", 1);
    expect(changed[0]!.length).toBeGreaterThan(0);
    const group = (await call(sg(1).getServerGroup, sg(1), { ...ref("ops-v000", ""), consistency: 0 })).serverGroup!;
    expect(group.enabled).toBe(false);
    expect(group.instances.every((p) => !p.enabled)).toBe(true);

    const enabled = await times(6, (i) => call(sg(i).enableServerGroup, sg(i), ref("ops-v000", "on-1")));
    expect(codesOf(enabled)).toEqual(Array(6).fill("OK"));
    expect((await call(sg(0).getServerGroup, sg(0), { ...ref("ops-v000", ""), consistency: 0 })).serverGroup!.enabled).toBe(true);
  });
});

describe("a request_id reused for a different request", () => {
  it("is refused, naming request_id, and changes nothing", async () => {
    const first = await create(0, { application: "reuse", targetSize: 1, requestId: "deploy-9" });
    const err = await grpcError(
      create(1, { application: "reuse", targetSize: 5, containers: [aContainer({ image: "redis:7" })], requestId: "deploy-9" }),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    const details = detailsOf(err)!;
    expect(details.errorInfo!.reason).toBe("REQUEST_ID_REUSED");
    expect(details.fieldViolations.map((v) => v.field)).toEqual(["request_id"]);
    expect(await rcNames("reuse-")).toEqual([first.serverGroup!.name]);
    const rc = await cluster.core.readNamespacedReplicationController({ namespace: ns, name: first.serverGroup!.name });
    expect(rc.spec!.replicas).toBe(1);
  });

  it("is refused for another operation too", async () => {
    await create(0, { application: "cross", targetSize: 0, requestId: "cross-1" });
    const err = await grpcError(call(sg(1).destroyServerGroup, sg(1), ref("cross-v000", "cross-1")));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.errorInfo!.reason).toBe("REQUEST_ID_REUSED");
    expect(await rcNames("cross-")).toEqual(["cross-v000"]);
  });
});

describe("a failed or abandoned request_id", () => {
  it("is freed by a failure, so the same request succeeds once its precondition holds", async () => {
    const request = { application: "later", targetSize: 0, loadBalancers: ["back"], requestId: "deploy-later" };
    expect((await grpcError(create(0, request))).code).toBe(Code.FAILED_PRECONDITION);
    await cluster.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: "back" }, spec: { selector: { "load-balancer-back": "true" }, ports: [{ port: 80 }] } },
    });
    expect((await create(1, request)).serverGroup!.name).toBe("later-v000");
  });

  it("is taken over by a retry once the holder's lease ran out, without acting twice", async () => {
    // A holder that died after creating its group, before recording the result.
    const request = aCreateRequest({ namespace: ns, application: "orphan", targetSize: 0, requestId: "deploy-orphan" });
    const created = await create(0, { ...request, requestId: "" });
    await cluster.core.patchNamespacedReplicationController({
      namespace: ns,
      name: created.serverGroup!.name,
      body: [{ op: "add", path: "/metadata/annotations/kubedriver.io~1create-request-id", value: "deploy-orphan" }],
    });
    const spec = validateSpec({
      application: "orphan",
      stack: "",
      detail: "",
      targetSize: 0,
      containers: [{ ...aContainer(), ports: [], env: [], volumeMounts: [], resources: { requests: {}, limits: {} } } as never],
      loadBalancers: [],
      volumes: [],
      labels: {},
      annotations: {},
      nodeSelector: {},
    });
    const { createHash } = await import("node:crypto");
    await cluster.core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: {
          name: `kubedriver-request-${createHash("sha256").update("deploy-orphan").digest("hex").slice(0, 32)}`,
          labels: { "app.kubernetes.io/managed-by": "kubedriver", "kubedriver.io/request-record": "true" },
          annotations: {
            "kubedriver.io/request": JSON.stringify({
              operation: "CreateServerGroup",
              fingerprint: fingerprintOf("CreateServerGroup", ns, spec),
              state: "pending",
              leaseUntil: Date.now() - leaseMs,
            }),
          },
        },
        type: "kubedriver.io/request-record",
      },
    });
    const retried = await create(1, request);
    expect(retried.serverGroup!.name).toBe(created.serverGroup!.name);
    expect(await rcNames("orphan-")).toEqual([created.serverGroup!.name]);
  });
});
