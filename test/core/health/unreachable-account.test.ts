import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Logger } from "../../../src/observability/logger.js";
import { HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health.js";
import { call } from "../../support/grpc.js";
import { startKubedriverFrom, type KubedriverOn } from "../../support/kubedriver.js";
import { tempDir, writeKubeconfig } from "../../support/kubeconfig.js";

/** A loopback port with nothing listening on it, so connections are refused at once. */
async function aClosedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const tmp = tempDir();
const logLines: Record<string, unknown>[] = [];
const log = new Logger({ write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
let kd: KubedriverOn;
let clients: KubedriverOn["clients"];

beforeAll(async () => {
  const kubeconfig = writeKubeconfig(path.join(tmp.dir, "kubeconfig"), {
    clusters: [{ name: "gone", server: `https://127.0.0.1:${await aClosedPort()}` }],
    users: [{ name: "u", token: "token-never-shown" }],
    contexts: [{ name: "gone", cluster: "gone", user: "u" }],
  });
  kd = await startKubedriverFrom(
    `
server: {listen: "127.0.0.1:0"}
kubernetes:
  accounts:
    - {name: down, kubeconfigFile: ${kubeconfig}, namespaces: [web, batch], dockerRegistries: [{accountName: hub}]}
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: pw-never-shown}]
`,
    log,
  );
  clients = kd.clients;
});

afterAll(async () => {
  await kd.close();
  tmp.cleanup();
});

describe("an account whose API server refuses connections", () => {
  it("is reported per namespace as `connection refused`, naming account and namespace", async () => {
    const res = await call(clients.health.checkNamespaces, clients.health, { accounts: ["down"], namespaces: [], fresh: true });
    expect(res.round!.probes).toEqual([
      expect.objectContaining({ account: "down", namespace: "batch", reachable: false, error: { reason: "connection refused", detail: expect.stringContaining('namespace "batch"') } }),
      expect.objectContaining({ account: "down", namespace: "web", reachable: false, error: { reason: "connection refused", detail: expect.stringContaining('namespace "web"') } }),
    ]);
    expect(JSON.stringify(res)).not.toContain("token-never-shown");
  });

  it("turns the standard health status of kubedriver.v1.Health to NOT_SERVING, and logs the change once", async () => {
    await call(clients.health.checkNamespaces, clients.health, { accounts: [], namespaces: [], fresh: true });
    const res = await call(clients.grpcHealth.check, clients.grpcHealth, { service: "kubedriver.v1.Health" });
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    const whole = await call(clients.grpcHealth.check, clients.grpcHealth, { service: "" });
    expect(whole.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(logLines.filter((l) => l.msg === "account entirely unreachable")).toEqual([expect.objectContaining({ account: "down" })]);
    expect(JSON.stringify(logLines)).not.toContain("token-never-shown");
  });
});
