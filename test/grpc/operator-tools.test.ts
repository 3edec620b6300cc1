import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/observability/logger.js";
import { tempDir, writeKubeconfig } from "../support/kubeconfig.js";

// An operator pokes kubedriver with `buf curl` (or grpcurl) and no .proto
// files: everything below must come from server reflection.
const run = promisify(execFile);
const buf = path.resolve("node_modules/.bin/buf");
const tmp = tempDir();
let app: Kubedriver;
let base: string;

beforeAll(async () => {
  const kubeconfig = writeKubeconfig(path.join(tmp.dir, "kubeconfig"));
  app = await startKubedriver(
    parseConfig(`
server: {listen: "127.0.0.1:0"}
kubernetes:
  accounts: [{name: ops, kubeconfigFile: ${kubeconfig}, namespaces: [web], dockerRegistries: [{accountName: hub}]}]
dockerRegistry:
  accounts: [{name: hub, address: https://index.docker.io, username: u, password: pw-not-for-operators}]
`),
    silentLogger,
  );
  base = `http://${app.grpc.address}`;
});

afterAll(async () => {
  await app.stop();
  tmp.cleanup();
});

async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await run(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 20_000 });
  return stdout;
}

describe("operator tools over server reflection", () => {
  it("lists every method of every service", async () => {
    const methods = (await bufCurl("--list-methods", base)).trim().split("\n");
    expect(methods).toEqual(
      expect.arrayContaining([
        "kubedriver.v1.Accounts/ListAccounts",
        "kubedriver.v1.Accounts/GetAccount",
        "kubedriver.v1.Accounts/SyncAccount",
        "kubedriver.v1.ServerGroups/CreateServerGroup",
        "kubedriver.v1.ServerGroups/DestroyServerGroup",
        "kubedriver.v1.Health/CheckNamespaces",
        "kubedriver.v1.Health/WatchNamespaces",
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/Watch",
      ]),
    );
  });

  it("calls ListAccounts and reads JSON back", async () => {
    const out = JSON.parse(await bufCurl("--data", "{}", `${base}/kubedriver.v1.Accounts/ListAccounts`)) as {
      accounts: { name: string; namespaces: string[] }[];
    };
    expect(out.accounts).toEqual([expect.objectContaining({ name: "ops", namespaces: ["web"] })]);
    expect(JSON.stringify(out)).not.toContain("pw-not-for-operators");
  });

  it("checks the standard health service", async () => {
    const out = JSON.parse(await bufCurl("--data", '{"service": ""}', `${base}/grpc.health.v1.Health/Check`)) as { status: string };
    expect(out.status).toBe("SERVING");
  });
});
