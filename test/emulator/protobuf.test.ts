import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeObject, decodeWatchFrames, encodeObject } from "../../src/emulator/protobuf/codec.js";
import { aReplicationController, aSecret } from "../support/fixtures.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { kubectlBinary } from "../support/kubectl.js";
import { raw, rawBytes } from "./raw.js";

// Contract tests of protobuf bodies (application/vnd.kubernetes.protobuf), as
// kubectl's typed commands, client-go and controller-runtime send and ask for
// them. They run on the emulator and unchanged on a real control plane.
const protobuf = "application/vnd.kubernetes.protobuf";
/** What client-go's protobuf clients send as Accept. */
const clientGoAccept = `${protobuf}, */*`;

let cluster: TestCluster;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("protobuf");
});
afterAll(() => cluster.close());

const request = (method: string, path: string, body?: object, headers: Record<string, string> = {}) =>
  rawBytes(cluster.kubeConfig(), method, path, body && encodeObject(body), {
    accept: clientGoAccept,
    ...(body ? { "content-type": protobuf } : {}),
    ...headers,
  });

describe("protobuf bodies", () => {
  it("creates a namespace from a protobuf body and reads it back in protobuf", async () => {
    const name = cluster.uniqueNamespace("protobuf-ns");
    const created = await request("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { team: "a" } } });
    expect(created.status).toBe(201);
    expect(created.contentType).toBe(protobuf);
    const namespace = decodeObject(created.bytes);
    expect(namespace).toMatchObject({ kind: "Namespace", apiVersion: "v1", metadata: { name, labels: { team: "a" } }, status: { phase: "Active" } });
    expect(namespace.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const read = await request("GET", `/api/v1/namespaces/${name}`);
    expect(read.contentType).toBe(protobuf);
    expect(decodeObject(read.bytes).metadata).toMatchObject({ name, uid: namespace.metadata.uid, resourceVersion: namespace.metadata.resourceVersion });
    // The same object in JSON, for a client that asks for it.
    const json = await raw(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${name}`);
    expect(json.contentType).toBe("application/json");
    expect(json.json().metadata.uid).toBe(namespace.metadata.uid);
  });

  it("keeps a secret's bytes, and answers errors as protobuf Status", async () => {
    const value = Buffer.from([0, 1, 2, 250, 255]).toString("base64");
    const created = await request("POST", `/api/v1/namespaces/${ns}/secrets`, { apiVersion: "v1", kind: "Secret", metadata: { name: "binary" }, data: { key: value } });
    expect(created.status).toBe(201);
    expect(decodeObject(created.bytes)).toMatchObject({ kind: "Secret", type: "Opaque", data: { key: value } });
    expect((await core().readNamespacedSecret({ name: "binary", namespace: ns })).data).toEqual({ key: value });

    const missing = await request("GET", `/api/v1/namespaces/${ns}/secrets/absent`);
    expect(missing.status).toBe(404);
    expect(missing.contentType).toBe(protobuf);
    expect(decodeObject(missing.bytes)).toMatchObject({ kind: "Status", status: "Failure", reason: "NotFound", code: 404, details: { name: "absent", kind: "secrets" } });
  });

  it("lists pods as protobuf, with their status, quantities and ports", async () => {
    const rc = aReplicationController({ name: "listed", replicas: 2 });
    rc.spec!.template!.spec!.containers[0]!.resources = { requests: { cpu: "100m", memory: "64Mi" } };
    await core().createNamespacedReplicationController({ namespace: ns, body: rc });
    const pods = await eventually(async () => {
      const list = decodeObject((await request("GET", `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dlisted`)).bytes);
      expect(list.items.filter((p: any) => p.status?.phase === "Running")).toHaveLength(2);
      return list;
    });
    expect(pods).toMatchObject({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
    expect(pods.items[0].spec.containers[0]).toMatchObject({ resources: { requests: { cpu: "100m", memory: "64Mi" } }, ports: [{ containerPort: 8080, protocol: "TCP" }] });
    expect(pods.items[0].kind).toBeUndefined();
  });

  it("updates an RC's scale in protobuf, to zero replicas", async () => {
    await core().createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "scaled", replicas: 1 }) });
    const scale = decodeObject((await request("GET", `/api/v1/namespaces/${ns}/replicationcontrollers/scaled/scale`)).bytes);
    expect(scale).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 1 } });
    // Without its resourceVersion: the RC loop may have written the RC's status since.
    const unconditional = { ...scale, metadata: { name: "scaled", namespace: ns }, spec: { replicas: 0 } };
    const updated = await request("PUT", `/api/v1/namespaces/${ns}/replicationcontrollers/scaled/scale`, unconditional);
    expect(updated.status).toBe(200);
    expect(decodeObject(updated.bytes).spec.replicas ?? 0).toBe(0);
    expect((await core().readNamespacedReplicationController({ name: "scaled", namespace: ns })).spec?.replicas).toBe(0);
  });

  it("creates and reads an autoscaling/v2 HorizontalPodAutoscaler in protobuf", async () => {
    const hpa = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web" },
      spec: {
        scaleTargetRef: { apiVersion: "v1", kind: "ReplicationController", name: "web" },
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }],
      },
    };
    const created = await request("POST", `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`, hpa);
    expect(created.status).toBe(201);
    const read = decodeObject((await request("GET", `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/web`)).bytes);
    expect(read).toMatchObject({ ...hpa, metadata: { name: "web", namespace: ns } });
  });

  it("reads DeleteOptions in protobuf: a failed precondition is a Conflict", async () => {
    await core().createNamespacedSecret({ namespace: ns, body: aSecret({ name: "guarded" }) });
    const refused = await request("DELETE", `/api/v1/namespaces/${ns}/secrets/guarded`, {
      apiVersion: "v1",
      kind: "DeleteOptions",
      preconditions: { uid: "00000000-0000-0000-0000-000000000000" },
    });
    expect(refused.status).toBe(409);
    expect(decodeObject(refused.bytes)).toMatchObject({ kind: "Status", reason: "Conflict" });
    const deleted = await request("DELETE", `/api/v1/namespaces/${ns}/secrets/guarded`, { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" });
    expect(deleted.status).toBe(200);
  });

  it("refuses a protobuf body without the k8s envelope, and media types it does not read", async () => {
    const bare = await rawBytes(cluster.kubeConfig(), "POST", "/api/v1/namespaces", Buffer.from("{}"), { "content-type": protobuf });
    expect(bare.status).toBe(400);
    expect(JSON.parse(bare.bytes.toString()).message).toMatch(
      /^the object provided is unrecognized \(must be of type Namespace\): provided data does not appear to be a protobuf message, expected prefix \[107 56 115 0\]/,
    );
    const xml = await rawBytes(cluster.kubeConfig(), "POST", "/api/v1/namespaces", Buffer.from("<ns/>"), { "content-type": "application/xml" });
    expect(xml.status).toBe(415);
    expect(JSON.parse(xml.bytes.toString())).toMatchObject({
      reason: "UnsupportedMediaType",
      message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    });
    // Protobuf is no patch type.
    const patch = await request("PATCH", `/api/v1/namespaces/${ns}`, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    expect(patch.status).toBe(415);
    expect(decodeObject(patch.bytes)).toMatchObject({ reason: "UnsupportedMediaType", message: "415: Unsupported Media Type" });
  });
});

describe("protobuf watch", () => {
  it("streams length-prefixed WatchEvents: ADDED for a created object", async () => {
    const controller = new AbortController();
    const watching = await rawBytes(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${ns}/secrets?watch=true&timeoutSeconds=30&fieldSelector=metadata.name%3Dwatched`, undefined, { accept: protobuf }, { stream: true, signal: controller.signal });
    expect(watching.status).toBe(200);
    expect(watching.contentType).toBe(`${protobuf};stream=watch`);
    const events: { type: string; object: any }[] = [];
    const reading = (async () => {
      let pending: Uint8Array = Buffer.alloc(0);
      try {
        for await (const chunk of watching.body) {
          const { events: decoded, rest } = decodeWatchFrames(Buffer.concat([pending, chunk as Buffer]));
          events.push(...decoded);
          pending = rest;
        }
      } catch {
        // Aborted below.
      }
    })();
    await core().createNamespacedSecret({ namespace: ns, body: aSecret({ name: "watched" }) });
    await eventually(() => expect(events.map((e) => e.type)).toContain("ADDED"));
    controller.abort();
    await reading;
    expect(events[0]).toMatchObject({ type: "ADDED", object: { kind: "Secret", apiVersion: "v1", metadata: { name: "watched", namespace: ns }, data: { key: Buffer.from("value").toString("base64") } } });
  });
});

describe("Accept negotiation", () => {
  const accepting = async (accept: string) => {
    const answer = await rawBytes(cluster.kubeConfig(), "GET", `/api/v1/namespaces/${ns}`, undefined, { accept });
    return { status: answer.status, contentType: answer.contentType, body: answer.bytes };
  };

  it("chooses by quality, then by order, and keeps Tables in JSON", async () => {
    expect((await accepting(clientGoAccept)).contentType).toBe(protobuf);
    expect((await accepting(`application/json;q=0.5, ${protobuf};q=0.9`)).contentType).toBe(protobuf);
    expect((await accepting(`application/json, ${protobuf}`)).contentType).toBe("application/json");
    expect((await accepting(`${protobuf};q=0, application/json`)).contentType).toBe("application/json");
    expect((await accepting("*/*")).contentType).toBe("application/json");
    const table = await accepting(`${protobuf};as=Table;v=v1;g=meta.k8s.io, application/json`);
    expect(table.contentType).toBe("application/json");
    expect(JSON.parse(table.body.toString()).kind).toBe("Namespace");
  });

  it("answers 406 as kube-apiserver does: by the route for no served type, by the handler for a Table in protobuf", async () => {
    const none = await accepting("text/csv");
    expect(none.status).toBe(406);
    expect(none.contentType).toBe("application/json");
    expect(JSON.parse(none.body.toString())).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf",
      reason: "NotAcceptable",
      details: {},
      code: 406,
    });
    const table = await accepting(`${protobuf};as=Table;v=v1;g=meta.k8s.io`);
    expect(table.status).toBe(406);
    expect(JSON.parse(table.body.toString())).toMatchObject({
      reason: "NotAcceptable",
      message: "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    });
  });
});

describe("kubectl v1.36.3's typed commands (protobuf)", () => {
  const kubectl = kubectlBinary();
  const run = promisify(execFile);
  const k = (...args: string[]) => run(kubectl!, ["--kubeconfig", cluster.kubeconfigPath, ...args]);

  it.runIf(kubectl)("creates a namespace, a secret and a service and scales an RC (needs test/cluster/build.sh's kubectl)", async () => {
    const name = cluster.uniqueNamespace("kubectl");
    expect((await k("create", "ns", name)).stdout).toBe(`namespace/${name} created\n`);
    expect((await k("-n", name, "create", "secret", "generic", "creds", "--from-literal=password=s3cret")).stdout).toBe("secret/creds created\n");
    expect(Buffer.from((await core().readNamespacedSecret({ name: "creds", namespace: name })).data!.password!, "base64").toString()).toBe("s3cret");
    await core().createNamespacedReplicationController({ namespace: name, body: aReplicationController({ name: "web", replicas: 1 }) });
    expect((await k("-n", name, "scale", "rc", "web", "--replicas=3")).stdout).toBe("replicationcontroller/web scaled\n");
    await eventually(async () => expect((await core().readNamespacedReplicationController({ name: "web", namespace: name })).status?.readyReplicas).toBe(3), { timeoutMs: 30_000 });
    expect((await k("-n", name, "create", "service", "clusterip", "web", "--tcp=80:8080")).stdout).toBe("service/web created\n");
  });
});

function core() {
  return cluster.core;
}
