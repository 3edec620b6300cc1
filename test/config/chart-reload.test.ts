import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { loadConfigFile } from "../../src/config/load.js";
import { silentLogger } from "../../src/observability/logger.js";
import { makeTestPki } from "../support/certs.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { tempDir } from "../support/kubeconfig.js";

// What deploy/chart/kubedriver says of its mounted files (deployment.yaml, values.yaml): the
// config, registry password files and tokens reload live; the TLS Secret is read at start-up.
// Checked here on the layout kubelet writes for ConfigMap and Secret volumes.

const tmp = tempDir();
let cluster: TestCluster;
let app: Kubedriver;
let first: string;
let added: string;
let generation = 0;

/** A volume as kubelet's atomic writer lays it out: each file a symlink into ..data, swapped in one rename. */
function writeVolume(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  const version = `..2026_01_01_00_00_0${++generation}.${generation}`;
  fs.mkdirSync(path.join(dir, version));
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, version, name), content);
    if (!fs.existsSync(path.join(dir, name))) fs.symlinkSync(`..data/${name}`, path.join(dir, name));
  }
  fs.symlinkSync(version, path.join(dir, "..data_tmp"));
  fs.renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
}

const pkis = [makeTestPki(fs.mkdtempSync(path.join(tmp.dir, "pki-"))), makeTestPki(fs.mkdtempSync(path.join(tmp.dir, "pki-")))];
const tlsVolume = (i: number) => ({ "tls.crt": fs.readFileSync(pkis[i]!.serverCert, "utf8"), "tls.key": fs.readFileSync(pkis[i]!.serverKey, "utf8") });
const configDir = path.join(tmp.dir, "config");
const credentialsDir = path.join(tmp.dir, "credentials");
const tlsDir = path.join(tmp.dir, "tls");

function config(namespaces: string[]): string {
  return `
server:
  listen: "127.0.0.1:0"
  tls: {certFile: ${tlsDir}/tls.crt, keyFile: ${tlsDir}/tls.key}
kubernetes:
  healthCheckIntervalSeconds: 3600
  accounts:
    - {name: acct, kubeconfigFile: ${JSON.stringify(cluster.kubeconfigPath)}, namespaces: [${namespaces.join(", ")}], dockerRegistries: [{accountName: hub}]}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, passwordFile: ${credentialsDir}/hub-password}]
`;
}

const pullSecretPassword = async (namespace: string) => {
  const secret = await cluster.core.readNamespacedSecret({ namespace, name: "hub" });
  const auths = JSON.parse(Buffer.from(secret.data![".dockerconfigjson"]!, "base64").toString()).auths;
  return (Object.values(auths)[0] as { password: string }).password;
};

/** The fingerprint of the certificate the gRPC port serves now. */
function servedCertificate(): Promise<string> {
  const port = Number(app.grpc.address.split(":").pop());
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ALPNProtocols: ["h2"] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

beforeAll(async () => {
  cluster = await startTestCluster();
  first = cluster.uniqueNamespace("chart-reload");
  added = cluster.uniqueNamespace("chart-reload-added");
  writeVolume(tlsDir, tlsVolume(0));
  writeVolume(credentialsDir, { "hub-password": "first-password" });
  writeVolume(configDir, { "kubedriver.yaml": config([first]) });
  const configFile = path.join(configDir, "kubedriver.yaml");
  app = await startKubedriver(loadConfigFile(configFile), silentLogger, { configFile, configPollIntervalMs: 20, provisioning: { retryDelaysMs: [50, 100] } });
  await eventually(async () => expect(await pullSecretPassword(first)).toBe("first-password"));
});

afterAll(async () => {
  await app?.stop();
  await cluster?.close();
  tmp.cleanup();
});

/** The comment over the Deployment's config-revision annotation in the rendered manifests, as one line. */
function chartSays(): string {
  const rendered = fs.readFileSync(new URL("../../deploy/kubedriver.yaml", import.meta.url), "utf8").split("\n");
  const at = rendered.findIndex((l) => l.includes("kubedriver.io/config-revision:"));
  const comment: string[] = [];
  for (let i = at - 1; i >= 0 && /^\s*#/.test(rendered[i]!); i--) comment.unshift(rendered[i]!.replace(/^\s*#\s?/, ""));
  return comment.join(" ");
}

describe("the chart's word on what reloads", () => {
  it("says the config and password files reload live and the TLS files need a restart, as the tests below show", () => {
    const said = chartSays();
    const live = /Reloaded live(.*)Read at start-up only/.exec(said)?.[1] ?? "";
    const startUp = /Read at start-up only:(.*)change configRevision/.exec(said)?.[1] ?? "";
    expect(live).toMatch(/kubedriver\.yaml/);
    expect(live).toMatch(/password files/);
    expect(startUp).toMatch(/TLS Secret/);
    expect(startUp).not.toMatch(/password|kubedriver\.yaml|kubeconfig/);
  });

  it("a registry password file updated in its Secret volume rewrites the pull secrets, no restart", async () => {
    writeVolume(credentialsDir, { "hub-password": "rotated-password" });
    await eventually(async () => expect(await pullSecretPassword(first)).toBe("rotated-password"), { timeoutMs: 10_000 });
  });

  it("kubedriver.yaml updated in its ConfigMap volume is applied, no restart", async () => {
    writeVolume(configDir, { "kubedriver.yaml": config([first, added]) });
    await eventually(async () => expect(await pullSecretPassword(added)).toBe("rotated-password"), { timeoutMs: 10_000 });
  });

  it("the TLS Secret's files are read at start-up only: a new certificate waits for a restart", async () => {
    const startedWith = new X509Certificate(fs.readFileSync(pkis[0]!.serverCert)).fingerprint256;
    expect(await servedCertificate()).toBe(startedWith);
    writeVolume(tlsDir, tlsVolume(1));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await servedCertificate()).toBe(startedWith);
  });
});
