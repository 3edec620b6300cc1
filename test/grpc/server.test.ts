import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, loadPackageDefinition, status as Code, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { KubeConfig } from "@kubernetes/client-node";
import { concat, NEVER, of } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Kubedriver } from "../../src/app.js";
import { CallTracker, serverStream, unary } from "../../src/grpc/calls.js";
import type { RunningGrpcServer } from "../../src/grpc/server.js";
import { KubeClient } from "../../src/kube/client.js";
import { Logger } from "../../src/observability/logger.js";
import { AccountsService } from "../../gen/kubedriver/v1/accounts.js";
import { HealthService as NamespaceHealthService, type WatchNamespacesResponse } from "../../gen/kubedriver/v1/health.js";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health.js";
import { serveAlone } from "../support/grpc-server.js";
import { call, clientsFor, detailsOf, grpcError } from "../support/grpc.js";
import { startKubedriverFrom, type KubedriverOn } from "../support/kubedriver.js";
import { tempDir, writeKubeconfig } from "../support/kubeconfig.js";
import { retryDelayMs } from "../support/overload.js";

const tmp = tempDir();
const logLines: Record<string, unknown>[] = [];
const log = new Logger({ write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
let kd: KubedriverOn;
let app: Kubedriver;
let clients: KubedriverOn["clients"];

beforeAll(async () => {
  const kubeconfig = writeKubeconfig(path.join(tmp.dir, "kubeconfig"), {
    clusters: [{ name: "c1", server: "https://10.0.0.1:6443" }],
    users: [{ name: "u1" }],
    contexts: [{ name: "ctx1", cluster: "c1", user: "u1", namespace: "web" }],
  });
  kd = await startKubedriverFrom(
    `
server: {listen: "127.0.0.1:0"}
kubernetes:
  accounts:
    - {name: prod, kubeconfigFile: ${kubeconfig}, dockerRegistries: [{accountName: hub}]}
    - {name: dev, kubeconfigFile: ${kubeconfig}, namespaces: [a, b], dockerRegistries: [{accountName: hub, namespaces: [a]}]}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: pw-never-shown}]
`,
    log,
  );
  ({ app, clients } = kd);
});

afterAll(async () => {
  await kd.close();
  tmp.cleanup();
});

describe("the gRPC server", () => {
  it("lists every service through server reflection, the standard health service included", async () => {
    const reflectionProto = fileURLToPath(
      new URL("../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto", import.meta.url),
    );
    const pkg = loadPackageDefinition(loadSync(reflectionProto)) as any;
    const client = new pkg.grpc.reflection.v1.ServerReflection(app.grpc.address, credentials.createInsecure());
    const services = await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on("data", (res: any) => {
        resolve(res.listServicesResponse.service.map((s: { name: string }) => s.name));
        stream.end();
      });
      stream.on("error", reject);
      stream.write({ listServices: "" });
    });
    client.close();
    expect(services).toEqual(
      expect.arrayContaining([
        "kubedriver.v1.Accounts",
        "kubedriver.v1.ServerGroups",
        "kubedriver.v1.Health",
        "grpc.health.v1.Health",
      ]),
    );
  });

  it("answers SERVING on grpc.health.v1 for the server and each service", async () => {
    for (const service of ["", "kubedriver.v1.Accounts", "kubedriver.v1.ServerGroups"]) {
      const res = await call(clients.grpcHealth.check, clients.grpcHealth, { service });
      expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
  });

  it("lists accounts resolved from their kubeconfig, without any secret", async () => {
    const res = await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 0, pageToken: "" });
    expect(res.accounts.map((a) => a.name)).toEqual(["dev", "prod"]);
    expect(res.accounts[1]).toMatchObject({
      context: "ctx1",
      cluster: "c1",
      user: "u1",
      server: "https://10.0.0.1:6443",
      namespaces: ["web"],
      dockerRegistries: [{ accountName: "hub", address: "https://index.docker.io", namespaces: ["web"], secretName: "hub" }],
    });
    expect(JSON.stringify(res)).not.toContain("pw-never-shown");
  });

  it("pages through accounts with an opaque token", async () => {
    const first = await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 1, pageToken: "" });
    const second = await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 1, pageToken: first.nextPageToken });
    expect([...first.accounts, ...second.accounts].map((a) => a.name)).toEqual(["dev", "prod"]);
    expect(second.nextPageToken).toBe("");
    const err = await grpcError(call(clients.accounts.listAccounts, clients.accounts, { pageSize: 1, pageToken: "garbage!" }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)?.fieldViolations.map((v) => v.field)).toEqual(["page_token"]);
  });

  it("answers NOT_FOUND with details, not INTERNAL, for an unknown account", async () => {
    const err = await grpcError(call(clients.accounts.getAccount, clients.accounts, { account: "nope" }));
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(err.details).toContain('account "nope"');
    const details = detailsOf(err)!;
    expect(details.status.code).toBe(Code.NOT_FOUND);
    expect(details.resourceInfo).toMatchObject({ resourceType: "account", resourceName: "nope" });
    expect(details.errorInfo).toMatchObject({ reason: "ACCOUNT_NOT_FOUND", domain: "kubedriver.io" });
  });

  it("answers NOT_FOUND for an unknown account on every service", async () => {
    const req = { account: "nope", namespace: "web", name: "app-v000", consistency: 0 };
    const err = await grpcError(call(clients.serverGroups.getServerGroup, clients.serverGroups, req));
    expect(err.code).toBe(Code.NOT_FOUND);
    const check = await grpcError(
      call(clients.health.checkNamespaces, clients.health, { accounts: ["nope"], namespaces: [], fresh: false }),
    );
    expect(check.code).toBe(Code.NOT_FOUND);
  });

  it("answers INVALID_ARGUMENT with a field violation for a missing account name", async () => {
    const err = await grpcError(call(clients.accounts.getAccount, clients.accounts, { account: "" }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)?.fieldViolations).toEqual([expect.objectContaining({ field: "account", description: "is required" })]);
  });

  it("logs one structured line per call with method, code and duration", async () => {
    logLines.length = 0;
    await grpcError(call(clients.accounts.getAccount, clients.accounts, { account: "ghost" }));
    const rpcLines = logLines.filter((l) => l.msg === "rpc");
    expect(rpcLines).toEqual([
      expect.objectContaining({ method: "GetAccount", code: "NOT_FOUND", durationMs: expect.any(Number), level: "info" }),
    ]);
  });
});

