import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aReplicationController, aSecret } from "../support/fixtures.js";
import { raw } from "./raw.js";
import { eventually, needsFaultInjection, onRealCluster, startTestCluster, type TestCluster } from "../support/cluster.js";

// Contract tests of the Kubernetes API as kubedriver uses it. They run on the
// emulator (npm test) and unchanged on a real control plane (npm run
// test:cluster): whatever they assert is what the real API server does.
let cluster: TestCluster;
let core: CoreV1Api;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  core = cluster.core;
  ns = await cluster.createNamespace("contract");
});
afterAll(() => cluster.close());

async function failure(p: Promise<unknown>): Promise<{ code: number; status: { reason: string; message: string; details?: any } }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiException) return { code: err.code, status: JSON.parse(err.body as string) };
    throw err;
  }
  throw new Error("expected the request to fail");
}

const ownedBy = (uid: string) => (p: V1Pod) => p.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller) ?? false;

describe("CRUD and errors", () => {
  it("creates, reads, updates and deletes a secret, assigning uid, resourceVersion and creationTimestamp", async () => {
    const created = await core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "crud" }) });
    expect(created.metadata).toMatchObject({ name: "crud", namespace: ns, uid: expect.any(String), resourceVersion: expect.any(String) });
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.type).toBe("Opaque");
    const read = await core.readNamespacedSecret({ name: "crud", namespace: ns });
    expect(Buffer.from(read.data!.key!, "base64").toString()).toBe("value");
    read.data = { key: Buffer.from("changed").toString("base64") };
    const updated = await core.replaceNamespacedSecret({ name: "crud", namespace: ns, body: read });
    expect(Number(updated.metadata!.resourceVersion)).toBeGreaterThan(Number(created.metadata!.resourceVersion));
    await core.deleteNamespacedSecret({ name: "crud", namespace: ns });
    expect((await failure(core.readNamespacedSecret({ name: "crud", namespace: ns }))).code).toBe(404);
  });

  it("answers NotFound with a Status naming the resource", async () => {
    const { code, status } = await failure(core.readNamespacedSecret({ name: "absent", namespace: ns }));
    expect(code).toBe(404);
    expect(status).toMatchObject({ reason: "NotFound", message: 'secrets "absent" not found', details: { name: "absent", kind: "secrets" } });
  });

  it("answers AlreadyExists on a second create of the same name", async () => {
    await core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "twice" }) });
    const { code, status } = await failure(core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "twice" }) }));
    expect(code).toBe(409);
    expect(status).toMatchObject({ reason: "AlreadyExists", details: { name: "twice", kind: "secrets" } });
  });

  it("rejects an update with a stale resourceVersion with 409 Conflict", async () => {
    const first = await core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "stale" }) });
    await core.replaceNamespacedSecret({ name: "stale", namespace: ns, body: { ...first, data: { key: "YQ==" } } });
    const { code, status } = await failure(core.replaceNamespacedSecret({ name: "stale", namespace: ns, body: { ...first, data: { key: "Yg==" } } }));
    expect(code).toBe(409);
    expect(status.reason).toBe("Conflict");
    expect(status.message).toContain("the object has been modified");
  });

  it("rejects an invalid object with 422 Invalid and one cause per field", async () => {
    const rc = aReplicationController({ name: "Bad_Name", replicas: -1 });
    const { code, status } = await failure(core.createNamespacedReplicationController({ namespace: ns, body: rc }));
    expect(code).toBe(422);
    expect(status.reason).toBe("Invalid");
    expect(status.details.kind).toBe("ReplicationController");
    expect(status.details.causes.map((c: { field: string }) => c.field)).toEqual(expect.arrayContaining(["metadata.name", "spec.replicas"]));
  });

  it("answers NotFound when creating in a namespace that does not exist", async () => {
    const { code, status } = await failure(core.createNamespacedSecret({ namespace: cluster.uniqueNamespace("absent"), body: aSecret() }));
    expect(code).toBe(404);
    expect(status.details.kind).toBe("namespaces");
  });

  it("defaults a ReplicationController's selector and labels from its template and sets generation 1", async () => {
    const body = aReplicationController({ name: "defaults", replicas: 0 });
    delete body.spec!.selector;
    const rc = await core.createNamespacedReplicationController({ namespace: ns, body });
    expect(rc.spec?.selector).toEqual({ app: "defaults" });
    expect(rc.metadata?.labels).toEqual({ app: "defaults" });
    expect(rc.metadata?.generation).toBe(1);
    const container = rc.spec!.template!.spec!.containers[0]!;
    expect(container).toMatchObject({ imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log" });
    expect(container.ports![0]!.protocol).toBe("TCP");
    expect(rc.spec!.template!.spec).toMatchObject({ restartPolicy: "Always", dnsPolicy: "ClusterFirst" });
  });
});

