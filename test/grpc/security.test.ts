import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { credentials, Metadata, status as Code, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { Logger, SecretRegistry } from "../../src/observability/logger.js";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { makeTestPki, type TestPki } from "../support/certs.js";
import { bearer, call, clientsFor, detailsOf, grpcError } from "../support/grpc.js";
import { aCreateRequest } from "../support/server-groups.js";

// Transport security, caller identity and per-account permissions, through
// real TLS connections with real grpc-js clients.
const tokens = {
  writer: "writer-token-0123456789abcdef",
  reader: "reader-token-0123456789abcdef",
  outsider: "outsider-token-0123456789abc",
};
const registryPassword = "registry-password-s3cr3t";

let cluster: TestCluster;
let pki: TestPki;
let dir: string;
let tokensFile: string;
let openNs: string;
let guardedNs: string;
const lines: string[] = [];
const responses: unknown[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  [openNs, guardedNs] = await Promise.all([cluster.createNamespace("open"), cluster.createNamespace("guarded")]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubedriver-security-"));
  pki = makeTestPki(dir);
  tokensFile = path.join(dir, "tokens.yaml");
  fs.writeFileSync(
    tokensFile,
    `- {token: ${tokens.writer}, name: wendy, groups: [deployers]}
- {token: ${tokens.reader}, name: rita, groups: [viewers]}
- {token: ${tokens.outsider}, name: otto, groups: [elsewhere]}
`,
    { mode: 0o600 },
  );
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A kubedriver with TLS (mutual when `clientCa`), the tokens file, an open and a guarded account. */
async function startSecured(opts: { clientCa: boolean }): Promise<Kubedriver> {
  const secrets = new SecretRegistry();
  const log = new Logger({ level: "debug", secrets, write: (line) => lines.push(line) });
  return startKubedriver(
    parseConfig(`
server:
  listen: "127.0.0.1:0"
  healthListen: "127.0.0.1:0"
  tls: {certFile: ${pki.serverCert}, keyFile: ${pki.serverKey}${opts.clientCa ? `, clientCaFile: ${pki.caCert}` : ""}}
  auth: {tokensFile: ${tokensFile}}
kubernetes:
  healthCheckIntervalSeconds: 3600
  accounts:
    - {name: open, kubeconfigFile: ${cluster.kubeconfigPath}, namespaces: [${openNs}], dockerRegistries: [{accountName: hub}]}
    - name: guarded
      kubeconfigFile: ${cluster.kubeconfigPath}
      namespaces: [${guardedNs}]
      dockerRegistries: [{accountName: hub}]
      permissions: {READ: [viewers], WRITE: [deployers]}
dockerRegistry:
  accounts:
    - {name: hub, address: https://index.docker.io, username: u, password: ${registryPassword}}
`),
    log,
  );
}

function tlsClients(address: string, client?: { cert: string; key: string }) {
  const creds = credentials.createSsl(
    fs.readFileSync(pki.caCert),
    client && fs.readFileSync(client.key),
    client && fs.readFileSync(client.cert),
  );
  return clientsFor(address, creds);
}

/** Resolves with the code a call ended with (OK included), remembering responses for the secrets check. */
async function codeOf(p: Promise<unknown>): Promise<Code> {
  try {
    responses.push(await p);
    return Code.OK;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

function firstWatchMessage(clients: ReturnType<typeof clientsFor>, accounts: string[], metadata: Metadata): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const stream = clients.health.watchNamespaces({ accounts, namespaces: [] }, metadata);
    stream.on("data", (msg) => {
      resolve(msg);
      stream.cancel();
    });
    stream.on("error", (err: ServiceError) => (err.code === Code.CANCELLED ? undefined : reject(err)));
  });
}

describe("with TLS and bearer tokens", () => {
  let app: Kubedriver;
  let clients: ReturnType<typeof clientsFor>;
  let existing: string;

  beforeAll(async () => {
    app = await startSecured({ clientCa: false });
    clients = tlsClients(app.grpc.address);
    const sg = clients.serverGroups;
    const created = await call(sg.createServerGroup, sg, aCreateRequest({ account: "guarded", namespace: guardedNs }), { metadata: bearer(tokens.writer) });
    existing = created.serverGroup!.name;
  }, 60_000);

  afterAll(async () => {
    clients?.close();
    await app?.stop();
  });

  // Every RPC on the guarded account (or another), and the code an allowed caller gets.
  const rpcs = (account = "guarded") => {
    const { accounts: a, serverGroups: sg, health: h } = clients;
    const ref = { account, namespace: guardedNs, name: existing, requestId: "" };
    return [
      { rpc: "ListAccounts", needs: "READ", allowed: Code.OK, run: (md: Metadata) => call(a.listAccounts, a, { pageSize: 0, pageToken: "" }, { metadata: md }) },
      { rpc: "GetAccount", needs: "READ", allowed: Code.OK, run: (md: Metadata) => call(a.getAccount, a, { account }, { metadata: md }) },
      { rpc: "SyncAccount", needs: "WRITE", allowed: Code.OK, run: (md: Metadata) => call(a.syncAccount, a, { account }, { metadata: md }) },
      {
        rpc: "CreateServerGroup",
        needs: "WRITE",
        allowed: Code.OK,
        run: (md: Metadata) => call(sg.createServerGroup, sg, aCreateRequest({ account, namespace: guardedNs }), { metadata: md }),
      },
      {
        rpc: "CloneServerGroup",
        needs: "WRITE",
        allowed: Code.OK,
        run: (md: Metadata) =>
          call(sg.cloneServerGroup, sg, { account, namespace: guardedNs, source: existing, containers: undefined, loadBalancers: undefined, volumes: undefined, labels: undefined, annotations: undefined, nodeSelector: undefined, requestId: "" }, { metadata: md }),
      },
      { rpc: "GetServerGroup", needs: "READ", allowed: Code.OK, run: (md: Metadata) => call(sg.getServerGroup, sg, { ...ref, consistency: 0 }, { metadata: md }) },
      {
        rpc: "ListServerGroups",
        needs: "READ",
        allowed: Code.OK,
        run: (md: Metadata) => call(sg.listServerGroups, sg, { account, namespaces: [], application: "", cluster: "", pageSize: 0, pageToken: "" , consistency: 0}, { metadata: md }),
      },
      { rpc: "ResizeServerGroup", needs: "WRITE", allowed: Code.OK, run: (md: Metadata) => call(sg.resizeServerGroup, sg, { ...ref, targetSize: 1 }, { metadata: md }) },
      { rpc: "DisableServerGroup", needs: "WRITE", allowed: Code.OK, run: (md: Metadata) => call(sg.disableServerGroup, sg, ref, { metadata: md }) },
      { rpc: "EnableServerGroup", needs: "WRITE", allowed: Code.OK, run: (md: Metadata) => call(sg.enableServerGroup, sg, ref, { metadata: md }) },
      // A name that does not exist: NOT_FOUND shows the call got past the permission check without destroying the group others use.
      {
        rpc: "DestroyServerGroup",
        needs: "WRITE",
        allowed: Code.NOT_FOUND,
        run: (md: Metadata) => call(sg.destroyServerGroup, sg, { ...ref, name: "web-v999" }, { metadata: md }),
      },
      { rpc: "CheckNamespaces", needs: "READ", allowed: Code.OK, run: (md: Metadata) => call(h.checkNamespaces, h, { accounts: [account], namespaces: [], fresh: false }, { metadata: md }) },
      { rpc: "WatchNamespaces", needs: "READ", allowed: Code.OK, run: (md: Metadata) => firstWatchMessage(clients, [account], md) },
    ] as const;
  };

  it("answers every RPC by identity and permission", async () => {
    const got: Record<string, Record<string, string>> = {};
    const want: Record<string, Record<string, string>> = {};
    const identities = {
      "no identity": new Metadata(),
      "wrong token": bearer("not-a-token-anybody-was-given"),
      "READ only": bearer(tokens.reader),
      WRITE: bearer(tokens.writer),
    };
    for (const r of rpcs()) {
      got[r.rpc] = {};
      want[r.rpc] = {};
      for (const [who, md] of Object.entries(identities)) {
        got[r.rpc][who] = Code[await codeOf(r.run(md))];
        const mayRun = who === "WRITE" || (who === "READ only" && r.needs === "READ");
        want[r.rpc][who] = Code[who === "no identity" || who === "wrong token" ? Code.UNAUTHENTICATED : mayRun ? r.allowed : Code.PERMISSION_DENIED];
      }
    }
    expect(got).toEqual(want);
  }, 60_000);

  it("refuses an account that does not exist exactly as one the caller may not use, so names cannot be found by trying (AIP-211)", async () => {
    const answer = async (run: (md: Metadata) => Promise<unknown>, md: Metadata) => {
      const err = await grpcError(run(md));
      const details = detailsOf(err);
      return { code: Code[err.code], message: err.details, reason: details?.errorInfo?.reason, resource: details?.resourceInfo };
    };
    const unknown = rpcs("no-such-account");
    const compared: string[] = [];
    for (const [who, token] of [["no permission", tokens.outsider], ["READ only", tokens.reader]] as const) {
      for (const [i, r] of rpcs().entries()) {
        if (r.rpc === "ListAccounts" || (who === "READ only" && r.needs === "READ")) continue;
        const denied = await answer(r.run, bearer(token));
        const missing = await answer(unknown[i]!.run, bearer(token));
        expect(denied, `${r.rpc} by ${who}`).toMatchObject({ code: "PERMISSION_DENIED", reason: "ACCOUNT_PERMISSION_DENIED" });
        expect(missing, `${r.rpc} by ${who}`).toEqual({
          ...denied,
          message: denied.message.replace('"guarded"', '"no-such-account"'),
          resource: { ...denied.resource, resourceName: "no-such-account" },
        });
        compared.push(`${r.rpc} by ${who}`);
      }
    }
    expect(compared).toHaveLength(12 + 7);
  }, 60_000);

  it("names the account and the permission when it denies, and logs the caller", async () => {
    const err = await grpcError(
      call(clients.serverGroups.resizeServerGroup, clients.serverGroups, { account: "guarded", namespace: guardedNs, name: existing, targetSize: 3, requestId: "" }, { metadata: bearer(tokens.reader) }),
    );
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.details).toBe('caller "rita" lacks WRITE permission on account "guarded"');
    expect(detailsOf(err)?.errorInfo?.reason).toBe("ACCOUNT_PERMISSION_DENIED");
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.method === "ResizeServerGroup" && l.code === "PERMISSION_DENIED");
    expect(logged).toMatchObject({ caller: "rita" });
    const rc = await cluster.core.readNamespacedReplicationController({ name: existing, namespace: guardedNs });
    expect(rc.spec?.replicas).toBe(1);
  });

  it("shows a caller only the accounts it may read", async () => {
    const names = async (token: string) =>
      (await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 0, pageToken: "" }, { metadata: bearer(token) })).accounts.map((a) => a.name);
    expect(await names(tokens.reader)).toEqual(["guarded", "open"]);
    expect(await names(tokens.outsider)).toEqual(["open"]);

    const watched = (await firstWatchMessage(clients, [], bearer(tokens.outsider))) as { round: { probes: { account: string }[] } };
    expect(new Set(watched.round.probes.map((p) => p.account))).toEqual(new Set(["open"]));
    await eventually(() => expect(lines.map((l) => JSON.parse(l)).some((l) => l.method === "WatchNamespaces" && l.caller === "otto")).toBe(true));
    const checked = await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces: [], fresh: false }, { metadata: bearer(tokens.outsider) });
    expect(new Set(checked.round!.probes.map((p) => p.account))).toEqual(new Set(["open"]));

    const groups = await call(
      clients.serverGroups.listServerGroups,
      clients.serverGroups,
      { account: "", namespaces: [], application: "", cluster: "", pageSize: 0, pageToken: "" , consistency: 0},
      { metadata: bearer(tokens.outsider) },
    );
    expect(groups.serverGroups.map((g) => g.account)).not.toContain("guarded");
  });

  it("keeps grpc.health.v1 open to probes without identity", async () => {
    const res = await call(clients.grpcHealth.check, clients.grpcHealth, { service: "" });
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("serves only grpc.health.v1, in plaintext, on the health port kubelet probes", async () => {
    const probe = clientsFor(app.grpc.healthAddress!);
    try {
      const res = await call(probe.grpcHealth.check, probe.grpcHealth, { service: "kubedriver.v1.Accounts" });
      expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const err = await grpcError(call(probe.accounts.listAccounts, probe.accounts, { pageSize: 0, pageToken: "" }, { metadata: bearer(tokens.writer) }));
      expect(err.code).toBe(Code.UNIMPLEMENTED);
    } finally {
      probe.close();
    }
  });

  it("refuses a plaintext client", async () => {
    const plain = clientsFor(app.grpc.address);
    try {
      const err = await grpcError(call(plain.grpcHealth.check, plain.grpcHealth, { service: "" }, { deadline: new Date(Date.now() + 3000) }));
      expect([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED]).toContain(err.code);
    } finally {
      plain.close();
    }
  });

  it("picks up a changed tokens file without a restart", async () => {
    const rotated = "rotated-token-0123456789abcdef";
    const before = fs.readFileSync(tokensFile, "utf8");
    try {
      fs.writeFileSync(tokensFile, before.replace(tokens.reader, rotated));
      await eventually(
        async () => {
          const err = await grpcError(call(clients.accounts.getAccount, clients.accounts, { account: "guarded" }, { metadata: bearer(tokens.reader) }));
          expect(err.code).toBe(Code.UNAUTHENTICATED);
        },
        { timeoutMs: 10_000, intervalMs: 200 },
      );
      const res = await call(clients.accounts.getAccount, clients.accounts, { account: "guarded" }, { metadata: bearer(rotated) });
      expect(res.account?.name).toBe("guarded");

      // A broken edit keeps the last good tokens instead of locking everybody out.
      fs.writeFileSync(tokensFile, "- {token: [unterminated");
      await eventually(() => expect(lines.some((l) => l.includes("tokens file not reloaded"))).toBe(true), { timeoutMs: 10_000, intervalMs: 200 });
      expect((await call(clients.accounts.getAccount, clients.accounts, { account: "guarded" }, { metadata: bearer(rotated) })).account?.name).toBe("guarded");
    } finally {
      fs.writeFileSync(tokensFile, before);
    }
    await eventually(() => call(clients.accounts.getAccount, clients.accounts, { account: "guarded" }, { metadata: bearer(tokens.reader) }), {
      timeoutMs: 10_000,
      intervalMs: 200,
    });
  }, 40_000);
});