describe("handler adapters", () => {
  function slowServer(handler: () => Promise<unknown>) {
    const tracker = new CallTracker();
    const deps = { log: new Logger({ write: () => {} }), tracker };
    return serveAlone(
      [
        {
          name: "kubedriver.v1.Accounts",
          definition: AccountsService,
          implementation: {
            listAccounts: unary("ListAccounts", deps, async () => {
              await handler();
              return { accounts: [], nextPageToken: "done" };
            }),
            getAccount: unary("GetAccount", deps, async () => {
              throw Object.assign(new Error("HTTP-Code: 404 Headers: secret-header"), { code: 404 });
            }),
            syncAccount: unary("SyncAccount", deps, async () => ({ result: undefined })),
          },
        },
        {
          name: "kubedriver.v1.Health",
          definition: NamespaceHealthService,
          implementation: {
            checkNamespaces: unary("CheckNamespaces", deps, async () => ({ round: undefined })),
            watchNamespaces: serverStream("WatchNamespaces", deps, () => {
              const first: WatchNamespacesResponse = { round: undefined, skippedRounds: 0 };
              return concat(of(first), NEVER);
            }),
          },
        },
      ],
      { log: deps.log, tracker },
    );
  }

  it("turns an unexpected error into INTERNAL with a correlation id, even one carrying a numeric code", async () => {
    const server = await slowServer(async () => {});
    const c = clientsFor(server.address);
    const err = await grpcError(call(c.accounts.getAccount, c.accounts, { account: "x" }));
    expect(err.code).toBe(Code.INTERNAL);
    expect(err.details).toMatch(/^internal error \(correlation id [0-9a-f-]{36}\)$/);
    expect(err.details).not.toContain("secret-header");
    c.close();
    await server.shutdown(100);
  });

  it("lets an in-flight unary call finish during graceful shutdown", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inHandler = new Promise<void>((r) => (started = r));
    const server = await slowServer(async () => {
      started();
      await gate;
    });
    const c = clientsFor(server.address);
    const pending = call(c.accounts.listAccounts, c.accounts, { pageSize: 0, pageToken: "" });
    await inHandler;
    const stopped = server.shutdown(5_000);
    setTimeout(release, 100);
    await expect(pending).resolves.toMatchObject({ nextPageToken: "done" });
    await stopped;
    c.close();
  });

  it("refuses new calls once shutdown has begun", async () => {
    const server = await slowServer(async () => {});
    const address = server.address;
    await server.shutdown(100);
    const c = clientsFor(address);
    const err = await grpcError(
      call(c.accounts.listAccounts, c.accounts, { pageSize: 0, pageToken: "" }, { deadline: new Date(Date.now() + 500) }),
    );
    expect([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED]).toContain(err.code);
    c.close();
  });

  it("ends open streams with UNAVAILABLE when the server shuts down", async () => {
    const server = await slowServer(async () => {});
    const c = clientsFor(server.address);
    const stream = c.health.watchNamespaces({ accounts: [], namespaces: [] });
    const received: unknown[] = [];
    const ended = new Promise<ServiceError>((resolve) => stream.on("error", resolve));
    stream.on("data", (m) => received.push(m));
    await new Promise<void>((r) => stream.once("data", () => r()));
    await server.shutdown(1_000);
    const err = await ended;
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.details).toContain("shutting down");
    expect(received).toHaveLength(1);
    c.close();
  });
});

