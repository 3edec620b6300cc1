import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replicationControllerFor } from "../../../src/core/server-groups/manifest.js";
import { PodPhase } from "../../../gen/kubedriver/v1/server_group.js";
import type { CreateServerGroupRequest } from "../../../gen/kubedriver/v1/server_groups.js";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, detailsOf, grpcError } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { aContainer, aCreateRequest, anHttpProbe } from "../../support/server-groups.js";

// End to end through the gRPC server, on the emulator and unchanged on a real cluster.
let cluster: TestCluster;
let kd: KubedriverOn;
let clients: KubedriverOn["clients"];
let ns: string;
let other: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("sg");
  other = await cluster.createNamespace("sg-other");
  await cluster.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "frontend" }, spec: { selector: { "load-balancer-frontend": "true" }, ports: [{ port: 80 }] } },
  });
  kd = await startKubedriverOn(cluster, {
    accounts: [{ name: "main", namespaces: [ns, other], dockerRegistries: [{ accountName: "hub" }, { accountName: "quay", namespaces: [ns] }] }],
    registries: [{ name: "quay", address: "https://quay.io", password: "pw-2" }],
  });
  clients = kd.clients;
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sg = () => clients.serverGroups;
const create = (overrides: Partial<CreateServerGroupRequest>) => call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, ...overrides }));
const get = (name: string, namespace = ns) => call(sg().getServerGroup, sg(), { account: "main", namespace, name, consistency: 0 });
const rcNamed = (name: string, namespace = ns) => cluster.core.readNamespacedReplicationController({ name, namespace });
const podsOf = async (name: string) =>
  (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: `kubedriver.io/server-group=${name}` })).items.filter((p) => !p.metadata?.deletionTimestamp);