describe("lists", () => {
  beforeAll(async () => {
    for (const [name, tier] of [["a", "web"], ["b", "web"], ["c", "db"], ["d", "cache"]] as const) {
      await core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: `sel-${name}`, labels: { tier, set: "sel" } }) });
    }
  });
  const names = async (labelSelector: string) =>
    (await core.listNamespacedSecret({ namespace: ns, labelSelector })).items.map((s) => s.metadata!.name).sort();

  it("selects by equality, inequality and existence", async () => {
    expect(await names("set=sel,tier=web")).toEqual(["sel-a", "sel-b"]);
    expect(await names("set=sel,tier!=web")).toEqual(["sel-c", "sel-d"]);
    expect(await names("set=sel,!missing")).toEqual(["sel-a", "sel-b", "sel-c", "sel-d"]);
    expect(await names("set,missing")).toEqual([]);
  });

  it("selects with set-based requirements", async () => {
    expect(await names("set=sel,tier in (db,cache)")).toEqual(["sel-c", "sel-d"]);
    expect(await names("set=sel,tier notin (web)")).toEqual(["sel-c", "sel-d"]);
  });

  it("pages with limit and continue in name order, each item once", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedSecret({ namespace: ns, labelSelector: "set=sel", limit: 3, _continue: token });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((s) => s.metadata!.name!));
      token = page.metadata?._continue || undefined;
    } while (token);
    expect(seen).toEqual(["sel-a", "sel-b", "sel-c", "sel-d"]);
  });
});

describe("the replication controller loop", () => {
  it("creates owned pods that become Running and Ready with IPs, and fills RC status", async () => {
    const rc = await core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "loop", replicas: 2 }) });
    const pods = await eventually(async () => {
      const list = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=loop" })).items.filter(ownedBy(rc.metadata!.uid!));
      expect(list).toHaveLength(2);
      for (const p of list) {
        expect(p.status?.phase).toBe("Running");
        expect(p.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(p.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
        // KWOK's fake nodes set these and the binding adds PodScheduled; PodReadyToStartContainers is a real kubelet's.
        expect(p.status?.conditions?.map((c) => c.type).sort()).toEqual(["ContainersReady", "Initialized", "PodScheduled", "Ready"]);
      }
      return list;
    });
    expect(pods[0]!.metadata!.ownerReferences![0]).toMatchObject({ kind: "ReplicationController", name: "loop", controller: true });
    await eventually(async () => {
      const status = (await core.readNamespacedReplicationController({ name: "loop", namespace: ns })).status;
      expect(status).toMatchObject({ replicas: 2, readyReplicas: 2, observedGeneration: 1 });
    });
  });

  it("scales down and up through the scale subresource, bumping generation", async () => {
    await core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "scaled", replicas: 3 }) });
    const count = async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=scaled" })).items.filter((p) => !p.metadata?.deletionTimestamp).length;
    await eventually(async () => expect(await count()).toBe(3));
    const scale = await core.readNamespacedReplicationControllerScale({ name: "scaled", namespace: ns });
    expect(scale).toMatchObject({ spec: { replicas: 3 }, status: { selector: "app=scaled" } });
    // Without a resourceVersion the update is unconditional: the controller
    // writes the RC's status concurrently, so the version just read may be stale.
    await core.replaceNamespacedReplicationControllerScale({
      name: "scaled",
      namespace: ns,
      body: { metadata: { name: "scaled", namespace: ns }, spec: { replicas: 1 } },
    });
    await eventually(async () => expect(await count()).toBe(1));
    const rc = await core.readNamespacedReplicationController({ name: "scaled", namespace: ns });
    expect(rc.metadata?.generation).toBe(2);
    await core.replaceNamespacedReplicationControllerScale({
      name: "scaled",
      namespace: ns,
      body: { metadata: { name: "scaled", namespace: ns }, spec: { replicas: 2 } },
    });
    await eventually(async () => expect(await count()).toBe(2));
  });

  it("deletes the pods with the RC in a foreground cascade", async () => {
    const rc = await core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "doomed", replicas: 2 }) });
    await eventually(async () => expect((await core.listNamespacedPod({ namespace: ns, labelSelector: "app=doomed" })).items).toHaveLength(2));
    await core.deleteNamespacedReplicationController({ name: "doomed", namespace: ns, body: { propagationPolicy: "Foreground" } });
    await eventually(async () => {
      expect((await failure(core.readNamespacedReplicationController({ name: "doomed", namespace: ns }))).code).toBe(404);
      const left = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=doomed" })).items.filter(ownedBy(rc.metadata!.uid!));
      expect(left).toHaveLength(0);
    });
  });
});

