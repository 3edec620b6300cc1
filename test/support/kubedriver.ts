import { startKubedriver, type Kubedriver, type KubedriverOptions } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { type Logger, silentLogger } from "../../src/observability/logger.js";
import type { TestCluster } from "./cluster.js";
import { startFaultyCluster, type FaultyCluster } from "./faults.js";
import { clientsFor } from "./grpc.js";

export interface TestAccount {
  name: string;
  namespaces: string[];
  /** Default: the cluster's admin kubeconfig. */
  kubeconfigFile?: string;
  /** Groups per permission; default: anyone. */
  permissions?: { READ?: string[]; WRITE?: string[] };
  /** The docker registries bound to the account, optionally to some of its namespaces only. Default: `hub`. */
  dockerRegistries?: { accountName: string; namespaces?: string[] }[];
}

export interface KubedriverOn {
  app: Kubedriver;
  clients: ReturnType<typeof clientsFor>;
  close(): Promise<void>;
}

export interface KubedriverOptionsOn {
  accounts: TestAccount[];
  kubernetes?: string;
  /** More `server` settings, as YAML flow entries (`auth: {tokensFile: …}`). */
  server?: string;
  /** Docker registries beside `hub`. */
  registries?: { name: string; address: string; password: string }[];
  log?: Logger;
  options?: KubedriverOptions;
}

/**
 * A kubedriver serving `accounts` of `cluster` on a free loopback port, with
 * one docker registry `hub` bound to every account, and grpc-js clients for
 * it. Several on one cluster behave as replicas do.
 */
export async function startKubedriverOn(cluster: TestCluster, opts: KubedriverOptionsOn): Promise<KubedriverOn> {
  const accounts = opts.accounts
    .map(
      (a) => `
    - name: ${a.name}
      kubeconfigFile: ${JSON.stringify(a.kubeconfigFile ?? cluster.kubeconfigPath)}
      namespaces: [${a.namespaces.join(", ")}]
      dockerRegistries: ${JSON.stringify(a.dockerRegistries ?? [{ accountName: "hub" }])}${a.permissions ? `
      permissions: ${JSON.stringify(a.permissions)}` : ""}`,
    )
    .join("");
  return startKubedriverFrom(
    `
server: {listen: "127.0.0.1:0"${opts.server ? `, ${opts.server}` : ""}}
kubernetes:
  ${opts.kubernetes ?? ""}
  accounts:${accounts}
dockerRegistry:
  accounts:
    - {name: hub, address: https://index.docker.io, username: u, password: hub-password}${(opts.registries ?? []).map((r) => `\n    - ${JSON.stringify({ ...r, username: "u" })}`).join("")}
`,
    opts.log,
    opts.options,
  );
}

/** A kubedriver started from a config text (for set-ups with no test cluster), and grpc-js clients for it. */
export async function startKubedriverFrom(config: string, log: Logger = silentLogger, options?: KubedriverOptions): Promise<KubedriverOn> {
  const app = await startKubedriver(parseConfig(config), log, options);
  const clients = clientsFor(app.grpc.address);
  return {
    app,
    clients,
    async close() {
      clients.close();
      await app.stop();
    },
  };
}

/**
 * startKubedriverOn, with every account reaching `cluster` through a fault-injecting
 * proxy (test/support/faults.ts), which also counts the requests that reach
 * the API server's door; closing closes both.
 */
export async function startKubedriverBehindFaults(cluster: TestCluster, opts: KubedriverOptionsOn): Promise<KubedriverOn & { faulty: FaultyCluster }> {
  const faulty = await startFaultyCluster(cluster);
  const kd = await startKubedriverOn(cluster, { ...opts, accounts: opts.accounts.map((a) => ({ ...a, kubeconfigFile: faulty.kubeconfigPath })) });
  return {
    ...kd,
    faulty,
    async close() {
      await kd.close();
      await faulty.close();
    },
  };
}