describe("CreateServerGroup", () => {
  it("builds the ReplicationController field by field", async () => {
    const res = await create({
      application: "shop",
      stack: "prod",
      detail: "eu",
      targetSize: 2,
      loadBalancers: ["frontend"],
      labels: { team: "payments" },
      annotations: { "example.com/owner": "alice" },
      nodeSelector: { "kubernetes.io/os": "linux" },
      volumes: [
        { name: "scratch", emptyDir: { memory: false, sizeLimit: "1Gi" } },
        { name: "config", configMap: { name: "shop-config", items: [], defaultMode: 0, optional: true } },
      ],
      containers: [
        aContainer({
          name: "app",
          image: "registry.example.com/shop/app",
          command: ["/bin/app"],
          args: ["--port", "8080"],
          env: [{ name: "MODE", value: "prod" }, { name: "TOKEN", secretKey: { name: "shop-secrets", key: "token" } }],
          ports: [{ name: "http", containerPort: 8080, protocol: 0 }],
          resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
          livenessProbe: anHttpProbe(),
          readinessProbe: anHttpProbe({ httpGet: undefined, tcpSocket: { port: 0, portName: "http", host: "" } }),
          volumeMounts: [{ name: "scratch", mountPath: "/tmp/scratch", readOnly: false, subPath: "" }],
        }),
      ],
    });
    const group = res.serverGroup!;
    expect(group).toMatchObject({ name: "shop-prod-eu-v000", cluster: "shop-prod-eu", version: 0, account: "main", namespace: ns, targetSize: 2 });

    const rc = await rcNamed("shop-prod-eu-v000");
    const identity = {
      "app.kubernetes.io/managed-by": "kubedriver",
      "kubedriver.io/application": "shop",
      "kubedriver.io/cluster": "shop-prod-eu",
      "kubedriver.io/server-group": "shop-prod-eu-v000",
      "kubedriver.io/version": "v000",
      "app.kubernetes.io/name": "shop",
      "app.kubernetes.io/instance": "shop-prod-eu-v000",
      "app.kubernetes.io/version": "v000",
    };
    expect(rc.metadata?.labels).toEqual(identity);
    expect(rc.metadata?.annotations).toMatchObject({ "example.com/owner": "alice" });
    expect(rc.spec?.replicas).toBe(2);
    expect(rc.spec?.selector).toEqual({ "kubedriver.io/server-group": "shop-prod-eu-v000", "app.kubernetes.io/managed-by": "kubedriver" });
    expect(rc.spec?.template?.metadata?.labels).toEqual({ ...identity, team: "payments", "load-balancer-frontend": "true" });
    const pod = rc.spec!.template!.spec!;
    expect(pod.imagePullSecrets).toEqual([{ name: "hub" }, { name: "quay" }]);
    expect(pod.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(pod.volumes).toEqual([
      expect.objectContaining({ name: "scratch", emptyDir: expect.objectContaining({ sizeLimit: "1Gi" }) }),
      expect.objectContaining({ name: "config", configMap: expect.objectContaining({ name: "shop-config", optional: true }) }),
    ]);
    const c = pod.containers[0]!;
    expect(c).toMatchObject({
      name: "app",
      image: "registry.example.com/shop/app:latest",
      command: ["/bin/app"],
      args: ["--port", "8080"],
      ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
      resources: { requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } },
      volumeMounts: [expect.objectContaining({ name: "scratch", mountPath: "/tmp/scratch" })],
    });
    expect(c.env).toEqual([
      { name: "MODE", value: "prod" },
      { name: "TOKEN", valueFrom: { secretKeyRef: { name: "shop-secrets", key: "token" } } },
    ]);
    expect(c.livenessProbe).toMatchObject({
      httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" },
      initialDelaySeconds: 5,
      timeoutSeconds: 2,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.readinessProbe).toMatchObject({ tcpSocket: { port: "http" } });
  });

  it("gives every pod the namespace's pull secrets, and reports running instances", async () => {
    await create({ application: "pulls", targetSize: 2 });
    const pods = await eventually(async () => {
      const list = await podsOf("pulls-v000");
      expect(list).toHaveLength(2);
      return list;
    });
    for (const p of pods) expect(p.spec?.imagePullSecrets).toEqual([{ name: "hub" }, { name: "quay" }]);
    await eventually(async () => {
      const group = (await get("pulls-v000")).serverGroup!;
      expect(group).toMatchObject({ replicas: 2, readyReplicas: 2, enabled: true, imagePullSecrets: ["hub", "quay"] });
      expect(group.instances).toHaveLength(2);
      for (const i of group.instances) {
        expect(i).toMatchObject({ phase: PodPhase.POD_PHASE_RUNNING, ready: true, enabled: true });
        expect(i.podIp).not.toBe("");
      }
    });
  });

  it("gives the RC and every pod Kubernetes' recommended labels: the application, the server group, its version", async () => {
    await create({ application: "rec", stack: "s", targetSize: 0 });
    const res = await create({ application: "rec", stack: "s", targetSize: 2 });
    const name = res.serverGroup!.name;
    expect(name).toBe("rec-s-v001");
    const recommended = { "app.kubernetes.io/name": "rec", "app.kubernetes.io/instance": "rec-s-v001", "app.kubernetes.io/version": "v001" };
    expect((await rcNamed(name)).metadata?.labels).toMatchObject(recommended);
    const pods = await eventually(async () => {
      const found = await podsOf(name);
      expect(found).toHaveLength(2);
      return found;
    });
    for (const pod of pods) expect(pod.metadata?.labels).toMatchObject(recommended);
    const listed = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: "app.kubernetes.io/instance=rec-s-v001" });
    expect(listed.items.map((p) => p.metadata!.name).sort()).toEqual(pods.map((p) => p.metadata!.name).sort());
  });

  it("names kubedriver as the field manager of the RC it writes, so `kubectl get --show-managed-fields` tells who owns what", async () => {
    const name = (await create({ application: "owner", targetSize: 0 })).serverGroup!.name;
    const managers = (await rcNamed(name)).metadata?.managedFields?.filter((e) => !e.subresource).map((e) => e.manager);
    expect(managers).toEqual(["kubedriver"]);
  });

  it("refuses labels that would hide kubedriver's own, the recommended ones too", async () => {
    const err = await grpcError(create({ application: "hide", labels: { "app.kubernetes.io/instance": "other", "app.kubernetes.io/name": "x" } }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field).sort()).toEqual(['labels["app.kubernetes.io/instance"]', 'labels["app.kubernetes.io/name"]']);
  });

  it("takes the next version after the highest, keeping gaps", async () => {
    for (let i = 0; i < 3; i++) await create({ application: "gaps", targetSize: 0 });
    await call(sg().destroyServerGroup, sg(), { account: "main", namespace: ns, name: "gaps-v001", requestId: "" });
    const res = await create({ application: "gaps", targetSize: 0 });
    expect(res.serverGroup!.name).toBe("gaps-v003");
  });

  it("wraps after v999 to the lowest free version", async () => {
    const spec = { application: "wrap", stack: "", detail: "", targetSize: 0, containers: [], loadBalancers: [], volumes: [], labels: {}, annotations: {}, nodeSelector: {} };
    spec.containers = [{ name: "web", image: "web:1", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }] as never;
    for (const v of [0, 999]) await cluster.core.createNamespacedReplicationController({ namespace: ns, body: replicationControllerFor(spec, v, []) });
    expect((await create({ application: "wrap", targetSize: 0 })).serverGroup!.name).toBe("wrap-v001");
  });

  it("gives 20 concurrent creates in one cluster 20 distinct versions, none lost", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => create({ application: "race", targetSize: 0 })));
    const names = results.map((r) => r.serverGroup!.name);
    expect(new Set(names).size).toBe(20);
    const stored = (await cluster.core.listNamespacedReplicationController({ namespace: ns, labelSelector: "kubedriver.io/cluster=race" })).items;
    expect(stored.map((rc) => rc.metadata!.name).sort()).toEqual([...names].sort());
    expect([...names].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `race-v${String(i).padStart(3, "0")}`));
  });

  it("returns the first result for a retry with the same request_id instead of creating twice", async () => {
    const first = await create({ application: "retry", targetSize: 0, requestId: "req-42" });
    const again = await create({ application: "retry", targetSize: 0, requestId: "req-42" });
    expect(again.serverGroup!.name).toBe(first.serverGroup!.name);
    const stored = (await cluster.core.listNamespacedReplicationController({ namespace: ns, labelSelector: "kubedriver.io/cluster=retry" })).items;
    expect(stored).toHaveLength(1);
  });

  it("reports every validation problem at once as INVALID_ARGUMENT field violations, creating nothing", async () => {
    const err = await grpcError(
      create({
        application: "Bad",
        stack: "x-y",
        targetSize: -1,
        labels: { "kubedriver.io/cluster": "mine" },
        containers: [
          aContainer({ name: "Web", image: "", ports: [{ name: "", containerPort: 70000, protocol: 0 }], resources: { requests: { cpu: "lots", memory: "" }, limits: undefined } }),
          aContainer({ name: "side", livenessProbe: anHttpProbe({ timeout: { seconds: 1, nanos: 5 } }), volumeMounts: [{ name: "nope", mountPath: "rel", readOnly: false, subPath: "" }] }),
        ],
        requestId: "r".repeat(200),
      }),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    const fields = detailsOf(err)!.fieldViolations.map((v) => v.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "application",
        "stack",
        "target_size",
        'labels["kubedriver.io/cluster"]',
        "containers[0].name",
        "containers[0].image",
        "containers[0].ports[0].container_port",
        "containers[0].resources.requests.cpu",
        "containers[1].liveness_probe.timeout",
        "containers[1].volume_mounts[0].name",
        "containers[1].volume_mounts[0].mount_path",
        "request_id",
      ]),
    );
    const stored = await cluster.core.listNamespacedReplicationController({ namespace: ns, labelSelector: "kubedriver.io/application=Bad" }).catch(() => ({ items: [] }));
    expect(stored.items).toEqual([]);
  });

  it("refuses a clone into an empty target namespace as a bad request, naming the field", async () => {
    await create({ application: "clempty", targetSize: 0 });
    const err = await grpcError(call(sg().cloneServerGroup, sg(), { account: "main", namespace: ns, source: "clempty-v000", targetNamespace: "", requestId: "" } as never));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field)).toEqual(["target_namespace"]);
  });

  it("names every missing field of an empty request in one answer, the account and namespace too", async () => {
    const err = await grpcError(call(sg().createServerGroup, sg(), aCreateRequest({ account: "", namespace: "", application: "", containers: [] })));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field)).toEqual(expect.arrayContaining(["account", "namespace", "application", "containers"]));
  });

  it("answers FAILED_PRECONDITION for a namespace the account does not manage and for a missing load balancer", async () => {
    const unmanaged = await grpcError(create({ namespace: "kube-system" }));
    expect(unmanaged.code).toBe(Code.FAILED_PRECONDITION);
    expect(unmanaged.details).toContain('namespace "kube-system" is not managed by account "main"');
    const missing = await grpcError(create({ application: "nolb", loadBalancers: ["frontend", "ghost"] }));
    expect(missing.code).toBe(Code.FAILED_PRECONDITION);
    expect(missing.details).toContain('"ghost"');
    expect(missing.details).not.toContain('"frontend"');
  });

  it("answers NOT_FOUND for an unknown account", async () => {
    const err = await grpcError(call(sg().createServerGroup, sg(), aCreateRequest({ account: "nobody", namespace: ns })));
    expect(err.code).toBe(Code.NOT_FOUND);
  });
});

