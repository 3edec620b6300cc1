import path from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, loadPackageDefinition, status as Code, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { concat, NEVER, of } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { CallTracker, serverStream, unary } from "../../src/grpc/calls.js";
import { startGrpcServer } from "../../src/grpc/server.js";
import { Logger } from "../../src/observability/logger.js";
import { AccountsService } from "../../gen/kubedriver/v1/accounts.js";
import { HealthService as NamespaceHealthService, type WatchNamespacesResponse } from "../../gen/kubedriver/v1/health.js";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health.js";
import { call, clientsFor, detailsOf, grpcError } from "../support/grpc.js";
import { tempDir, writeKubeconfig } from "../support/kubeconfig.js";

const tmp = tempDir();
const logLines: Record<string, unknown>[] = [];
const log = new Logger({ write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
let app: Kubedriver;
let clients: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  const kubeconfig = writeKubeconfig(path.join(tmp.dir, "kubeconfig"), {
    clusters: [{ name: "c1", server: "https://10.0.0.1:6443" }],
    users: [{ name: "u1" }],
    contexts: [{ name: "ctx1", cluster: "c1", user: "u1", namespace: "web" }],
  });
  const config = parseConfig(`
server: {listen: "127.0.0.1:0"}
kubernetes:
  accounts:
    - {name: prod, kubeconfigFile: ${kubeconfig}, dockerRegistries: [{accountName: hub}]}
    - {name: dev, kubeconfigFile: ${kubeconfig}, namespaces: [a, b], dockerRegistries: [{accountName: hub, namespaces: [a]}]}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: pw-never-shown}]
`);
  app = await startKubedriver(config, log);
  clients = clientsFor(app.grpc.address);
});

afterAll(async () => {
  clients.close();
  await app.stop();
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
    const req = { account: "nope", namespace: "web", name: "app-v000" } as any;
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
    return startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      log: deps.log,
      tracker,
      services: [
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
    });
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