describe("with mutual TLS", () => {
  let app: Kubedriver;

  beforeAll(async () => {
    app = await startSecured({ clientCa: true });
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
  });

  const check = (clients: ReturnType<typeof clientsFor>) =>
    call(clients.grpcHealth.check, clients.grpcHealth, { service: "" }, { deadline: new Date(Date.now() + 3000) });

  it("refuses clients without a certificate the CA signed at the handshake", async () => {
    for (const client of [undefined, pki.rogueClient()]) {
      const clients = tlsClients(app.grpc.address, client);
      try {
        const err = await grpcError(check(clients));
        expect(err.code).toBe(Code.UNAVAILABLE);
      } finally {
        clients.close();
      }
    }
  });

  it("takes the caller from the certificate: CN is the name, O the groups", async () => {
    const deployer = tlsClients(app.grpc.address, pki.client("ci-bot", ["deployers"]));
    const viewer = tlsClients(app.grpc.address, pki.client("dashboard", ["viewers"]));
    try {
      const sync = (c: ReturnType<typeof clientsFor>) => call(c.accounts.syncAccount, c.accounts, { account: "guarded" });
      expect((await sync(deployer)).result?.succeeded).toBe(true);
      const err = await grpcError(sync(viewer));
      expect(err.code).toBe(Code.PERMISSION_DENIED);
      expect(err.details).toContain('caller "dashboard"');
    } finally {
      deployer.close();
      viewer.close();
    }
  });
});

describe("secrets", () => {
  it("never appear in a log line or a response of this run", () => {
    expect(lines.length).toBeGreaterThan(50);
    expect(responses.length).toBeGreaterThan(10);
    const seen = [...lines, ...responses.map((r) => JSON.stringify(r))].join("\n");
    for (const secret of [...Object.values(tokens), registryPassword, fs.readFileSync(pki.serverKey, "utf8").split("\n")[1]]) {
      expect(seen).not.toContain(secret);
    }
  });
});