describe("CloneServerGroup", () => {
  it("copies the source's spec into the next version and leaves the source untouched", async () => {
    await create({ application: "cl", stack: "a", targetSize: 1, loadBalancers: ["frontend"], labels: { team: "x" } });
    const before = await rcNamed("cl-a-v000");
    const res = await call(sg().cloneServerGroup, sg(), { account: "main", namespace: ns, source: "cl-a-v000", requestId: "" } as never);
    const clone = res.serverGroup!;
    expect(clone).toMatchObject({ name: "cl-a-v001", targetSize: 1, loadBalancers: ["frontend"], labels: { team: "x" } });
    expect(clone.containers.map((c) => c.image)).toEqual(["registry.example.com/team/web:1.0"]);
    const after = await rcNamed("cl-a-v000");
    expect(after.metadata?.resourceVersion === before.metadata?.resourceVersion || after.metadata?.generation === before.metadata?.generation).toBe(true);
    expect(after.spec).toEqual(before.spec);
  });

  it("applies overrides: another stack, namespace, size and containers", async () => {
    await create({ application: "ov", targetSize: 3 });
    const res = await call(sg().cloneServerGroup, sg(), {
      account: "main",
      namespace: ns,
      source: "ov-v000",
      targetNamespace: other,
      stack: "canary",
      targetSize: 1,
      containers: { items: [aContainer({ image: "registry.example.com/team/web:2.0" })] },
      requestId: "",
    } as never);
    expect(res.serverGroup).toMatchObject({ name: "ov-canary-v000", namespace: other, targetSize: 1, images: ["registry.example.com/team/web:2.0"] });
    expect((await rcNamed("ov-v000")).spec?.replicas).toBe(3);
  });
});

