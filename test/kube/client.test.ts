import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as errors from "../../src/common/errors.js";
import { KubeClient } from "../../src/kube/client.js";
import { followPodLog, readPodLog } from "../../src/kube/pod-logs.js";

// A bare HTTP server answering like an API server would, so that the error
// conversion is checked on what client-node really throws.
const responses = new Map<string, { status: number; body: unknown } | "hang">();
/** Requests per path, and how many more of them answer 503 before the normal answer. */
const hits = new Map<string, number>();
/** The User-Agent of each path's latest request. */
const agents = new Map<string, string | undefined>();
const failFirst = new Map<string, number>();
let server: http.Server;
let url: string;
let connections = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url?.split("?")[0] ?? "";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    agents.set(path, req.headers["user-agent"]);
    const failures = failFirst.get(path) ?? 0;
    if (failures > 0) {
      failFirst.set(path, failures - 1);
      res.writeHead(503, { "content-type": "application/json" });
      return res.end(JSON.stringify(status(503, "ServiceUnavailable", "busy").body));
    }
    const answer = responses.get(path);
    if (answer === "hang") return;
    res.writeHead(answer?.status ?? 200, { "content-type": "application/json", "x-secret-header": "leak-me" });
    res.end(JSON.stringify(answer?.body ?? { kind: "Namespace", metadata: { name: "ok" } }));
  });
  server.on("connection", () => connections++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function clientFor(server: string): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "a-token" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient("prod", kc, { requestTimeoutMs: 2_000, backoffMs: 5, maxBackoffMs: 20 });
}

function status(code: number, reason: string, message: string, causes?: { field: string; message: string }[]) {
  return { status: code, body: { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message, details: { causes } } };
}

async function readNamespace(name: string, opts = {}) {
  const client = clientFor(url);
  return client.call({ verb: "get", kind: "namespace", name }, (o) => client.core.readNamespace({ name }, o), opts);
}

