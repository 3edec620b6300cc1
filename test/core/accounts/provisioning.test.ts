import type { ServiceError } from "@grpc/grpc-js";
import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../../src/app.js";
import { parseConfig } from "../../../src/config/load.js";
import { Logger } from "../../../src/observability/logger.js";
import { type Account, ProvisioningAction as Action, Reachability } from "../../../gen/kubedriver/v1/accounts.js";
import { aSecret } from "../../support/fixtures.js";
import { eventually, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { startFaultyCluster } from "../../support/faults.js";
import { call, clientsFor, grpcError } from "../../support/grpc.js";

// Through the real gRPC server, on the emulator and unchanged on a real
// cluster. Every log line and response of this file is kept and searched for
// the registry passwords at the end.
const password = "hunter2-registry-password";
const rotated = "rotated-registry-password-2";
const logLines: string[] = [];
const responses: unknown[] = [];
let cluster: TestCluster;
const running: Kubedriver[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(async () => {
  await Promise.all(running.map((app) => app.stop()));
  await cluster.close();
});

interface AccountSpec {
  namespaces: string[];
  kubeconfig?: string;
  registries?: { name: string; password?: string; namespaces?: string[] }[];
}

/** Starts kubedriver with one account `main` and returns a client for it. */
async function serve(spec: AccountSpec) {
  const registries = spec.registries ?? [{ name: "hub" }];
  const app = await startKubedriver(
    parseConfig(`
server: {listen: "127.0.0.1:0"}
kubernetes:
  accounts:
    - name: main
      kubeconfigFile: ${spec.kubeconfig ?? cluster.kubeconfigPath}
      namespaces: [${spec.namespaces.join(", ")}]
      dockerRegistries: [${registries.map((r) => `{accountName: ${r.name}${r.namespaces ? `, namespaces: [${r.namespaces.join(", ")}]` : ""}}`).join(", ")}]
dockerRegistry:
  accounts: [${registries
    .map((r) => `{name: ${r.name}, address: "https://${r.name}.example.com", username: deployer, password: ${r.password ?? password}, email: ops@example.com}`)
    .join(", ")}]
`),
    new Logger({ write: (line) => logLines.push(line) }),
    { provisioning: { retryDelaysMs: [50, 100] } },
  );
  running.push(app);
  const clients = clientsFor(app.grpc.address);
  const getAccount = async () => {
    const res = await call(clients.accounts.getAccount, clients.accounts, { account: "main" });
    responses.push(res);
    return res.account!;
  };
  const sync = async () => {
    const res = await call(clients.accounts.syncAccount, clients.accounts, { account: "main" });
    responses.push(res);
    return res.result!;
  };
  const provisioned = () =>
    eventually(async () => {
      const account = await getAccount();
      expect(account.lastProvisioning).toBeDefined();
      return account;
    });
  return { app, clients, getAccount, sync, provisioned };
}

const outcome = (account: Account, namespace: string) => account.lastProvisioning!.namespaces.find((n) => n.namespace === namespace)!;

async function decodedPullSecret(namespace: string, name: string) {
  const secret = await cluster.core.readNamespacedSecret({ namespace, name });
  return { secret, config: JSON.parse(Buffer.from(secret.data![".dockerconfigjson"]!, "base64").toString("utf8")) };
}

describe("provisioning an account", () => {
  it("creates only the namespaces that are missing", async () => {
    const existing = await cluster.createNamespace("acct-existing");
    const missing = cluster.uniqueNamespace("acct-missing");
    const before = await cluster.core.readNamespace({ name: existing });
    const { provisioned } = await serve({ namespaces: [existing, missing] });
    const account = await provisioned();
    expect(outcome(account, existing).action).toBe(Action.PROVISIONING_ACTION_UNCHANGED);
    expect(outcome(account, missing).action).toBe(Action.PROVISIONING_ACTION_CREATED);
    expect(account.reachability).toBe(Reachability.REACHABILITY_REACHABLE);
    await expect(cluster.core.readNamespace({ name: missing })).resolves.toMatchObject({ metadata: { name: missing } });
    const after = await cluster.core.readNamespace({ name: existing });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  it("writes a dockerconfigjson pull secret exactly as kubectl create secret docker-registry does", async () => {
    const ns = cluster.uniqueNamespace("acct-secret");
    await (await serve({ namespaces: [ns] })).provisioned();
    const { secret, config } = await decodedPullSecret(ns, "hub");
    expect(secret.type).toBe("kubernetes.io/dockerconfigjson");
    expect(secret.metadata?.labels).toMatchObject({ "app.kubernetes.io/managed-by": "kubedriver" });
    expect(config).toEqual({
      auths: {
        "https://hub.example.com": {
          username: "deployer",
          password,
          email: "ops@example.com",
          auth: Buffer.from(`deployer:${password}`).toString("base64"),
        },
      },
    });
  });

  it("puts each registry's secret only in that registry's namespaces", async () => {
    const web = cluster.uniqueNamespace("acct-web");
    const batch = cluster.uniqueNamespace("acct-batch");
    const account = await (
      await serve({ namespaces: [web, batch], registries: [{ name: "hub" }, { name: "quay", namespaces: [web] }] })
    ).provisioned();
    expect(outcome(account, web).pullSecrets.map((s) => s.name).sort()).toEqual(["hub", "quay"]);
    expect(outcome(account, batch).pullSecrets.map((s) => s.name)).toEqual(["hub"]);
    const batchSecrets = (await cluster.core.listNamespacedSecret({ namespace: batch })).items.map((s) => s.metadata!.name);
    expect(batchSecrets).toContain("hub");
    expect(batchSecrets).not.toContain("quay");
  });

  it("changes nothing on a second sync: every item UNCHANGED, resourceVersions kept", async () => {
    const ns = cluster.uniqueNamespace("acct-idem");
    const { provisioned, sync } = await serve({ namespaces: [ns] });
    await provisioned();
    const before = (await cluster.core.readNamespacedSecret({ namespace: ns, name: "hub" })).metadata!.resourceVersion;
    const result = await sync();
    expect(result.succeeded).toBe(true);
    expect(result.namespaces).toEqual([
      expect.objectContaining({
        namespace: ns,
        action: Action.PROVISIONING_ACTION_UNCHANGED,
        pullSecrets: [expect.objectContaining({ name: "hub", action: Action.PROVISIONING_ACTION_UNCHANGED })],
      }),
    ]);
    const after = (await cluster.core.readNamespacedSecret({ namespace: ns, name: "hub" })).metadata!.resourceVersion;
    expect(after).toBe(before);
  });

  it("updates the pull secret when the registry password is rotated", async () => {
    const ns = cluster.uniqueNamespace("acct-rotate");
    await (await serve({ namespaces: [ns] })).provisioned();
    const account = await (await serve({ namespaces: [ns], registries: [{ name: "hub", password: rotated }] })).provisioned();
    expect(outcome(account, ns).pullSecrets[0]).toMatchObject({ name: "hub", action: Action.PROVISIONING_ACTION_UPDATED });
    const { config } = await decodedPullSecret(ns, "hub");
    expect(config.auths["https://hub.example.com"].password).toBe(rotated);
  });

  it("lets two replicas that write the same pull secret at once both succeed", async () => {
    const ns = await cluster.createNamespace("acct-race");
    const faulty = await startFaultyCluster(cluster);
    try {
      // The first replica's create is held back until the second has created the secret.
      const hold = { namespace: ns, verbs: ["POST"], latencyMs: 1_500, times: 1 };
      faulty.faults.add(hold);
      const first = await serve({ namespaces: [ns], kubeconfig: faulty.kubeconfigPath });
      await eventually(() => expect(hold.times).toBe(0));
      const second = await (await serve({ namespaces: [ns] })).provisioned();
      expect(outcome(second, ns).pullSecrets[0]).toMatchObject({ name: "hub", action: Action.PROVISIONING_ACTION_CREATED });
      const raced = await first.provisioned();
      expect(outcome(raced, ns).pullSecrets[0]).toMatchObject({ name: "hub", action: Action.PROVISIONING_ACTION_UNCHANGED });
      expect(raced.lastProvisioning!.succeeded).toBe(true);
    } finally {
      await faulty.close();
    }
  });

  it("never overwrites a secret of the same name that kubedriver did not create, and says so", async () => {
    const ns = await cluster.createNamespace("acct-foreign");
    await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "hub", data: { mine: "keep me" } }) });
    const account = await (await serve({ namespaces: [ns] })).provisioned();
    const secret = outcome(account, ns).pullSecrets[0]!;
    expect(secret.action).toBe(Action.PROVISIONING_ACTION_FAILED);
    expect(secret.error).toMatchObject({ code: "FAILED_PRECONDITION", message: expect.stringContaining(`secret "hub" in namespace "${ns}"`) });
    expect(account.lastProvisioning!.succeeded).toBe(false);
    const stored = await cluster.core.readNamespacedSecret({ namespace: ns, name: "hub" });
    expect(Buffer.from(stored.data!.mine!, "base64").toString()).toBe("keep me");
  });

  it("fails a terminating namespace alone; the account's other namespaces are provisioned", async () => {
    const doomed = await cluster.createNamespace("acct-doomed");
    await cluster.core.createNamespacedSecret({
      namespace: doomed,
      body: { ...aSecret({ name: "held" }), metadata: { name: "held", finalizers: ["kubedriver.test/hold"] } },
    });
    await cluster.core.deleteNamespace({ name: doomed });
    const healthy = cluster.uniqueNamespace("acct-healthy");
    try {
      const account = await (await serve({ namespaces: [doomed, healthy] })).provisioned();
      expect(outcome(account, doomed)).toMatchObject({
        action: Action.PROVISIONING_ACTION_FAILED,
        error: { code: "FAILED_PRECONDITION", message: expect.stringContaining("being terminated") },
      });
      expect(outcome(account, healthy)).toMatchObject({
        action: Action.PROVISIONING_ACTION_CREATED,
        pullSecrets: [expect.objectContaining({ action: Action.PROVISIONING_ACTION_CREATED })],
      });
    } finally {
      const held = await cluster.core.readNamespacedSecret({ namespace: doomed, name: "held" });
      await cluster.core.replaceNamespacedSecret({ namespace: doomed, name: "held", body: { ...held, metadata: { ...held.metadata, finalizers: [] } } });
    }
  });

  it("reports a namespace the account's user may not create as PERMISSION_DENIED, alone", async () => {
    const readable = await cluster.createNamespace("acct-readable");
    const forbidden = cluster.uniqueNamespace("acct-forbidden");
    const account = await (await serve({ namespaces: [readable, forbidden], kubeconfig: cluster.restrictedKubeconfigPath })).provisioned();
    expect(outcome(account, readable).action).toBe(Action.PROVISIONING_ACTION_UNCHANGED);
    expect(outcome(account, forbidden)).toMatchObject({
      action: Action.PROVISIONING_ACTION_FAILED,
      error: { code: "PERMISSION_DENIED", message: expect.stringContaining(`namespace "${forbidden}"`) },
    });
    expect(account.reachability).toBe(Reachability.REACHABILITY_REACHABLE);
  });

  it("serves while a cluster is unreachable at start-up, then provisions it once it answers", async () => {
    const ns = cluster.uniqueNamespace("acct-late");
    const faulty = await startFaultyCluster(cluster);
    await faulty.refuseConnections(true);
    try {
      const { getAccount, clients } = await serve({ namespaces: [ns], kubeconfig: faulty.kubeconfigPath });
      const down = await eventually(async () => {
        const account = await getAccount();
        expect(account.reachability).toBe(Reachability.REACHABILITY_UNREACHABLE);
        return account;
      });
      expect(down.reachabilityError).toMatch(/account "main".*unreachable/);
      const list = await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 0, pageToken: "" });
      expect(list.accounts.map((a) => a.name)).toEqual(["main"]);
    } finally {
      await faulty.refuseConnections(false);
    }
    const app = running.at(-1)!;
    const clients = clientsFor(app.grpc.address);
    await eventually(async () => {
      const account = (await call(clients.accounts.getAccount, clients.accounts, { account: "main" })).account!;
      expect(account.reachability).toBe(Reachability.REACHABILITY_REACHABLE);
      expect(outcome(account, ns).action).toBe(Action.PROVISIONING_ACTION_CREATED);
    });
    clients.close();
    await app.stop();
    await faulty.close();
  });
});