describe("namespaces", () => {
  it("terminates a deleted namespace, refusing new content while it does", async () => {
    const doomed = await cluster.createNamespace("doomed");
    // A finalizer keeps the namespace Terminating long enough to observe.
    await core.createNamespacedSecret({ namespace: doomed, body: { ...aSecret({ name: "held" }), metadata: { name: "held", finalizers: ["kubedriver.test/hold"] } } });
    await core.deleteNamespace({ name: doomed });
    const ns = await core.readNamespace({ name: doomed });
    expect(ns.status?.phase).toBe("Terminating");
    const { code, status } = await failure(core.createNamespacedSecret({ namespace: doomed, body: aSecret({ name: "late" }) }));
    expect(code).toBe(403);
    expect(status.reason).toBe("Forbidden");
    expect(status.message).toContain("because it is being terminated");
    await eventually(async () => {
      const held = await core.readNamespacedSecret({ name: "held", namespace: doomed });
      expect(held.metadata?.deletionTimestamp).toBeDefined();
      await core.replaceNamespacedSecret({ name: "held", namespace: doomed, body: { ...held, metadata: { ...held.metadata, finalizers: [] } } });
    });
    await eventually(async () => expect((await failure(core.readNamespace({ name: doomed }))).code).toBe(404));
  });
});

describe("a user who may only read namespaces and pods", () => {
  const restricted = () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.restrictedKubeconfigPath);
    return kc.makeApiClient(CoreV1Api);
  };

  it("reads namespaces but is forbidden to create one", async () => {
    const api = restricted();
    await expect(api.readNamespace({ name: ns })).resolves.toMatchObject({ metadata: { name: ns } });
    const { code, status } = await failure(api.createNamespace({ body: { metadata: { name: cluster.uniqueNamespace("denied") } } }));
    expect(code).toBe(403);
    expect(status.reason).toBe("Forbidden");
    expect(status.message).toMatch(/cannot create resource "namespaces" in API group "" at the cluster scope/);
  });

  it("is forbidden to read secrets", async () => {
    const { code } = await failure(restricted().listNamespacedSecret({ namespace: ns }));
    expect(code).toBe(403);
  });
});

describe("request metrics", () => {
  it("counts requests in apiserver_request_total by verb and resource", async () => {
    const before = await cluster.requestCount({ verb: "GET", resource: "namespaces", code: "200" });
    for (let i = 0; i < 3; i++) await core.readNamespace({ name: ns });
    await eventually(async () => expect(await cluster.requestCount({ verb: "GET", resource: "namespaces", code: "200" })).toBeGreaterThanOrEqual(before + 3));
  });
});

describe("fault injection", () => {
  it.skipIf(onRealCluster)(`adds latency to one namespace only ${needsFaultInjection}`, async () => {
    const other = await cluster.createNamespace("fast");
    const undo = cluster.emulator!.faults.add({ namespace: ns, latencyMs: 150 });
    try {
      let t = Date.now();
      await core.listNamespacedSecret({ namespace: ns });
      expect(Date.now() - t).toBeGreaterThanOrEqual(140);
      t = Date.now();
      await core.listNamespacedSecret({ namespace: other });
      expect(Date.now() - t).toBeLessThan(140);
    } finally {
      undo();
    }
  });

  it.skipIf(onRealCluster)(`fails a share of requests with 503 and recovers when removed ${needsFaultInjection}`, async () => {
    const undo = cluster.emulator!.faults.add({ errorRate: 1, errorCode: 503 });
    const { code, status } = await failure(core.readNamespace({ name: ns }));
    expect(code).toBe(503);
    expect(status.reason).toBe("ServiceUnavailable");
    undo();
    await expect(core.readNamespace({ name: ns })).resolves.toBeDefined();
  });

  it.skipIf(onRealCluster)(`refuses connections and accepts them again ${needsFaultInjection}`, async () => {
    await cluster.emulator!.refuseConnections(true);
    const err = await core.readNamespace({ name: ns }).catch((e: unknown) => e);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err)) + String((err as Error).message)).toContain("ECONNREFUSED");
    await cluster.emulator!.refuseConnections(false);
    await expect(core.readNamespace({ name: ns })).resolves.toBeDefined();
  });

  it.skipIf(onRealCluster)(`resets the connections of one namespace ${needsFaultInjection}`, async () => {
    const undo = cluster.emulator!.faults.add({ namespace: ns, reset: true });
    try {
      await expect(core.readNamespace({ name: ns })).rejects.toThrow();
      const other = await cluster.createNamespace("untouched");
      await expect(core.readNamespace({ name: other })).resolves.toBeDefined();
    } finally {
      undo();
    }
  });
});

