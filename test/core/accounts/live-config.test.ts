import fs from "node:fs";
import path from "node:path";
import { status as Code, type ServiceError } from "@grpc/grpc-js";
import { RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../../src/app.js";
import { loadConfigFile } from "../../../src/config/load.js";
import { Logger } from "../../../src/observability/logger.js";
import type { WatchNamespacesResponse } from "../../../gen/kubedriver/v1/health.js";
import type { ServerGroup } from "../../../gen/kubedriver/v1/server_group.js";
import { ChangeType, WaitCondition, type WatchServerGroupsResponse } from "../../../gen/kubedriver/v1/server_groups.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, clientsFor, detailsOf, grpcError } from "../../support/grpc.js";
import { tempDir } from "../../support/kubeconfig.js";
import { aCreateRequest } from "../../support/server-groups.js";

// Through the real gRPC server, on the emulator and unchanged on a real
// cluster: the config file is edited under a running kubedriver (polled every
// 20 ms) while a load of mixed calls runs, and no call of that load may fail.

interface AccountSpec {
  name: string;
  namespaces: string[];
  registries: string[];
  kubeconfig?: string;
}
interface RegistrySpec {
  name: string;
  password: string;
}

let cluster: TestCluster;
let app: Kubedriver;
let clients: ReturnType<typeof clientsFor>;
const tmp = tempDir("kubedriver-live-config-");
const configFile = path.join(tmp.dir, "config.yaml");
const logLines: string[] = [];
let accounts: AccountSpec[];
let registries: RegistrySpec[];
let main: string;
const load = { stop: false, calls: 0, failures: [] as string[], done: Promise.resolve() };

/** Writes the config as a replacement file renamed into place, so the poller never reads half a file. */
function writeConfig(text = configYaml()): void {
  const next = `${configFile}.next`;
  fs.writeFileSync(next, text);
  fs.renameSync(next, configFile);
}

function configYaml(): string {
  const list = accounts
    .map(
      (a) => `
    - name: ${a.name}
      kubeconfigFile: ${JSON.stringify(a.kubeconfig ?? cluster.kubeconfigPath)}
      namespaces: [${a.namespaces.join(", ")}]
      dockerRegistries: [${a.registries.map((r) => `{accountName: ${r}}`).join(", ")}]`,
    )
    .join("");
  return `
server: {listen: "127.0.0.1:0"}
kubernetes:
  healthCheckIntervalSeconds: 1
  accounts:${list}
dockerRegistry:
  accounts: [${registries.map((r) => `{name: ${r.name}, address: "https://${r.name}.example.com", username: deployer, password: ${r.password}}`).join(", ")}]
`;
}

const listAccounts = async () => (await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 0, pageToken: "" })).accounts;
const secretVersion = async (namespace: string, name: string) =>
  (await cluster.core.readNamespacedSecret({ namespace, name })).metadata!.resourceVersion!;

beforeAll(async () => {
  cluster = await startTestCluster();
  main = cluster.uniqueNamespace("live-main");
  accounts = [{ name: "main", namespaces: [main], registries: ["hub"] }];
  registries = [{ name: "hub", password: "hub-password-1" }];
  writeConfig();
  app = await startKubedriver(loadConfigFile(configFile), new Logger({ write: (line) => logLines.push(line) }), {
    configFile,
    configPollIntervalMs: 20,
    provisioning: { retryDelaysMs: [50, 100] },
  });
  clients = clientsFor(app.grpc.address);
  await eventually(() => secretVersion(main, "hub"));
  load.done = runLoad();
});

afterAll(async () => {
  load.stop = true;
  await load.done;
  clients?.close();
  await app?.stop();
  await cluster?.close();
  tmp.cleanup();
});

/** Mixed reads and syncs on the account no reload removes, one after another, until stopped. */
async function runLoad(): Promise<void> {
  const kinds = [
    () => listAccounts(),
    () => call(clients.accounts.getAccount, clients.accounts, { account: "main" }),
    () => call(clients.accounts.syncAccount, clients.accounts, { account: "main" }),
    () => call(clients.health.checkNamespaces, clients.health, { accounts: ["main"], namespaces: [], fresh: false }),
    () => call(clients.accounts.getConfigStatus, clients.accounts, {}),
  ];
  while (!load.stop) {
    const kind = kinds[load.calls++ % kinds.length]!;
    await kind().catch((err: ServiceError) => load.failures.push(`${err.code}: ${err.details}`));
  }
}

/** A WatchNamespaces stream, keeping every message. */
function watchAll() {
  const stream = clients.health.watchNamespaces({ accounts: [], namespaces: [] });
  const messages: WatchNamespacesResponse[] = [];
  stream.on("data", (m: WatchNamespacesResponse) => messages.push(m));
  stream.on("error", () => {});
  return { stream, messages };
}