describe("the Accounts API", () => {
  it("answers NOT_FOUND for SyncAccount of an unknown account", async () => {
    const { clients } = await serve({ namespaces: [cluster.uniqueNamespace("acct-api")] });
    const err: ServiceError = await grpcError(call(clients.accounts.syncAccount, clients.accounts, { account: "ghost" }));
    expect(err.code).toBe(Code.NOT_FOUND);
  });

  it("serves no Kubernetes account when kubernetes.enabled is false", async () => {
    const app = await startKubedriver(
      parseConfig(`server: {listen: "127.0.0.1:0"}\nkubernetes:\n  enabled: false\n  accounts: [{name: x, dockerRegistries: [{accountName: hub}]}]\ndockerRegistry:\n  accounts: [{name: hub, address: a, username: u, password: p}]\n`),
      new Logger({ write: (line) => logLines.push(line) }),
    );
    running.push(app);
    const clients = clientsFor(app.grpc.address);
    const res = await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 0, pageToken: "" });
    expect(res.accounts).toEqual([]);
  });

  it("never shows a registry password in any response or log line of this run", () => {
    const everything = [...logLines, ...responses.map((r) => JSON.stringify(r))].join("\n");
    expect(logLines.length).toBeGreaterThan(0);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(rotated);
    expect(everything).not.toContain(Buffer.from(`deployer:${password}`).toString("base64"));
  });
});