describe("deletion answers", () => {
  it("orphans an RC's pods when the DELETE names no propagation policy, as core/v1 does for RCs", async () => {
    const rc = await core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "orphaner", replicas: 1 }) });
    await eventually(async () => expect((await core.listNamespacedPod({ namespace: ns, labelSelector: "app=orphaner" })).items).toHaveLength(1));
    const answer = await raw(cluster.kubeConfig(), "DELETE", `/api/v1/namespaces/${ns}/replicationcontrollers/orphaner`);
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ kind: "ReplicationController", metadata: { name: "orphaner", deletionTimestamp: expect.any(String), finalizers: ["orphan"] } });
    await eventually(async () => {
      expect((await failure(core.readNamespacedReplicationController({ name: "orphaner", namespace: ns }))).code).toBe(404);
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=orphaner" })).items;
      expect(pods).toHaveLength(1);
      expect(pods.filter(ownedBy(rc.metadata!.uid!))).toHaveLength(0);
    });
  });

  it("answers a finished background DELETE of an RC or a secret with a Status naming it, and of a service with the service", async () => {
    const rc = await core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "gone-rc", replicas: 0 }) });
    const answer = await raw(cluster.kubeConfig(), "DELETE", `/api/v1/namespaces/${ns}/replicationcontrollers/gone-rc`, { propagationPolicy: "Background" });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: "gone-rc", kind: "replicationcontrollers", uid: rc.metadata!.uid },
    });
    const secret = await core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "gone-secret" }) });
    expect((await raw(cluster.kubeConfig(), "DELETE", `/api/v1/namespaces/${ns}/secrets/gone-secret`)).json()).toMatchObject({
      status: "Success",
      details: { name: "gone-secret", kind: "secrets", uid: secret.metadata!.uid },
    });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: "gone-svc" }, spec: { ports: [{ port: 80 }] } } });
    expect((await raw(cluster.kubeConfig(), "DELETE", `/api/v1/namespaces/${ns}/services/gone-svc`)).json()).toMatchObject({ kind: "Service", metadata: { name: "gone-svc" } });
  });
});