describe("Kubernetes calls through KubeClient", () => {
  it("returns the object on success", async () => {
    await expect(readNamespace("ok")).resolves.toMatchObject({ metadata: { name: "ok" } });
  });

  const cases: [string, ReturnType<typeof status>, (e: unknown) => boolean][] = [
    ["404 NotFound", status(404, "NotFound", 'namespaces "a" not found'), errors.isNotFound],
    ["409 AlreadyExists", status(409, "AlreadyExists", "exists"), errors.isAlreadyExists],
    ["409 Conflict", status(409, "Conflict", "the object has been modified"), errors.isConflict],
    ["403 Forbidden", status(403, "Forbidden", 'User "x" cannot get'), errors.isPermissionDenied],
    ["422 Invalid", status(422, "Invalid", "bad", [{ field: "metadata.name", message: "Invalid value" }]), errors.isInvalidArgument],
    ["500", status(500, "InternalError", "etcd down"), errors.isUnavailable],
    ["503", status(503, "ServiceUnavailable", "busy"), errors.isUnavailable],
    ["504 Timeout", status(504, "Timeout", "timed out"), errors.isDeadlineExceeded],
  ];
  for (const [name, answer, predicate] of cases) {
    it(`turns ${name} into the matching core error naming the account and object, without response headers`, async () => {
      responses.set(`/api/v1/namespaces/${encodeURIComponent(name)}`, answer);
      const err = await readNamespace(name).catch((e: unknown) => e);
      expect(predicate(err)).toBe(true);
      expect((err as Error).message).toContain('account "prod"');
      expect((err as Error).message).toContain(`namespace "${name}"`);
      expect((err as Error).message).not.toContain("leak-me");
    });
  }

  it("keeps the API server's field causes for an Invalid answer", async () => {
    responses.set("/api/v1/namespaces/invalid", status(422, "Invalid", "bad", [{ field: "metadata.name", message: "Invalid value" }]));
    const err = (await readNamespace("invalid").catch((e: unknown) => e)) as errors.InvalidArgumentError;
    expect(err.violations).toEqual([{ field: "metadata.name", description: "Invalid value" }]);
  });

  it("gives up with DEADLINE_EXCEEDED when the API server does not answer in time", async () => {
    responses.set("/api/v1/namespaces/slow", "hang");
    const err = await readNamespace("slow", { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(errors.isDeadlineExceeded(err)).toBe(true);
  });

  it("stops when the caller's signal aborts", async () => {
    responses.set("/api/v1/namespaces/abandoned", "hang");
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    const err = await readNamespace("abandoned", { signal: caller.signal }).catch((e: unknown) => e);
    expect(errors.isDeadlineExceeded(err)).toBe(true);
  });

  it("reports a refused connection as UNAVAILABLE naming the account", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const client = clientFor(`http://127.0.0.1:${port}`);
    const err = await client
      .call({ verb: "get", kind: "namespace", name: "x" }, (o) => client.core.readNamespace({ name: "x" }, o))
      .catch((e: unknown) => e);
    expect(errors.isUnavailable(err)).toBe(true);
    expect((err as Error).message).toMatch(/account "prod".*unreachable \(ECONNREFUSED\)/);
  });

  it("retries a read the API server could not serve, with backoff, and succeeds", async () => {
    failFirst.set("/api/v1/namespaces/flaky", 2);
    await expect(readNamespace("flaky")).resolves.toMatchObject({ metadata: { name: "ok" } });
    expect(hits.get("/api/v1/namespaces/flaky")).toBe(3);
  });

  it("gives up after the configured retries and reports the last failure", async () => {
    failFirst.set("/api/v1/namespaces/down", 100);
    const err = await readNamespace("down", { retries: 2 }).catch((e: unknown) => e);
    expect(errors.isUnavailable(err)).toBe(true);
    expect(hits.get("/api/v1/namespaces/down")).toBe(3);
  });

  it("never repeats a mutation: a lost create may have been applied", async () => {
    failFirst.set("/api/v1/namespaces", 1);
    const client = clientFor(url);
    const err = await client
      .call({ verb: "create", kind: "namespace", name: "once" }, (o) => client.core.createNamespace({ body: { metadata: { name: "once" } } }, o))
      .catch((e: unknown) => e);
    expect(errors.isUnavailable(err)).toBe(true);
    expect(hits.get("/api/v1/namespaces")).toBe(1);
  });

  it("does not retry past the call's deadline", async () => {
    failFirst.set("/api/v1/namespaces/late", 1_000);
    const client = new KubeClient("prod", clientFor(url).kubeConfig, { backoffMs: 400, maxBackoffMs: 400, readRetries: 1_000 });
    const started = Date.now();
    const err = await client
      .call({ verb: "get", kind: "namespace", name: "late" }, (o) => client.core.readNamespace({ name: "late" }, o), { timeoutMs: 300 })
      .catch((e: unknown) => e);
    // The last attempt's failure, or the deadline cutting it short on a loaded machine: either way, no retry after it.
    expect(errors.isUnavailable(err) || errors.isDeadlineExceeded(err)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("reuses its connection to the API server from call to call", async () => {
    const client = clientFor(url);
    const before = connections;
    for (let i = 0; i < 5; i++) {
      await client.call({ verb: "get", kind: "namespace", name: "ok" }, (o) => client.core.readNamespace({ name: "ok" }, o));
    }
    expect(connections - before).toBe(1);
  });
});

describe("the client's name", () => {
  // kube-apiserver names a write's field manager after the User-Agent's product, and audit logs the client by it.
  it("is kubedriver on every request it makes: calls, watches, logs read and followed", async () => {
    const client = clientFor(url);
    await readNamespace("named");
    await client.watch({ verb: "watch", kind: "pod", namespace: "web" }, "/api/v1/namespaces/web/pods", {}, () => {}, new AbortController().signal);
    await readPodLog(client, "web", "web-1", { container: "web" });
    await followPodLog(client, "web", "web-2", { container: "web" }, () => {}, new AbortController().signal).catch(() => undefined);
    expect(Object.fromEntries(["/api/v1/namespaces/named", "/api/v1/namespaces/web/pods", "/api/v1/namespaces/web/pods/web-1/log", "/api/v1/namespaces/web/pods/web-2/log"].map((p) => [p, agents.get(p)]))).toEqual({
      "/api/v1/namespaces/named": "kubedriver",
      "/api/v1/namespaces/web/pods": "kubedriver",
      "/api/v1/namespaces/web/pods/web-1/log": "kubedriver",
      "/api/v1/namespaces/web/pods/web-2/log": "kubedriver",
    });
  });
});

describe("bounded concurrency toward the API server", () => {
  function boundedClient(maxConcurrentRequests: number) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: url, skipTLSVerify: true }],
      users: [{ name: "u", token: "a-token" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return new KubeClient("prod", kc, { requestTimeoutMs: 2_000, maxConcurrentRequests, maxConcurrentProbes: 1 });
  }
  const get = (client: KubeClient, name: string, opts = {}) =>
    client.call({ verb: "get", kind: "namespace", name }, (o) => client.core.readNamespace({ name }, o), opts);
  const arrived = (path: string, n: number) =>
    new Promise<void>((resolve) => {
      const check = setInterval(() => (hits.get(path) ?? 0) >= n && (clearInterval(check), resolve()), 5);
    });

  it("sends at most the bound at once; the rest wait in order, within their deadline, and are never sent", async () => {
    responses.set("/api/v1/namespaces/held", "hang");
    const client = boundedClient(2);
    const caller = new AbortController();
    const held = [get(client, "held", { signal: caller.signal }), get(client, "held", { signal: caller.signal })].map((p) => p.catch((e: unknown) => e));
    await arrived("/api/v1/namespaces/held", 2);
    const queued = await get(client, "never-sent", { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(errors.isDeadlineExceeded(queued)).toBe(true);
    expect((queued as Error).message).toMatch(/account "prod": get namespace "never-sent": not sent within the deadline; 2 requests .* in flight/);
    expect(hits.get("/api/v1/namespaces/never-sent")).toBeUndefined();
    caller.abort();
    await Promise.all(held);
    await expect(get(client, "ok")).resolves.toMatchObject({ metadata: { name: "ok" } });
  });

  it("answers CANCELLED, not DEADLINE_EXCEEDED, when the caller cancels, sent or still waiting", async () => {
    responses.set("/api/v1/namespaces/cancelled", "hang");
    const client = boundedClient(1);
    const caller = new AbortController();
    const sent = get(client, "cancelled", { signal: caller.signal }).catch((e: unknown) => e);
    const waiting = get(client, "cancelled", { signal: caller.signal }).catch((e: unknown) => e);
    await arrived("/api/v1/namespaces/cancelled", 1);
    caller.abort(new errors.CancelledError("ListServerGroups: cancelled by the caller"));
    for (const err of await Promise.all([sent, waiting])) {
      expect(errors.isCancelled(err)).toBe(true);
      expect((err as Error).message).toContain('account "prod": get namespace "cancelled"');
    }
  });

  it("never queues a health probe behind callers' requests", async () => {
    responses.set("/api/v1/namespaces/busy", "hang");
    const client = boundedClient(1);
    const caller = new AbortController();
    const busy = Array.from({ length: 5 }, () => get(client, "busy", { signal: caller.signal }).catch((e: unknown) => e));
    await arrived("/api/v1/namespaces/busy", 1);
    await expect(get(client, "ok", { lane: "probe", retries: 0, timeoutMs: 500 })).resolves.toMatchObject({ metadata: { name: "ok" } });
    caller.abort();
    await Promise.all(busy);
  });
});
