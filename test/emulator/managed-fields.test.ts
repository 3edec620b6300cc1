import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { raw } from "./raw.js";

// metadata.managedFields as kube-apiserver's field manager keeps them for
// Update operations. Run on the emulator and on a real control plane; every
// field set below is what v1.36.3 answers.
let cluster: TestCluster;
let kc: KubeConfig;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  kc = cluster.kubeConfig();
  ns = await cluster.createNamespace("fields");
});
afterAll(() => cluster.close());

type Entry = { manager?: string; operation: string; apiVersion: string; time?: string; fieldsType: string; fieldsV1: any; subresource?: string };

const rc = (name: string) => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name, labels: { app: name }, annotations: { team: "web" } },
  spec: {
    replicas: 2,
    selector: { app: name, v: "0" },
    template: {
      metadata: { labels: { app: name, v: "0", "load-balancer-web": "true" } },
      spec: { containers: [{ name: "web", image: "nginx:1.25", ports: [{ containerPort: 80 }], env: [{ name: "A", value: "1" }] }], imagePullSecrets: [] },
    },
  },
});

const container = {
  ".": {},
  "f:env": { ".": {}, 'k:{"name":"A"}': { ".": {}, "f:name": {}, "f:value": {} } },
  "f:image": {},
  "f:imagePullPolicy": {},
  "f:name": {},
  "f:ports": { ".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {}, "f:protocol": {} } },
  "f:resources": {},
  "f:terminationMessagePath": {},
  "f:terminationMessagePolicy": {},
};
const podSpec = {
  "f:dnsPolicy": {},
  "f:restartPolicy": {},
  "f:schedulerName": {},
  "f:securityContext": {},
  "f:terminationGracePeriodSeconds": {},
};
const templateLabels = { ".": {}, "f:app": {}, "f:load-balancer-web": {}, "f:v": {} };

/** What a create of `rc(…)` owns: the request's fields and the defaults decoding adds, nothing the server sets. */
const created = {
  "f:metadata": { "f:annotations": { ".": {}, "f:team": {} }, "f:labels": { ".": {}, "f:app": {} } },
  "f:spec": {
    "f:replicas": {},
    "f:selector": {},
    "f:template": {
      ".": {},
      "f:metadata": { ".": {}, "f:labels": templateLabels },
      "f:spec": { ".": {}, "f:containers": { ".": {}, 'k:{"name":"web"}': container }, ...podSpec },
    },
  },
};

async function send(method: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await raw(kc, method, path, body, headers);
  return { status: res.status, body: res.json() };
}

const entriesOf = (obj: any): Entry[] => obj.metadata.managedFields ?? [];
const entry = (obj: any, manager: string, subresource?: string) => entriesOf(obj).find((e) => e.manager === manager && e.subresource === subresource);
const rcPath = (name = "") => `/api/v1/namespaces/${ns}/replicationcontrollers${name ? `/${name}` : ""}`;

describe("managedFields", () => {
  it("gives a create's fields, defaults included, to its fieldManager, and status to the controller that writes it", async () => {
    const { status, body } = await send("POST", `${rcPath()}?fieldManager=pipeline`, rc("owned"));
    expect(status).toBe(201);
    expect(entriesOf(body)).toEqual([{ manager: "pipeline", operation: "Update", apiVersion: "v1", time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), fieldsType: "FieldsV1", fieldsV1: created }]);
    // The empty list is dropped on the way into storage, as the Go type's omitempty drops it.
    expect(body.spec.template.spec).not.toHaveProperty("imagePullSecrets");
    const stored = await eventually(async () => {
      const { body } = await send("GET", rcPath("owned"), undefined);
      expect(entry(body, "kube-controller-manager", "status")?.fieldsV1["f:status"]).toMatchObject({ "f:observedGeneration": {}, "f:replicas": {} });
      return body;
    });
    expect(entry(stored, "pipeline")?.fieldsV1).toEqual(created);
  });

  it("gives the pods' fields to the controller that makes them, keyed by the owner's uid, and their status to the node", async () => {
    const { body: owner } = await send("POST", rcPath(), rc("pods"));
    const pod = await eventually(async () => {
      const { body } = await send("GET", `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dpods`, undefined);
      const running = body.items.find((p: any) => p.status.phase === "Running" && entriesOf(p).some((e) => e.subresource === "status"));
      expect(running).toBeDefined();
      return running;
    });
    expect(entry(pod, "kube-controller-manager")?.fieldsV1).toEqual({
      "f:metadata": { "f:generateName": {}, "f:labels": templateLabels, "f:ownerReferences": { ".": {}, [`k:{"uid":"${owner.metadata.uid}"}`]: {} } },
      "f:spec": { "f:containers": { 'k:{"name":"web"}': container }, ...podSpec, "f:enableServiceLinks": {} },
    });
    const node = entriesOf(pod).find((e) => e.subresource === "status")!;
    expect(node.manager).toMatch(/^(kwok|kubelet)$/);
    // Binding is not a field manager's write: nobody owns nodeName or the PodScheduled condition.
    expect(node.fieldsV1["f:status"]["f:conditions"]).not.toHaveProperty('k:{"type":"PodScheduled"}');
    expect(node.fieldsV1["f:status"]).toMatchObject({ "f:phase": {}, "f:podIP": {}, "f:conditions": { 'k:{"type":"Ready"}': { ".": {}, "f:status": {}, "f:type": {} } } });
    expect(JSON.stringify(pod.metadata.managedFields)).not.toContain("nodeName");
  });

  it("moves spec.replicas to whoever scales, in an entry of the scale subresource without a time", async () => {
    await send("POST", `${rcPath()}?fieldManager=pipeline`, rc("scaled"));
    const scaled = await send("PATCH", `${rcPath("scaled")}/scale?fieldManager=autoscaler`, { spec: { replicas: 3 } }, { "content-type": "application/merge-patch+json" });
    expect(scaled.status).toBe(200);
    const { body } = await send("GET", rcPath("scaled"), undefined);
    expect(entry(body, "autoscaler", "scale")).toEqual({ manager: "autoscaler", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:replicas": {} } }, subresource: "scale" });
    expect(entry(body, "pipeline")?.fieldsV1["f:spec"]).not.toHaveProperty("f:replicas");
    expect(entriesOf(body)[0]?.manager).toBe("autoscaler");
  });

  it("gives a patch's changes to its writer, takes them from their old owner, and removes a field from its owner with the field", async () => {
    await send("POST", `${rcPath()}?fieldManager=pipeline`, rc("patched"));
    const patch = { metadata: { annotations: { team: null } }, spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.26" }] } } } };
    const { status, body } = await send("PATCH", `${rcPath("patched")}?fieldManager=patcher`, patch, { "content-type": "application/strategic-merge-patch+json" });
    expect(status).toBe(200);
    expect(body.metadata).not.toHaveProperty("annotations");
    expect(entry(body, "patcher")?.fieldsV1).toEqual({ "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"web"}': { "f:image": {} } } } } } });
    const pipeline = entry(body, "pipeline")!.fieldsV1;
    expect(pipeline["f:metadata"]).toEqual({ "f:labels": { ".": {}, "f:app": {} } });
    expect(pipeline["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']).not.toHaveProperty("f:image");
  });

  it("keeps ownership through an update that sends the object back, managedFields and all", async () => {
    await send("POST", `${rcPath()}?fieldManager=pipeline`, rc("replaced"));
    // Read, change, write, as a client does: the controller writes the RC's status meanwhile, so a write may meet 409 and go again.
    const { status, body } = await eventually(async () => {
      const { body: current } = await send("GET", rcPath("replaced"), undefined);
      current.metadata.labels.tier = "front";
      const replaced = await send("PUT", `${rcPath("replaced")}?fieldManager=editor`, current);
      expect(replaced.status).not.toBe(409);
      return replaced;
    });
    expect(status).toBe(200);
    expect(entry(body, "editor")?.fieldsV1).toEqual({ "f:metadata": { "f:labels": { "f:tier": {} } } });
    expect(entry(body, "pipeline")?.fieldsV1).toEqual(created);
  });

  it("takes managedFields a write sends: [] or [{}] clears them, an edited list replaces them, a malformed one is ignored", async () => {
    const secretPath = (name = "") => `/api/v1/namespaces/${ns}/secrets${name ? `/${name}` : ""}`;
    const data = { "f:data": { ".": {}, "f:a": {} }, "f:type": {} };
    const label = { "f:metadata": { "f:labels": { ".": {}, "f:k": {} } } };
    const cases: [string, unknown, [string | undefined, unknown][]][] = [
      ["empty", [], []],
      ["one-empty-entry", [{}], []],
      ["edited", [{ manager: "fake", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:data": { "f:a": {} } } }], [["fake", { "f:data": { "f:a": {} } }], ["editor", label]]],
      ["applied", [{ manager: "applier", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:data": { "f:a": {} } } }], [["applier", { "f:data": { "f:a": {} } }], ["editor", label]]],
      ["malformed", [{ manager: "x", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: "nope" }], [["editor", label], ["pipeline", data]]],
      ["two-empty-entries", [{}, {}], [["editor", label], ["pipeline", data]]],
    ];
    for (const [name, managedFields, expected] of cases) {
      await send("POST", `${secretPath()}?fieldManager=pipeline`, { apiVersion: "v1", kind: "Secret", metadata: { name }, data: { a: "Yg==" } });
      const { status, body } = await eventually(async () => {
        const { body: current } = await send("GET", secretPath(name), undefined);
        const replaced = await send("PUT", `${secretPath(name)}?fieldManager=editor`, { ...current, metadata: { ...current.metadata, managedFields, labels: { k: "v" } } });
        expect(replaced.status).not.toBe(409);
        return replaced;
      });
      expect(status).toBe(200);
      const got = entriesOf(body)
        .map((e): [string | undefined, unknown] => [e.manager, e.fieldsV1])
        .sort(([a], [b]) => String(a).localeCompare(String(b)));
      expect([name, got]).toEqual([name, [...expected].sort(([a], [b]) => String(a).localeCompare(String(b)))]);
    }
  });

  it("names a writer without fieldManager by its User-Agent's product, cut to 128 bytes", async () => {
    const secret = (name: string) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, data: { a: "Yg==" } });
    const named = await send("POST", `/api/v1/namespaces/${ns}/secrets`, secret("by-agent"), { "user-agent": "deployer/1.2.3 (linux/amd64)" });
    expect(entriesOf(named.body)).toEqual([
      { manager: "deployer", operation: "Update", apiVersion: "v1", time: expect.any(String), fieldsType: "FieldsV1", fieldsV1: { "f:data": { ".": {}, "f:a": {} }, "f:type": {} } },
    ]);
    const long = await send("POST", `/api/v1/namespaces/${ns}/secrets`, secret("long-agent"), { "user-agent": `${"u".repeat(140)}/1.0` });
    expect(entriesOf(long.body)[0]?.manager).toBe("u".repeat(128));
  });

  it("gives nobody a service's allocated addresses and families", async () => {
    const service = { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { selector: { "load-balancer-web": "true" }, ports: [{ port: 80, targetPort: 8080 }] } };
    const { body } = await send("POST", `/api/v1/namespaces/${ns}/services?fieldManager=pipeline`, service);
    expect(body.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(entriesOf(body).map((e) => e.fieldsV1)).toEqual([
      {
        "f:spec": {
          "f:internalTrafficPolicy": {},
          "f:ports": { ".": {}, 'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {} } },
          "f:selector": {},
          "f:sessionAffinity": {},
          "f:type": {},
        },
      },
    ]);
  });

  it("writes each field set in structured-merge-diff's order: fields by name, then list keys by value, numbers as numbers", async () => {
    const ports = [443, 80, 8080].map((port) => ({ name: `p${port}`, port, targetPort: port }));
    const service = { apiVersion: "v1", kind: "Service", metadata: { name: "ordered", labels: { z: "1", a: "1" } }, spec: { selector: { a: "1" }, ports } };
    const { body } = await send("POST", `/api/v1/namespaces/${ns}/services?fieldManager=pipeline`, service);
    const fields = entriesOf(body)[0]!.fieldsV1;
    expect(Object.keys(fields)).toEqual(["f:metadata", "f:spec"]);
    expect(Object.keys(fields["f:metadata"]["f:labels"])).toEqual([".", "f:a", "f:z"]);
    expect(Object.keys(fields["f:spec"]["f:ports"])).toEqual([".", ...[80, 443, 8080].map((port) => `k:{"port":${port},"protocol":"TCP"}`)]);
    expect(Object.keys(fields["f:spec"]["f:ports"]['k:{"port":80,"protocol":"TCP"}'])).toEqual([".", "f:name", "f:port", "f:protocol", "f:targetPort"]);
  });

  it("refuses a fieldManager over 128 bytes or with a character that is not printable, in the options' words", async () => {
    const tooLong = await send("POST", `${rcPath()}?fieldManager=${"m".repeat(129)}`, rc("refused"));
    expect(tooLong).toMatchObject({
      status: 422,
      body: {
        reason: "Invalid",
        message: 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
        details: { group: "meta.k8s.io", kind: "CreateOptions", causes: [{ reason: "FieldValueTooLong", field: "fieldManager" }] },
      },
    });
    const control = await send("PATCH", `${rcPath("owned")}?fieldManager=a%09b`, {}, { "content-type": "application/merge-patch+json" });
    expect(control).toMatchObject({
      status: 422,
      body: { message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\tb": invalid character U+0009 (at position 1)' },
    });
    const { status } = await send("GET", rcPath("refused"), undefined);
    expect(status).toBe(404);
  });
});