describe("unknown paths", () => {
  it("answers an unknown resource of v1 with the API server's NotFound Status, and a path outside the API in plain text", async () => {
    const unknown = await raw(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${ns}/widgets`);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "the server could not find the requested resource",
      reason: "NotFound",
      details: {},
      code: 404,
    });
    const outside = await raw(cluster.kubeConfig(), "GET", "/apis/widgets.example.com/v1/widgets");
    expect(outside.status).toBe(404);
    expect(outside.text).toBe("404 page not found\n");
  });
});

describe("what every cluster has", () => {
  it("starts with the four namespaces, Active, each with a default service account", async () => {
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      const namespace = await core.readNamespace({ name });
      expect(namespace).toMatchObject({ metadata: { labels: { "kubernetes.io/metadata.name": name } }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } });
      await eventually(async () => expect((await core.readNamespacedServiceAccount({ name: "default", namespace: name })).metadata?.name).toBe("default"));
    }
    const service = await core.readNamespacedService({ name: "kubernetes", namespace: "default" });
    expect(service.spec?.ports?.[0]).toMatchObject({ name: "https", port: 443, protocol: "TCP" });
  });

  it("gives a new namespace its default service account", async () => {
    const fresh = await cluster.createNamespace("sa");
    await eventually(async () => expect((await core.listNamespacedServiceAccount({ namespace: fresh })).items.map((s) => s.metadata?.name)).toEqual(["default"]));
  });
});

describe("events", () => {
  it("records the RC's pod creations and deletions and each pod's scheduling, selectable by involved object", async () => {
    const rc = await core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "eventful", replicas: 2 }) });
    const rcEvents = async () =>
      (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.kind=ReplicationController,involvedObject.name=eventful,involvedObject.uid=${rc.metadata!.uid}` })).items;
    const created = await eventually(async () => {
      const events = (await rcEvents()).filter((e) => e.reason === "SuccessfulCreate");
      expect(events).toHaveLength(2);
      return events;
    });
    expect(created[0]).toMatchObject({
      type: "Normal",
      message: expect.stringMatching(/^Created pod: eventful-\w+$/),
      source: { component: "replication-controller" },
      reportingComponent: "replication-controller",
      count: 1,
      involvedObject: { kind: "ReplicationController", name: "eventful", namespace: ns, uid: rc.metadata!.uid, apiVersion: "v1" },
    });
    const pod = created[0]!.message!.slice("Created pod: ".length);
    await eventually(async () => {
      const scheduled = (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${pod},reason=Scheduled` })).items;
      expect(scheduled).toHaveLength(1);
      expect(scheduled[0]).toMatchObject({
        type: "Normal",
        action: "Binding",
        reportingComponent: "default-scheduler",
        message: expect.stringMatching(new RegExp(`^Successfully assigned ${ns}/${pod} to \\S+$`)),
        involvedObject: { kind: "Pod", name: pod, namespace: ns },
      });
    });
    await core.patchNamespacedReplicationControllerScale({ name: "eventful", namespace: ns, body: [{ op: "replace", path: "/spec/replicas", value: 1 }] });
    await eventually(async () => {
      const deleted = (await rcEvents()).filter((e) => e.reason === "SuccessfulDelete");
      expect(deleted).toHaveLength(1);
      expect(deleted[0]!.message).toMatch(/^Deleted pod: eventful-\w+$/);
    });
  });
});

describe("server-side tables", () => {
  const asTable = { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" };

  it("prints RCs, pods and services with kube-apiserver's columns and cells", async () => {
    await core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "tabled", replicas: 1 }) });
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: "tabled" }, spec: { selector: { app: "tabled" }, ports: [{ port: 80 }] } } });
    await eventually(async () => expect((await core.readNamespacedReplicationController({ name: "tabled", namespace: ns })).status?.readyReplicas).toBe(1));
    const table = async (path: string) => {
      const answer = await raw(cluster.kubeConfig(), "GET", path, undefined, asTable);
      expect(answer.json()).toMatchObject({ kind: "Table", apiVersion: "meta.k8s.io/v1" });
      return answer.json() as { columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: any }[] };
    };
    const rcs = await table(`/api/v1/namespaces/${ns}/replicationcontrollers/tabled`);
    expect(rcs.columnDefinitions.map((c) => c.name)).toEqual(["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"]);
    expect(rcs.rows[0]!.cells).toEqual(["tabled", 1, 1, 1, expect.stringMatching(/^\d+s$/), "main", "registry.example.com/web:1.0", "app=tabled"]);
    expect(rcs.rows[0]!.object).toMatchObject({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: { name: "tabled" } });

    const pods = await table(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dtabled`);
    expect(pods.columnDefinitions.map((c) => c.name)).toEqual(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]);
    expect(pods.rows[0]!.cells).toEqual([expect.stringMatching(/^tabled-/), "1/1", "Running", "0", expect.any(String), expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), expect.any(String), "<none>", "<none>"]);

    const services = await table(`/api/v1/namespaces/${ns}/services/tabled`);
    expect(services.columnDefinitions.map((c) => c.name)).toEqual(["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]);
    expect(services.rows[0]!.cells).toEqual(["tabled", "ClusterIP", expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), "<none>", "80/TCP", expect.any(String), "app=tabled"]);
  });

  it("prints secrets, namespaces and events, and answers 406 to an Accept list it cannot meet", async () => {
    await core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "tabled", data: { a: "1", b: "2" } }) });
    const secrets = (await raw(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${ns}/secrets/tabled`, undefined, asTable)).json();
    expect(secrets.rows[0].cells).toEqual(["tabled", "Opaque", 2, expect.any(String)]);
    const namespace = (await raw(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${ns}`, undefined, asTable)).json();
    expect(namespace.rows[0].cells).toEqual([ns, "Active", expect.any(String)]);
    const events = (await raw(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${ns}/events`, undefined, asTable)).json();
    expect(events.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"]);
    const refused = await raw(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${ns}`, undefined, { accept: "text/csv" });
    expect(refused.status).toBe(406);
    expect(refused.json()).toMatchObject({ kind: "Status", reason: "NotAcceptable", code: 406 });
  });
});