describe("CloneServerGroup validation", () => {
  it("names every problem of a clone in one answer, the request id's and the merged spec's too, at their wire paths", async () => {
    await create({ application: "clbad", targetSize: 1 });
    const err = await grpcError(
      call(sg().cloneServerGroup, sg(), {
        account: "main",
        namespace: ns,
        source: "clbad-v000",
        stack: "Not_Valid",
        targetSize: -1,
        containers: { items: [aContainer({ image: "UPPER CASE:tag" })] },
        labels: { entries: { "bad key!": "x" } },
        requestId: "x".repeat(200),
      } as never),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    const fields = detailsOf(err)!.fieldViolations.map((v) => v.field);
    expect(fields).toEqual(expect.arrayContaining(["stack", "target_size", "containers.items[0].image", "request_id"]));
    expect(fields.some((f) => f.startsWith("labels.entries["))).toBe(true);
    expect(fields.filter((f) => /^(containers|labels)\[/.test(f))).toEqual([]);
    const clones = await cluster.core.listNamespacedReplicationController({ namespace: ns, labelSelector: "kubedriver.io/application=clbad" });
    expect(clones.items.map((rc) => rc.metadata!.name)).toEqual(["clbad-v000"]);
  });

  it("names a missing source with the other missing fields", async () => {
    const err = await grpcError(call(sg().cloneServerGroup, sg(), { account: "", namespace: "", source: "", requestId: "" } as never));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field)).toEqual(expect.arrayContaining(["account", "namespace", "source"]));
  });
});