describe(`live configuration on the ${onRealCluster ? "real cluster" : "emulator"}`, () => {
  it("adds an account and a registry within 2 s of the edit, and an open stream shows its namespaces in the next round", async () => {
    const watch = watchAll();
    await eventually(() => expect(watch.messages.length).toBeGreaterThan(0));
    const added = [cluster.uniqueNamespace("live-add"), cluster.uniqueNamespace("live-add")];
    registries.push({ name: "quay", password: "quay-password-1" });
    accounts.push({ name: "added", namespaces: added, registries: ["hub", "quay"] });
    const edited = Date.now();
    writeConfig();

    await eventually(
      async () => {
        expect((await listAccounts()).map((a) => a.name)).toEqual(["added", "main"]);
        for (const ns of added) {
          await cluster.core.readNamespace({ name: ns });
          await secretVersion(ns, "hub");
          await secretVersion(ns, "quay");
        }
      },
      { timeoutMs: 2_000 },
    );
    expect(Date.now() - edited).toBeLessThan(2_000);
    await eventually(() => {
      const probed = watch.messages.at(-1)!.round!.probes.map((p) => `${p.account}/${p.namespace}`);
      expect(probed).toEqual(expect.arrayContaining([`main/${main}`, ...added.map((ns) => `added/${ns}`)]));
    });
    // The registry is new to "main" too: its namespaces are left alone, as "main" does not bind it.
    await expect(secretVersion(main, "quay")).rejects.toBeDefined();
    watch.stream.cancel();

    const status = await call(clients.accounts.getConfigStatus, clients.accounts, {});
    expect(status).toMatchObject({ source: configFile, watched: true });
    expect(status.generation).toBeGreaterThanOrEqual(2);
    expect(status.lastError).toBeUndefined();
  });

  it("removes an account: gone from ListAccounts, calls on it refused as removed, a stream naming it ended, its cluster objects untouched", async () => {
    const gone = accounts.find((a) => a.name === "added")!;
    const versions = await Promise.all(gone.namespaces.map((ns) => secretVersion(ns, "quay")));
    const stream = clients.health.watchNamespaces({ accounts: ["added"], namespaces: [] });
    const ended = new Promise<ServiceError>((resolve) => stream.on("error", resolve));
    stream.on("data", () => {});
    const groups = clients.serverGroups.watchServerGroups({ account: "added", namespaces: [], application: "", cluster: "", name: "" });
    const groupsEnded = new Promise<ServiceError>((resolve) => groups.on("error", resolve));
    const snapshot = new Promise((resolve) => groups.on("data", resolve));
    await snapshot;
    const sgs = clients.serverGroups;
    const group = (await call(sgs.createServerGroup, sgs, aCreateRequest({ account: "added", namespace: gone.namespaces[0]! }))).serverGroup!.name;
    const waiting = grpcError(
      call(sgs.waitForServerGroup, sgs, {
        account: "added",
        namespace: gone.namespaces[0]!,
        name: group,
        condition: WaitCondition.WAIT_CONDITION_DESTROYED,
        upPercent: 0,
        timeout: { seconds: 60, nanos: 0 },
      }),
    );
    accounts = accounts.filter((a) => a !== gone);
    writeConfig();

    await eventually(async () => expect((await listAccounts()).map((a) => a.name)).toEqual(["main"]), { timeoutMs: 2_000 });
    const removed = (err: ServiceError) => {
      expect(err.code).toBe(Code.NOT_FOUND);
      expect(err.details).toContain("removed from the configuration");
      expect(detailsOf(err)?.errorInfo?.reason).toBe("ACCOUNT_REMOVED");
    };
    removed(await grpcError(call(clients.accounts.syncAccount, clients.accounts, { account: "added" })));
    removed(await ended);
    // A server-group stream on it cannot go on quietly either, nor a wait on one of its groups.
    removed(await groupsEnded);
    removed(await waiting);
    for (const [i, ns] of gone.namespaces.entries()) {
      await cluster.core.readNamespace({ name: ns });
      expect(await secretVersion(ns, "quay")).toBe(versions[i]);
    }
  });

  it("rotates a registry password: only the secrets of that registry change", async () => {
    const second = cluster.uniqueNamespace("live-rot");
    accounts = [{ name: "main", namespaces: [main, second], registries: ["hub", "quay"] }];
    writeConfig();
    await eventually(async () => {
      for (const ns of [main, second]) for (const s of ["hub", "quay"]) await secretVersion(ns, s);
    });
    const before = async () => Object.fromEntries(await Promise.all([main, second].flatMap((ns) => ["hub", "quay"].map(async (s) => [`${ns}/${s}`, await secretVersion(ns, s)]))));
    const versions = await before();

    registries.find((r) => r.name === "quay")!.password = "quay-password-2";
    writeConfig();
    await eventually(
      async () => {
        const now = await before();
        for (const ns of [main, second]) {
          expect(now[`${ns}/quay`]).not.toBe(versions[`${ns}/quay`]);
          expect(now[`${ns}/hub`]).toBe(versions[`${ns}/hub`]);
        }
      },
      { timeoutMs: 2_000 },
    );
    const secret = await cluster.core.readNamespacedSecret({ namespace: second, name: "quay" });
    const auth = JSON.parse(Buffer.from(secret.data![".dockerconfigjson"]!, "base64").toString()).auths;
    expect(JSON.stringify(auth)).toContain(Buffer.from("deployer:quay-password-2").toString("base64"));
  });

  it("swaps a kubeconfig's token file: the next call uses the new token", async () => {
    const namespace = await cluster.createNamespace("live-token");
    const tokens = await twoTokens(namespace);
    const tokenFile = path.join(tmp.dir, "token");
    fs.writeFileSync(tokenFile, tokens.weak);
    const kubeconfig = tokenKubeconfig(path.join(tmp.dir, "kubeconfig-token"), "token");
    accounts.push({ name: "tokened", namespaces: [namespace], registries: ["hub"], kubeconfig });
    writeConfig();
    await eventually(async () => expect((await listAccounts()).map((a) => a.name)).toContain("tokened"), { timeoutMs: 2_000 });
    const sync = () => call(clients.accounts.syncAccount, clients.accounts, { account: "tokened" }).then((r) => r.result!);
    // The weak token may not read secrets (nor, on a real cluster, the namespace).
    expect((await sync()).succeeded).toBe(false);

    fs.writeFileSync(`${tokenFile}.next`, tokens.strong);
    fs.renameSync(`${tokenFile}.next`, tokenFile);
    await eventually(async () => expect((await sync()).succeeded).toBe(true), { timeoutMs: 2_000 });
    await secretVersion(namespace, "hub");
  });

  it("a server-group stream and a wait go on across reloads: namespaces coming into scope and leaving it, and views replaced by a new client", async () => {
    const owner = accounts.find((a) => a.name === "main")!;
    const extra = cluster.uniqueNamespace("live-sg");
    const sgs = clients.serverGroups;
    const create = async (namespace: string) =>
      (await call(sgs.createServerGroup, sgs, aCreateRequest({ account: "main", namespace, application: "follow" }))).serverGroup!.name;
    const first = await create(main);
    const stream = sgs.watchServerGroups({ account: "main", namespaces: [], application: "follow", cluster: "", name: "" });
    const messages: WatchServerGroupsResponse[] = [];
    let ended: ServiceError | undefined;
    stream.on("data", (m: WatchServerGroupsResponse) => messages.push(m));
    stream.on("error", (e: ServiceError) => (ended = e));
    const groups = () => replayGroups(messages);
    await eventually(() => expect([...groups().keys()]).toEqual([`${main}/${first}`]));
    const destroyed = call(sgs.waitForServerGroup, sgs, {
      account: "main",
      namespace: main,
      name: first,
      condition: WaitCondition.WAIT_CONDITION_DESTROYED,
      upPercent: 0,
      timeout: { seconds: 60, nanos: 0 },
    });

    // A namespace comes into the account's scope: its groups join the stream.
    owner.namespaces.push(extra);
    writeConfig();
    await eventually(async () => expect((await listAccounts()).find((a) => a.name === "main")!.namespaces).toContain(extra), { timeoutMs: 2_000 });
    const second = await create(extra);
    await eventually(() => expect([...groups().keys()].sort()).toEqual([`${extra}/${second}`, `${main}/${first}`].sort()));

    // The account moves to a new kubeconfig file: a new client, so new views, followed without the groups going away.
    const replacedView = app.liveViews.view("main", main);
    const copy = path.join(tmp.dir, "kubeconfig-copy");
    fs.copyFileSync(cluster.kubeconfigPath, copy);
    owner.kubeconfig = copy;
    writeConfig();
    await eventually(() => expect(app.liveViews.view("main", main)).not.toBe(replacedView), { timeoutMs: 2_000 });
    await call(sgs.resizeServerGroup, sgs, { account: "main", namespace: main, name: first, targetSize: 2, requestId: "" });
    await eventually(() => expect(groups().get(`${main}/${first}`)?.targetSize).toBe(2));

    // The namespace leaves the scope again: its groups leave the stream, which goes on.
    owner.namespaces = owner.namespaces.filter((ns) => ns !== extra);
    writeConfig();
    await eventually(() => expect([...groups().keys()]).toEqual([`${main}/${first}`]), { timeoutMs: 2_000 });
    expect(ended).toBeUndefined();

    // The wait started before both reloads still answers, from the replacement view.
    await call(sgs.destroyServerGroup, sgs, { account: "main", namespace: main, name: first, requestId: "" });
    await destroyed;
    await eventually(() => expect(groups().size).toBe(0));
    expect(ended).toBeUndefined();
    stream.cancel();
  });

  it("keeps the running configuration on a broken edit and logs each problem with its path", async () => {
    const before = await call(clients.accounts.getConfigStatus, clients.accounts, {});
    const names = (await listAccounts()).map((a) => a.name);
    const from = logLines.length;
    writeConfig(configYaml().replace("healthCheckIntervalSeconds: 1", "healthCheckIntervalSeconds: 0\n  colour: blue").replace(`namespaces: [${main}`, "namespaces: [Not_A_Namespace"));

    const status = await eventually(async () => {
      const s = await call(clients.accounts.getConfigStatus, clients.accounts, {});
      expect(s.lastError).toBeDefined();
      return s;
    });
    const fields = status.lastError!.problems.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(["kubernetes.healthCheckIntervalSeconds", "kubernetes.colour", "kubernetes.accounts[0].namespaces[0]"]));
    expect(status.generation).toBe(before.generation);
    expect((await listAccounts()).map((a) => a.name)).toEqual(names);
    const logged = logLines.slice(from).map((l) => JSON.parse(l) as { msg: string; problem?: string });
    const problems = logged.filter((l) => l.msg.startsWith("configuration not reloaded")).map((l) => l.problem);
    for (const field of fields) expect(problems.some((p) => p?.startsWith(`${field}: `))).toBe(true);

    writeConfig();
    await eventually(async () => expect((await call(clients.accounts.getConfigStatus, clients.accounts, {})).lastError).toBeUndefined());
  });

  it("reloaded while a load of mixed calls ran, none of which failed", async () => {
    expect(load.calls).toBeGreaterThan(20);
    expect(load.failures).toEqual([]);
    expect(logLines.join("\n")).not.toMatch(/hub-password-1|quay-password-[12]/);
  });
});

