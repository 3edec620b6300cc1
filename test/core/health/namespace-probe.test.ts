import http from "node:http";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../../../src/kube/client.js";
import { probeNamespace } from "../../../src/kube/namespace-probe.js";
import { tempDir, writeKubeconfig } from "../../support/kubeconfig.js";

/** Answers a namespace GET with the HTTP status named by the namespace (`status-403`), or hangs (`hang`). */
function aStatusServer() {
  return http.createServer((req, res) => {
    const name = req.url?.split("?")[0]?.split("/").pop() ?? "";
    if (name === "hang") return;
    const code = Number(/^status-(\d+)$/.exec(name)?.[1] ?? 200);
    res.writeHead(code, { "content-type": "application/json" });
    res.end(
      code === 200
        ? JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } })
        : JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason: "Injected", message: `injected ${code}` }),
    );
  });
}

const tmp = tempDir();
const server = aStatusServer();
let client: KubeClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const file = writeKubeconfig(path.join(tmp.dir, "kubeconfig"), {
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}` }],
    users: [{ name: "u", token: "token-never-shown" }],
  });
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  client = new KubeClient("prod", kc);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  tmp.cleanup();
});

describe("probing a namespace", () => {
  it("is reachable when the API server returns the namespace", async () => {
    expect(await probeNamespace(client, "web", { timeoutMs: 2_000 })).toEqual({ reachable: true });
  });

  it.each([
    ["status-403", "403 forbidden"],
    ["status-404", "404 not found"],
    ["status-401", "401 unauthorized"],
    ["status-500", "500 internal server error"],
    ["status-503", "503 service unavailable"],
  ])("gives %s the short reason %s, with a detail naming account and namespace but no credential", async (namespace, reason) => {
    const outcome = await probeNamespace(client, namespace, { timeoutMs: 2_000 });
    expect(outcome).toEqual({ reachable: false, reason, detail: expect.stringContaining(`namespace "${namespace}"`) });
    const { detail } = outcome as { detail: string };
    expect(detail).toContain('account "prod"');
    expect(detail).not.toContain("token-never-shown");
  });

  it("reports `timeout` when the API server does not answer within the probe's timeout", async () => {
    expect(await probeNamespace(client, "hang", { timeoutMs: 100 })).toMatchObject({ reachable: false, reason: "timeout" });
  });
});