describe("every addressing RPC validated in one pass", () => {
  const fieldsOf = async (p: Promise<unknown>) => {
    const err = await grpcError(p);
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    return detailsOf(err)!.fieldViolations.map((v) => v.field).sort();
  };
  const longId = "r".repeat(129);

  it("names the account, namespace, name, size and request id problems of one request together", async () => {
    const empty = { account: "", namespace: "", name: "" };
    expect(await fieldsOf(call(sg().getServerGroup, sg(), { ...empty, consistency: 0 }))).toEqual(["account", "name", "namespace"]);
    expect(await fieldsOf(call(sg().enableServerGroup, sg(), { ...empty, name: "Not A Name", requestId: longId }))).toEqual(["account", "name", "namespace", "request_id"]);
    expect(await fieldsOf(call(sg().disableServerGroup, sg(), { account: "main", namespace: ns, name: "x", requestId: longId }))).toEqual(["name", "request_id"]);
    expect(await fieldsOf(call(sg().destroyServerGroup, sg(), { account: "main", namespace: "", name: "web-v000", requestId: longId }))).toEqual(["namespace", "request_id"]);
    expect(await fieldsOf(call(sg().resizeServerGroup, sg(), { account: "main", namespace: ns, name: "", targetSize: -1, requestId: longId }))).toEqual(["name", "request_id", "target_size"]);
  });
});

describe("ResizeServerGroup", () => {
  it("scales up and down, reporting generation for callers to wait on", async () => {
    await create({ application: "rs", targetSize: 1 });
    const up = (await call(sg().resizeServerGroup, sg(), { account: "main", namespace: ns, name: "rs-v000", targetSize: 3, requestId: "" })).serverGroup!;
    expect(up.targetSize).toBe(3);
    expect(up.generation).toBeGreaterThanOrEqual(2);
    await eventually(async () => expect(await podsOf("rs-v000")).toHaveLength(3));
    await eventually(async () => {
      const g = (await get("rs-v000")).serverGroup!;
      expect(g.observedGeneration).toBe(g.generation);
    });
    await call(sg().resizeServerGroup, sg(), { account: "main", namespace: ns, name: "rs-v000", targetSize: 0, requestId: "" });
    await eventually(async () => expect(await podsOf("rs-v000")).toHaveLength(0));
  });

  it("rejects a negative size", async () => {
    await create({ application: "neg", targetSize: 0 });
    const err = await grpcError(call(sg().resizeServerGroup, sg(), { account: "main", namespace: ns, name: "neg-v000", targetSize: -2, requestId: "" }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field)).toEqual(["target_size"]);
  });
});

describe("Disable and Enable", () => {
  it("flip load-balancer labels on the template and every pod, idempotently", async () => {
    await create({ application: "tr", targetSize: 2, loadBalancers: ["frontend"] });
    const pods = await eventually(async () => {
      const list = await podsOf("tr-v000");
      expect(list).toHaveLength(2);
      return list;
    });
    const ref = { account: "main", namespace: ns, name: "tr-v000", requestId: "" };
    const off = await call(sg().disableServerGroup, sg(), { ...ref, requestId: "off-1" });
    expect(off.changedInstances).toEqual(pods.map((p) => p.metadata!.name!).sort());
    expect(off.serverGroup!.enabled).toBe(false);
    expect((await rcNamed("tr-v000")).spec?.template?.metadata?.labels?.["load-balancer-frontend"]).toBe("false");
    for (const p of await podsOf("tr-v000")) expect(p.metadata?.labels?.["load-balancer-frontend"]).toBe("false");

    expect((await call(sg().disableServerGroup, sg(), ref)).changedInstances).toEqual([]);
    expect((await call(sg().disableServerGroup, sg(), { ...ref, requestId: "off-1" })).changedInstances).toEqual(off.changedInstances);

    const on = await call(sg().enableServerGroup, sg(), ref);
    expect(on.changedInstances).toHaveLength(2);
    expect(on.serverGroup!.enabled).toBe(true);
    for (const p of await podsOf("tr-v000")) expect(p.metadata?.labels?.["load-balancer-frontend"]).toBe("true");
    expect((await podsOf("tr-v000")).length).toBe(2);
  });
});