/**
 * The groups a stream describes, by namespace and name, failing on a change
 * that contradicts what came before (an ADDED twice, a MODIFIED or DELETED
 * of a group not there): what a lost or repeated change looks like.
 */
function replayGroups(messages: WatchServerGroupsResponse[]): Map<string, ServerGroup> {
  const groups = new Map<string, ServerGroup>();
  for (const [i, m] of messages.entries()) {
    expect(m.snapshot).toBe(i === 0);
    for (const c of m.changes) {
      const key = `${c.serverGroup!.namespace}/${c.serverGroup!.name}`;
      expect(groups.has(key), `${ChangeType[c.type]} ${key}`).toBe(c.type !== ChangeType.CHANGE_TYPE_ADDED);
      if (c.type === ChangeType.CHANGE_TYPE_DELETED) groups.delete(key);
      else groups.set(key, c.serverGroup!);
    }
  }
  return groups;
}

/** A kubeconfig for the test cluster whose user is a `token-file` (relative, as kubectl allows). */
function tokenKubeconfig(file: string, tokenFile: string): string {
  const server = cluster.kubeConfig().getCurrentCluster()!;
  const clusterEntry: Record<string, unknown> = { server: server.server };
  if (server.skipTLSVerify) clusterEntry["insecure-skip-tls-verify"] = true;
  if (server.caData) clusterEntry["certificate-authority-data"] = server.caData;
  if (server.caFile) clusterEntry["certificate-authority"] = server.caFile;
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": "t",
    clusters: [{ name: "c", cluster: clusterEntry }],
    users: [{ name: "u", user: { "token-file": tokenFile } }],
    contexts: [{ name: "t", context: { cluster: "c", user: "u" } }],
  };
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}

/**
 * A token that may not provision the namespace and one that may. The
 * emulator knows its two users' tokens; a real cluster issues ServiceAccount
 * tokens with the TokenRequest API, one of them bound to cluster-admin.
 */
async function twoTokens(namespace: string): Promise<{ weak: string; strong: string }> {
  if (!onRealCluster) {
    const tokenOf = (yaml: string) => /token: (\S+)/.exec(yaml)![1]!;
    return { weak: tokenOf(cluster.emulator!.kubeconfig({ user: "restricted" })), strong: tokenOf(cluster.emulator!.kubeconfig()) };
  }
  const issue = async (name: string) => {
    await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    const res = await cluster.core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    return res.status!.token;
  };
  const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const binding = `${namespace}-admin`;
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: binding },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: "strong", namespace }],
    },
  });
  afterAll(() => rbac.deleteClusterRoleBinding({ name: binding }).then(() => undefined, () => undefined));
  return { weak: await issue("weak"), strong: await issue("strong") };
}
