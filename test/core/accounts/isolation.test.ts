import fs from "node:fs";
import path from "node:path";
import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../../src/app.js";
import { parseConfig } from "../../../src/config/load.js";
import { Logger } from "../../../src/observability/logger.js";
import { ProvisioningAction as Action, Reachability } from "../../../gen/kubedriver/v1/accounts.js";
import { HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health.js";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { credentialOf, pluginOutput, startGarbageServer, writeExecKubeconfig, writePlugins } from "../../support/failing-accounts.js";
import { call, clientsFor, detailsOf, grpcError } from "../../support/grpc.js";
import { tempDir, writeKubeconfig } from "../../support/kubeconfig.js";
import { aCreateRequest } from "../../support/server-groups.js";

// One kubedriver with one healthy account and one account per way an account
// can fail: exec credential plugins that exit 1, hang, print garbage, print
// the wrong kind or are missing, and clusters that answer 200 with an HTML
// page or truncated JSON. None of it may reach the other accounts or the
// process (an unhandled rejection fails the test: test/support/unhandled.ts).
// Valid unchanged on a real cluster: only the healthy accounts talk to it.
const pluginTimeoutMs = 1_000;
const tmp = tempDir();
const logLines: string[] = [];
const responses: unknown[] = [];
let cluster: TestCluster;
let app: Kubedriver;
let clients: ReturnType<typeof clientsFor>;
let namespace: string;
let plugins: ReturnType<typeof writePlugins>;
const garbage: { close: () => Promise<void> }[] = [];
/** grpc.health.v1 Check latencies measured while the hanging plugin ran, in ms. */
const latenciesWhileHanging: number[] = [];

const failing = {
  "exits-1": { reason: "CREDENTIAL_PLUGIN_FAILED", probe: "credential plugin failed", says: "exec credential plugin exited with code 1" },
  hangs: { reason: "CREDENTIAL_PLUGIN_FAILED", probe: "credential plugin failed", says: `exec credential plugin did not finish within ${pluginTimeoutMs} ms` },
  garbage: { reason: "CREDENTIAL_PLUGIN_FAILED", probe: "credential plugin failed", says: "printed something that is not JSON" },
  "wrong-kind": { reason: "CREDENTIAL_PLUGIN_FAILED", probe: "credential plugin failed", says: "not an ExecCredential" },
  missing: { reason: "CREDENTIAL_PLUGIN_FAILED", probe: "credential plugin failed", says: "was not found (ENOENT)" },
  "html-cluster": { reason: "INVALID_RESPONSE", probe: "invalid response", says: 'content type "text/html" instead of JSON' },
  "truncated-cluster": { reason: "INVALID_RESPONSE", probe: "invalid response", says: "not valid JSON" },
} as const;
type Failing = keyof typeof failing;
const failingNames = Object.keys(failing) as Failing[];

const getAccount = async (account: string) => {
  const res = await call(clients.accounts.getAccount, clients.accounts, { account });
  responses.push(res);
  return res.account!;
};

async function grpcHealthLatency(): Promise<number> {
  const started = performance.now();
  const res = await call(clients.grpcHealth.check, clients.grpcHealth, { service: "" });
  expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  return performance.now() - started;
}

beforeAll(async () => {
  cluster = await startTestCluster();
  namespace = cluster.uniqueNamespace("isolated");
  plugins = writePlugins(tmp.dir, credentialOf(cluster));
  const exec = (name: string, command: string) => writeExecKubeconfig(path.join(tmp.dir, `${name}.kubeconfig`), cluster, command);
  const html = await startGarbageServer("html");
  const truncated = await startGarbageServer("truncated-json");
  garbage.push(html, truncated);
  const served = (name: string, url: string) =>
    writeKubeconfig(path.join(tmp.dir, `${name}.kubeconfig`), { clusters: [{ name, server: url }], users: [{ name: "u", token: "token-never-shown" }], contexts: [{ name, cluster: name, user: "u" }] });
  const kubeconfigs: Record<string, string> = {
    good: cluster.kubeconfigPath,
    "exec-good": exec("exec-good", plugins.works),
    "exits-1": exec("exits-1", plugins.exitsNonZero),
    hangs: exec("hangs", plugins.hangs),
    garbage: exec("garbage", plugins.printsGarbage),
    "wrong-kind": exec("wrong-kind", plugins.printsWrongKind),
    missing: exec("missing", plugins.missing),
    "html-cluster": served("html", html.url),
    "truncated-cluster": served("truncated", truncated.url),
  };
  app = await startKubedriver(
    parseConfig(`
server: {listen: "127.0.0.1:0"}
kubernetes:
  accounts:
${Object.entries(kubeconfigs)
  .map(([name, file]) => `    - {name: ${name}, kubeconfigFile: ${file}, namespaces: [${namespace}], dockerRegistries: [{accountName: hub}]}`)
  .join("\n")}
dockerRegistry:
  accounts: [{name: hub, address: https://hub.example.com, username: u, password: pw-never-shown}]
`),
    new Logger({ write: (line) => logLines.push(line) }),
    // No background retries during the test: every plugin run below is one the test caused.
    { provisioning: { retryDelaysMs: [60_000] }, execCredentials: { timeoutMs: pluginTimeoutMs } },
  );
  clients = clientsFor(app.grpc.address);
  // Connecting is not what is measured.
  await grpcHealthLatency();

  // Provisioning has started the hanging plugin: the event loop must go on serving while it runs.
  await eventually(() => expect(fs.existsSync(path.join(tmp.dir, "hang.pid"))).toBe(true), { intervalMs: 5 });
  const until = performance.now() + pluginTimeoutMs / 2;
  while (performance.now() < until) latenciesWhileHanging.push(await grpcHealthLatency());
});

afterAll(async () => {
  clients?.close();
  await app?.stop();
  await Promise.all(garbage.map((g) => g.close()));
  await cluster?.close();
  tmp.cleanup();
});

describe("accounts that fail", () => {
  it("leave grpc.health.v1 answering at once while an exec plugin hangs", () => {
    expect(latenciesWhileHanging.length).toBeGreaterThan(5);
    expect(Math.max(...latenciesWhileHanging)).toBeLessThan(100);
  });

  it("leave the healthy accounts working: provisioned, reachable, serving server groups", async () => {
    for (const name of ["good", "exec-good"]) {
      const account = await eventually(async () => {
        const a = await getAccount(name);
        expect(a.lastProvisioning?.succeeded).toBe(true);
        return a;
      });
      expect(account.reachability).toBe(Reachability.REACHABILITY_REACHABLE);
    }
    const created = await call(clients.serverGroups.createServerGroup, clients.serverGroups, aCreateRequest({ account: "good", namespace, application: "isolated" }));
    const listed = await call(clients.serverGroups.listServerGroups, clients.serverGroups, {
      account: "exec-good",
      namespaces: [namespace],
      application: "isolated",
      cluster: "",
      pageSize: 0,
      pageToken: "", consistency: 0,
    });
    expect(listed.serverGroups.map((g) => g.name)).toEqual([created.serverGroup!.name]);
    // The working plugin's credential is kept until its expirationTimestamp: it ran once for all of that.
    expect(fs.readFileSync(path.join(tmp.dir, "works.runs"), "utf8").trim().split("\n")).toHaveLength(1);
  });

  it.each(failingNames)("%s: GetAccount reports it as unreachable, naming the account and what failed", async (name) => {
    const account = await eventually(async () => {
      const a = await getAccount(name);
      expect(a.lastProvisioning).toBeDefined();
      return a;
    }, { timeoutMs: 5_000 });
    expect(account.reachability).toBe(Reachability.REACHABILITY_UNREACHABLE);
    expect(account.reachabilityError).toContain(`account "${name}"`);
    expect(account.reachabilityError).toContain(failing[name].says);
    expect(account.lastProvisioning!.succeeded).toBe(false);
    expect(account.lastProvisioning!.namespaces[0]).toMatchObject({ namespace, action: Action.PROVISIONING_ACTION_FAILED, error: { code: "UNAVAILABLE" } });
  });

  it.each(failingNames)("%s: SyncAccount answers a result with the failure, not INTERNAL", async (name) => {
    const res = await call(clients.accounts.syncAccount, clients.accounts, { account: name });
    responses.push(res);
    expect(res.result!.succeeded).toBe(false);
    expect(res.result!.namespaces[0]!.error).toMatchObject({ code: "UNAVAILABLE", message: expect.stringContaining(failing[name].says) });
  });

  it.each(failingNames)("%s: a call on it is UNAVAILABLE with an ErrorInfo reason", async (name) => {
    const err = await grpcError(
      call(clients.serverGroups.listServerGroups, clients.serverGroups, { account: name, namespaces: [namespace], application: "", cluster: "", pageSize: 0, pageToken: "" , consistency: 0}),
    );
    responses.push(err.details);
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.details).toContain(`account "${name}"`);
    expect(detailsOf(err)?.errorInfo?.reason).toBe(failing[name].reason);
  });

  it("are reported by the health probes with a short reason, while the healthy accounts probe reachable", async () => {
    const res = await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces: [], fresh: true });
    responses.push(res);
    const byAccount = new Map(res.round!.probes.map((p) => [p.account, p]));
    expect(byAccount.get("good")).toMatchObject({ reachable: true });
    expect(byAccount.get("exec-good")).toMatchObject({ reachable: true });
    for (const name of failingNames) {
      expect(byAccount.get(name), name).toMatchObject({ reachable: false, error: { reason: failing[name].probe, detail: expect.stringContaining(`account "${name}"`) } });
    }
  });

  it("kill a hanging plugin and everything it started at the deadline", async () => {
    const pid = Number(fs.readFileSync(path.join(tmp.dir, "hang.pid"), "utf8"));
    await eventually(() => expect(() => process.kill(-pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" })));
  });

  it("never put what a plugin printed, or a credential, in a log line or a response", () => {
    expect(logLines.length).toBeGreaterThan(0);
    const everything = JSON.stringify([logLines, responses]);
    for (const secret of [pluginOutput, "token-never-shown", "pw-never-shown", credentialOf(cluster).token ?? "(no token)"]) {
      expect(everything).not.toContain(secret);
    }
  });

  it("log each failing account's reachability change once", () => {
    for (const name of failingNames) {
      const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.account === name && l.msg === "account unreachable; provisioning retries until it answers");
      expect(lines, name).toHaveLength(1);
    }
  });
});