describe("DestroyServerGroup", () => {
  it("deletes the ReplicationController and its pods, then answers NOT_FOUND", async () => {
    await create({ application: "gone", targetSize: 2 });
    await eventually(async () => expect(await podsOf("gone-v000")).toHaveLength(2));
    const ref = { account: "main", namespace: ns, name: "gone-v000", requestId: "" };
    expect((await call(sg().destroyServerGroup, sg(), ref)).name).toBe("gone-v000");
    await eventually(async () => {
      expect((await grpcError(get("gone-v000"))).code).toBe(Code.NOT_FOUND);
      expect(await podsOf("gone-v000")).toHaveLength(0);
    });
    expect((await grpcError(call(sg().destroyServerGroup, sg(), ref))).code).toBe(Code.NOT_FOUND);
  });

  it("answers a retried destroy with the same request_id as the first, even once the group is gone", async () => {
    await create({ application: "once", targetSize: 0 });
    const ref = { account: "main", namespace: ns, name: "once-v000", requestId: "destroy-7" };
    expect((await call(sg().destroyServerGroup, sg(), ref)).name).toBe("once-v000");
    await eventually(async () => expect((await grpcError(get("once-v000"))).code).toBe(Code.NOT_FOUND));
    expect((await call(sg().destroyServerGroup, sg(), ref)).name).toBe("once-v000");
    expect((await grpcError(call(sg().destroyServerGroup, sg(), { ...ref, requestId: "another" }))).code).toBe(Code.NOT_FOUND);
    const reused = await grpcError(call(sg().destroyServerGroup, sg(), { ...ref, name: "never-v000" }));
    expect(reused.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(reused)!.errorInfo!.reason).toBe("REQUEST_ID_REUSED");
    expect(detailsOf(reused)!.fieldViolations.map((v) => v.field)).toEqual(["request_id"]);
  });

  it("does not treat a ReplicationController kubedriver did not create as a server group", async () => {
    await cluster.core.createNamespacedReplicationController({
      namespace: ns,
      body: { metadata: { name: "foreign-v000" }, spec: { replicas: 0, selector: { app: "f" }, template: { metadata: { labels: { app: "f" } }, spec: { containers: [{ name: "c", image: "x:1" }] } } } },
    });
    expect((await grpcError(get("foreign-v000"))).code).toBe(Code.NOT_FOUND);
    expect((await grpcError(call(sg().destroyServerGroup, sg(), { account: "main", namespace: ns, name: "foreign-v000", requestId: "" }))).code).toBe(Code.NOT_FOUND);
    await expect(rcNamed("foreign-v000")).resolves.toBeDefined();
  });
});

describe("ListServerGroups", () => {
  it("pages through 1,000 groups, each exactly once, in a stable order", async () => {
    const spec = { application: "", stack: "", detail: "", targetSize: 0, containers: [{ name: "web", image: "web:1", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }], loadBalancers: [], volumes: [], labels: {}, annotations: {}, nodeSelector: {} };
    const ns1000 = other;
    const expected: string[] = [];
    for (let app = 0; app < 10; app++) {
      const batch = [];
      for (let v = 0; v < 100; v++) {
        const rc = replicationControllerFor({ ...spec, application: `page${app}` } as never, v, []);
        expected.push(rc.metadata!.name!);
        batch.push(rc);
      }
      for (let i = 0; i < batch.length; i += 25) {
        await Promise.all(batch.slice(i, i + 25).map((body) => cluster.core.createNamespacedReplicationController({ namespace: ns1000, body })));
      }
    }
    const seen: string[] = [];
    let token = "";
    do {
      const page = await call(sg().listServerGroups, sg(), { account: "main", namespaces: [ns1000], application: "", cluster: "", pageSize: 300, pageToken: token , consistency: 0});
      expect(page.serverGroups.length).toBeLessThanOrEqual(300);
      seen.push(...page.serverGroups.filter((g) => g.name.startsWith("page")).map((g) => g.name));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toHaveLength(1000);
    expect(new Set(seen).size).toBe(1000);
    expect([...seen]).toEqual([...expected].sort());
  }, 180_000);

  it("filters by application and cluster", async () => {
    await create({ application: "flt", stack: "a", targetSize: 0 });
    await create({ application: "flt", stack: "b", targetSize: 0 });
    const byApp = await call(sg().listServerGroups, sg(), { account: "main", namespaces: [ns], application: "flt", cluster: "", pageSize: 0, pageToken: "" , consistency: 0});
    expect(byApp.serverGroups.map((g) => g.name)).toEqual(["flt-a-v000", "flt-b-v000"]);
    const byCluster = await call(sg().listServerGroups, sg(), { account: "", namespaces: [], application: "", cluster: "flt-b", pageSize: 0, pageToken: "" , consistency: 0});
    expect(byCluster.serverGroups.map((g) => g.name)).toEqual(["flt-b-v000"]);
  });
});
