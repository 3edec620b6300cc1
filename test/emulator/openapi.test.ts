import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aReplicationController } from "../support/fixtures.js";
import { startTestCluster, type TestCluster } from "../support/cluster.js";
import { kubectlBinary } from "../support/kubectl.js";
import { raw } from "./raw.js";

// OpenAPI documents and server-side field validation, as kubectl uses them to
// validate `create -f` / `apply -f` and to `explain`. Runs on the emulator and
// unchanged on a real control plane.
let cluster: TestCluster;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("openapi");
});
afterAll(() => cluster.close());

const get = (p: string, headers: Record<string, string> = {}) => raw(cluster.kubeConfig(), "GET", p, undefined, headers);
const v2Protobuf = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

async function v3Index(): Promise<Record<string, { serverRelativeURL: string }>> {
  return (await get("/openapi/v3")).json().paths;
}

async function v3(gv: string): Promise<any> {
  return (await get((await v3Index())[gv]!.serverRelativeURL)).json();
}

describe("OpenAPI v3", () => {
  it("lists the served group versions, each at a URL with its content hash", async () => {
    const paths = await v3Index();
    expect(paths["api/v1"]!.serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    expect(paths["apis/autoscaling/v2"]!.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/autoscaling\/v2\?hash=[0-9A-F]{128}$/);
  });

  it("serves a document at its hashed URL as immutable, with the hash as ETag; a stale hash redirects to the current one", async () => {
    const url = (await v3Index())["api/v1"]!.serverRelativeURL;
    const hash = url.split("hash=")[1]!;
    const answer = await get(url, { accept: "application/json" });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("application/json");
    expect(answer.header("cache-control")).toBe("public, immutable");
    expect(answer.header("etag")).toBe(`"${hash}"`);
    expect((await get(url, { "if-none-match": `"${hash}"` })).status).toBe(304);
    const stale = await get("/openapi/v3/api/v1?hash=0", { accept: "application/json" });
    expect(stale.status).toBe(301);
    expect(stale.header("location")).toMatch(new RegExp(`${url.replace(/[?]/g, "\\?")}$`));
    expect((await get("/openapi/v3/api/v1", { accept: "application/json" })).header("cache-control")).toBe("no-cache, private");
  });

  it("answers 404 for a group version it does not have and 406 for a media type it cannot write", async () => {
    expect((await get("/openapi/v3/apis/widgets.example.com/v1")).status).toBe(404);
    expect((await get("/openapi/v3/api/v1", { accept: "text/html" })).status).toBe(406);
  });

  it("describes ReplicationController with its real fields, and its PATCH takes fieldValidation", async () => {
    const doc = await v3("api/v1");
    const schemas = doc.components.schemas;
    const rc = schemas["io.k8s.api.core.v1.ReplicationController"];
    expect(rc["x-kubernetes-group-version-kind"]).toEqual([{ group: "", kind: "ReplicationController", version: "v1" }]);
    expect(Object.keys(rc.properties)).toEqual(["apiVersion", "kind", "metadata", "spec", "status"]);
    expect(Object.keys(schemas["io.k8s.api.core.v1.ReplicationControllerSpec"].properties)).toEqual(["minReadySeconds", "replicas", "selector", "template"]);
    expect(schemas["io.k8s.api.core.v1.Container"].required).toEqual(["name"]);
    const patch = doc.paths["/api/v1/namespaces/{namespace}/replicationcontrollers/{name}"].patch;
    expect(patch["x-kubernetes-group-version-kind"]).toEqual({ group: "", kind: "ReplicationController", version: "v1" });
    expect(patch.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
    expect(Object.keys(patch.requestBody.content)).toContain("application/strategic-merge-patch+json");
  });

  it("has the paths of every resource and subresource that discovery lists, and no other", async () => {
    for (const [gv, prefix] of [["api/v1", "/api/v1"], ["apis/autoscaling/v2", "/apis/autoscaling/v2"]] as const) {
      const doc = await v3(gv);
      const resources: { name: string; namespaced: boolean; verbs: string[] }[] = (await get(prefix)).json().resources;
      expect(resources.length).toBeGreaterThan(0);
      const expected = new Set<string>([`${prefix}/`]);
      for (const r of resources) {
        const [name, sub] = r.name.split("/");
        const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${name}` : `${prefix}/${name}`;
        if (sub) expected.add(`${collection}/{name}/${sub}`);
        else {
          expected.add(collection);
          if (r.namespaced && r.verbs.includes("list")) expected.add(`${prefix}/${name}`);
        }
      }
      // Paths not of one resource or subresource: the deprecated watch paths and proxies' sub-paths.
      const paths = Object.keys(doc.paths).filter((p) => !p.startsWith(`${prefix}/watch/`) && !p.endsWith("/{path}"));
      const items = paths.filter((p) => p.endsWith("/{name}")).map((p) => p.slice(0, -"/{name}".length));
      expect(new Set(paths.filter((p) => !p.endsWith("/{name}"))), gv).toEqual(expected);
      for (const collection of items) expect(expected, `${gv} ${collection}/{name}`).toContain(collection);
    }
  });

  it("describes HorizontalPodAutoscaler v2 in its own group version", async () => {
    const hpa = (await v3("apis/autoscaling/v2")).components.schemas["io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec"];
    expect(Object.keys(hpa.properties)).toEqual(["behavior", "maxReplicas", "metrics", "minReplicas", "scaleTargetRef"]);
  });
});

describe("OpenAPI v2", () => {
  it("serves JSON with definitions of the served kinds, and their ETag", async () => {
    const answer = await get("/openapi/v2", { accept: "application/json" });
    expect(answer.contentType).toBe("application/json");
    expect(answer.header("etag")).toMatch(/^"[0-9A-F]{128}"$/);
    const doc = answer.json();
    expect(doc.swagger).toBe("2.0");
    for (const kind of ["Namespace", "Secret", "ReplicationController", "Pod", "Service", "ServiceAccount", "Event"]) {
      expect(doc.definitions[`io.k8s.api.core.v1.${kind}`]["x-kubernetes-group-version-kind"], kind).toEqual([{ group: "", kind, version: "v1" }]);
    }
    expect(doc.definitions["io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"]).toBeDefined();
    expect(doc.paths["/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"].get.responses["200"].schema).toEqual({ $ref: "#/definitions/io.k8s.api.autoscaling.v1.Scale" });
  });

  it("serves protobuf to the media type client-go asks for, and 406 to one it cannot write", async () => {
    const answer = await get("/openapi/v2", { accept: v2Protobuf });
    expect(answer.contentType).toBe("application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    // gnostic's Document: field 1 (swagger) is the first on the wire.
    expect([...answer.bytes.subarray(0, 5)]).toEqual([0x0a, 0x03, ...Buffer.from("2.0")]);
    expect((await get("/openapi/v2", { accept: "text/html" })).status).toBe(406);
  });
});

describe("server-side field validation", () => {
  const withUnknownFields = (name: string) => {
    const rc = aReplicationController({ name }) as any;
    rc.metadata.bogus = 1;
    rc.spec.foo = "x";
    rc.spec.template.spec.containers[0].zzz = true;
    rc.top = 1;
    return rc;
  };

  it("refuses unknown fields with fieldValidation=Strict, naming each in document order", async () => {
    const answer = await raw(cluster.kubeConfig(), "POST", `/api/v1/namespaces/${ns}/replicationcontrollers?fieldValidation=Strict`, withUnknownFields("strict"));
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({
      reason: "BadRequest",
      message:
        'ReplicationController in version "v1" cannot be handled as a ReplicationController: strict decoding error: unknown field "metadata.bogus", unknown field "spec.template.spec.containers[0].zzz", unknown field "spec.foo", unknown field "top"',
    });
  });

  it("drops unknown fields by default", async () => {
    const answer = await raw(cluster.kubeConfig(), "POST", `/api/v1/namespaces/${ns}/replicationcontrollers`, withUnknownFields("lenient"));
    expect(answer.status).toBe(201);
    const stored = answer.json();
    expect(stored.top).toBeUndefined();
    expect(stored.metadata.bogus).toBeUndefined();
    expect(stored.spec.foo).toBeUndefined();
    expect(stored.spec.template.spec.containers[0].zzz).toBeUndefined();
    expect(stored.spec.template.spec.containers[0].name).toBe("main");
  });

  it("refuses unknown fields of an update and of a scale", async () => {
    const created = (await raw(cluster.kubeConfig(), "POST", `/api/v1/namespaces/${ns}/replicationcontrollers`, aReplicationController({ name: "updated" }))).json();
    const update = await raw(cluster.kubeConfig(), "PUT", `/api/v1/namespaces/${ns}/replicationcontrollers/updated?fieldValidation=Strict`, { ...created, spec: { zz: 1, ...created.spec }, aa: 2 });
    expect(update.json().message).toBe('ReplicationController in version "v1" cannot be handled as a ReplicationController: strict decoding error: unknown field "spec.zz", unknown field "aa"');
    const scale = await raw(cluster.kubeConfig(), "PUT", `/api/v1/namespaces/${ns}/replicationcontrollers/updated/scale?fieldValidation=Strict`, {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name: "updated", namespace: ns },
      spec: { replicas: 2, x: 1 },
    });
    expect(scale.status).toBe(400);
    expect(scale.json().message).toBe('Scale in version "v1" cannot be handled as a Scale: strict decoding error: unknown field "spec.x"');
  });

  it("refuses unknown fields of a strategic merge patch, quoting the patch as Go prints it, with keys in sorted order", async () => {
    await raw(cluster.kubeConfig(), "POST", `/api/v1/namespaces/${ns}/replicationcontrollers`, aReplicationController({ name: "patched" }));
    const patch = { metadata: { annotations: { a: 'x"y\n\u0001é' } }, spec: { bogus: 1.5, big: 12345678, f: 1234567.5, n: null, t: true, l: [1, "a", { b: 2 }], e: {}, ea: [] } };
    const path = `/api/v1/namespaces/${ns}/replicationcontrollers/patched`;
    const answer = await raw(cluster.kubeConfig(), "PATCH", `${path}?fieldValidation=Strict`, patch, { "content-type": "application/strategic-merge-patch+json" });
    const message =
      'Invalid value: "map[metadata:map[annotations:map[a:x\\\"y\\n\\x01é]] spec:map[big:12345678 bogus:1.5 e:map[] ea:[] f:1.2345675e+06 l:[1 a map[b:2]] n:<nil> t:true]]": strict decoding error: unknown field "spec.big", unknown field "spec.bogus", unknown field "spec.e", unknown field "spec.ea", unknown field "spec.f", unknown field "spec.l", unknown field "spec.t"';
    expect(answer.status).toBe(422);
    expect(answer.json()).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: ` "" is invalid: patch: ${message}`,
      reason: "Invalid",
      details: { causes: [{ reason: "FieldValueInvalid", message, field: "patch" }] },
      code: 422,
    });
    const scale = await raw(cluster.kubeConfig(), "PATCH", `${path}/scale?fieldValidation=Strict`, { spec: { x: 1 } }, { "content-type": "application/strategic-merge-patch+json" });
    expect(scale.json().message).toBe(' "" is invalid: patch: Invalid value: "map[spec:map[x:1]]": strict decoding error: unknown field "spec.x"');
    const lenient = await raw(cluster.kubeConfig(), "PATCH", path, { spec: { bogus: 1, replicas: 0 } }, { "content-type": "application/merge-patch+json" });
    expect(lenient.status).toBe(200);
    expect(lenient.json().spec).not.toHaveProperty("bogus");
    expect(lenient.json().spec.replicas).toBe(0);
  });

  it("refuses a fieldValidation it does not know", async () => {
    const answer = await raw(cluster.kubeConfig(), "POST", `/api/v1/namespaces/${ns}/replicationcontrollers?fieldValidation=Nope`, aReplicationController({ name: "nope" }));
    expect(answer.status).toBe(422);
    expect(answer.json()).toMatchObject({
      reason: "Invalid",
      message: 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Nope": supported values: "", "Ignore", "Strict", "Warn"',
      details: { group: "meta.k8s.io", kind: "CreateOptions", causes: [{ reason: "FieldValueNotSupported", field: "fieldValidation" }] },
    });
    const patch = await raw(cluster.kubeConfig(), "PATCH", `/api/v1/namespaces/${ns}/replicationcontrollers/nope?fieldValidation=Nope`, {}, { "content-type": "application/merge-patch+json" });
    expect(patch.json().message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Nope": supported values: "", "Ignore", "Strict", "Warn"');
  });
});

const kubectl = kubectlBinary();

describe("kubectl v1.36.3", () => {
  const run = promisify(execFile);
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "kubedriver-kubectl-cache-"));
  });
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  /** kubectl's stdout, stderr and exit code; a fresh discovery cache so no earlier server's documents are used. */
  async function kubectlRun(args: string[], stdin?: string): Promise<{ stdout: string; stderr: string; code: number }> {
    const child = run(kubectl!, ["--kubeconfig", cluster.kubeconfigPath, "--cache-dir", cacheDir, "-n", ns, ...args], { timeout: 60_000 });
    if (stdin !== undefined) child.child.stdin!.end(stdin);
    try {
      const { stdout, stderr } = await child;
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout: string; stderr: string; code: number };
      return { stdout: e.stdout, stderr: e.stderr, code: e.code };
    }
  }

  const manifest = (name: string, extra = "") => `apiVersion: v1
kind: ReplicationController
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: 0${extra}
  selector: {app: ${name}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: main, image: registry.example.com/web:1.0}]}
`;
  const absent = "(needs the v1.36.3 kubectl that test/cluster/build.sh builds)";

  it.skipIf(!kubectl)(`creates from a manifest with validation on ${kubectl ? "" : absent}`, async () => {
    const answer = await kubectlRun(["create", "-f", "-"], manifest("validated"));
    expect(answer.stderr).toBe("");
    expect(answer.stdout).toBe("replicationcontroller/validated created\n");
  });

  it.skipIf(!kubectl)(`refuses to apply a manifest with an unknown field, as the server's strict validation words it ${kubectl ? "" : absent}`, async () => {
    const answer = await kubectlRun(["apply", "-f", "-"], manifest("unknown-field", "\n  bogus: true"));
    expect(answer.code).toBe(1);
    expect(answer.stderr).toBe(
      'Error from server (BadRequest): error when creating "STDIN": ReplicationController in version "v1" cannot be handled as a ReplicationController: strict decoding error: unknown field "spec.bogus"\n',
    );
  });

  it.skipIf(!kubectl)(`refuses to apply an unknown field to an existing object, quoting the patch it computed ${kubectl ? "" : absent}`, async () => {
    expect((await kubectlRun(["apply", "-f", "-"], manifest("applied"))).code).toBe(0);
    const answer = await kubectlRun(["apply", "-f", "-"], manifest("applied", "\n  bogus: true"));
    expect(answer.code).toBe(1);
    const lastApplied = `{"apiVersion":"v1","kind":"ReplicationController","metadata":{"annotations":{},"labels":{"app":"applied"},"name":"applied","namespace":"${ns}"},"spec":{"bogus":true,"replicas":0,"selector":{"app":"applied"},"template":{"metadata":{"labels":{"app":"applied"}},"spec":{"containers":[{"image":"registry.example.com/web:1.0","name":"main"}]}}}}`;
    expect(answer.stderr).toBe(
      `The request is invalid: patch: Invalid value: "map[metadata:map[annotations:map[kubectl.kubernetes.io/last-applied-configuration:${lastApplied.replace(/"/g, '\\"')}\\n]] spec:map[bogus:true]]": strict decoding error: unknown field "spec.bogus"\n`,
    );
  });

  it.skipIf(!kubectl)(`explains a field from the v3 and the v2 documents ${kubectl ? "" : absent}`, async () => {
    const v3Explain = await kubectlRun(["explain", "replicationcontroller.spec"]);
    expect(v3Explain.stdout).toContain("FIELD: spec <ReplicationControllerSpec>");
    expect(v3Explain.stdout).toMatch(/replicas\t<integer>\n +Replicas is the number of desired replicas/);
    const v2Explain = await kubectlRun(["explain", "rc.spec.replicas", "--output=plaintext-openapiv2"]);
    expect(v2Explain.stdout).toContain("FIELD:    replicas <integer>");
    expect(v2Explain.stdout).toContain("Replicas is the number of desired replicas.");
  });
});