describe("admission and cancellation", () => {
  const lines: Record<string, unknown>[] = [];
  const rpcLines = (method: string) => lines.filter((l) => l.msg === "rpc" && l.method === method);
  let gate: { open: () => void; opened: Promise<void> };
  const newGate = () => {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    gate = { open, opened };
  };
  let hanging: http.Server;
  let tracker: CallTracker;
  let server: RunningGrpcServer;
  let c: ReturnType<typeof clientsFor>;

  beforeAll(async () => {
    // An API server that accepts requests and never answers, so a Kubernetes call is in flight when the caller gives up.
    hanging = http.createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const kube = new KubeClient("prod", kc);
    tracker = new CallTracker({ maxConcurrentCalls: 1, maxQueuedCalls: 1, retryDelayMs: 250 });
    const deps = { log: new Logger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }), tracker };
    server = await serveAlone(
      {
        name: "kubedriver.v1.Accounts",
        definition: AccountsService,
        implementation: {
          listAccounts: unary("ListAccounts", deps, async () => {
            await gate.opened;
            return { accounts: [], nextPageToken: "done" };
          }),
          getAccount: unary("GetAccount", deps, async (_req, ctx) => {
            await kube.call({ verb: "get", kind: "namespace", name: "web" }, (o) => kube.core.readNamespace({ name: "web" }, o), {
              signal: ctx.signal,
            });
            return { account: undefined };
          }),
          syncAccount: unary("SyncAccount", deps, async () => ({ result: undefined })),
        },
      },
      { log: deps.log, tracker },
    );
    c = clientsFor(server.address);
  });

  afterAll(async () => {
    c.close();
    await server.shutdown(100);
    hanging.closeAllConnections();
    hanging.close();
  });

  const list = (deadlineMs?: number) =>
    call(c.accounts.listAccounts, c.accounts, { pageSize: 0, pageToken: "" }, { deadline: deadlineMs ? new Date(Date.now() + deadlineMs) : undefined });
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 5));
  };

  it("lets a call past the bound wait its turn, and refuses one past the queue with RESOURCE_EXHAUSTED and RetryInfo", async () => {
    newGate();
    const first = list();
    await until(() => tracker.admittedCalls === 1);
    const second = list();
    await until(() => tracker.waitingCalls === 1);
    const refused = await grpcError(list());
    expect(refused.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/^ListAccounts: kubedriver is at capacity \(1 calls in flight, 1 waiting\)/);
    expect(retryDelayMs(refused)).toBe(250);
    expect(detailsOf(refused)?.errorInfo?.reason).toBe("OVERLOADED");
    gate.open();
    await expect(Promise.all([first, second])).resolves.toEqual([
      expect.objectContaining({ nextPageToken: "done" }),
      expect.objectContaining({ nextPageToken: "done" }),
    ]);
  });

  it("answers DEADLINE_EXCEEDED to a call whose deadline passes while it waits for a turn", async () => {
    newGate();
    const first = list();
    await until(() => tracker.admittedCalls === 1);
    lines.length = 0;
    const err = await grpcError(list(200));
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
    // The queue lets go of it at the deadline, not when the first call ends.
    await until(() => tracker.waitingCalls === 0);
    expect(tracker.admittedCalls).toBe(1);
    gate.open();
    await first;
    await until(() => rpcLines("ListAccounts").length === 2);
    expect(rpcLines("ListAccounts").map((l) => l.code)).toEqual(["DEADLINE_EXCEEDED", "OK"]);
  });

  it("logs a caller's own cancel as CANCELLED, and a passed deadline as DEADLINE_EXCEEDED, with a Kubernetes call in flight", async () => {
    lines.length = 0;
    const cancelled = c.accounts.getAccount({ account: "prod" }, () => {});
    await new Promise((r) => setTimeout(r, 200));
    cancelled.cancel();
    await until(() => rpcLines("GetAccount").length === 1);
    const timedOut = await grpcError(
      call(c.accounts.getAccount, c.accounts, { account: "prod" }, { deadline: new Date(Date.now() + 300) }),
    );
    expect(timedOut.code).toBe(Code.DEADLINE_EXCEEDED);
    await until(() => rpcLines("GetAccount").length === 2);
    expect(rpcLines("GetAccount").map((l) => l.code)).toEqual(["CANCELLED", "DEADLINE_EXCEEDED"]);
    expect(JSON.stringify(rpcLines("GetAccount")[0])).not.toContain("did not answer in time");
  });
});

