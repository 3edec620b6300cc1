import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "../support/cluster.js";

// protobuf_test.go, on the emulator or (npm run test:cluster) a real control
// plane: client-go's typed clientset with only protobuf allowed.
const here = fileURLToPath(new URL(".", import.meta.url));
const go = (() => {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(() => cluster.close());

describe("client-go v0.36.3 over protobuf", () => {
  // The first run compiles client-go (about 100 s on two cores); later ones take seconds.
  it.runIf(go)(
    "creates a namespace and an RC, watches its pods come up, scales it and deletes it (needs Go)",
    async () => {
      const result = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(
          "go",
          ["test", "-count=1", "./..."],
          { cwd: here, env: { ...process.env, KUBEDRIVER_CLIENTGO_KUBECONFIG: cluster.kubeconfigPath }, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
        );
      });
      expect(result.code, result.output).toBe(0);
    },
    900_000,
  );
});