describe("admission per caller", () => {
  const contextOf = (who: { caller?: string; peer: string }) => ({
    method: "ListServerGroups",
    signal: new AbortController().signal,
    metadata: undefined as never,
    log: undefined as never,
    caller: who.caller ? { name: who.caller, groups: [] } : undefined,
    peer: who.peer,
    deadline: Number.POSITIVE_INFINITY,
  });

  it("queues and refuses only the flooding caller's calls; another caller is served at once", async () => {
    const tracker = new CallTracker({ maxConcurrentCalls: 2, maxQueuedCalls: 1 });
    const flood = contextOf({ caller: "flooder", peer: "10.0.0.1" });
    await tracker.admit(flood);
    await tracker.admit(flood);
    const queued = tracker.admit(flood);
    await expect(tracker.admit(flood)).rejects.toMatchObject({ kind: "ResourceExhausted", reason: "OVERLOADED" });
    // Same address, another caller; and an anonymous caller at another address.
    await expect(tracker.admit(contextOf({ caller: "deployer", peer: "10.0.0.1" }))).resolves.toBeTypeOf("function");
    await expect(tracker.admit(contextOf({ peer: "10.0.0.2" }))).resolves.toBeTypeOf("function");
    expect(tracker.waitingCalls).toBe(1);
    void queued;
  });
});
