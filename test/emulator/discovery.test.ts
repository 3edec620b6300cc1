import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aReplicationController } from "../support/fixtures.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { kubectlBinary } from "../support/kubectl.js";
import { raw } from "./raw.js";

// Discovery as kubectl reads it, on the emulator and unchanged on a real control plane.
let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startTestCluster();
});
afterAll(() => cluster.close());

const categoriesOf = async (groupVersionPath: string) =>
  Object.fromEntries(
    ((await raw(cluster.kubeConfig(), "GET", groupVersionPath)).json().resources as { name: string; categories?: string[] }[])
      .filter((r) => !r.name.includes("/"))
      .map((r) => [r.name, r.categories ?? []]),
  );

describe("discovery", () => {
  it("puts pods, replication controllers, services and autoscalers in the category `all`, and nothing else served", async () => {
    const core = await categoriesOf("/api/v1");
    for (const name of ["pods", "replicationcontrollers", "services"]) expect(core[name], name).toEqual(["all"]);
    for (const name of ["namespaces", "secrets", "serviceaccounts", "events"]) expect(core[name], name).toEqual([]);
    expect((await categoriesOf("/apis/autoscaling/v2")).horizontalpodautoscalers).toEqual(["all"]);
  });

  it("lists resources in name order, as kubectl then expands `all`", async () => {
    const names = Object.keys(await categoriesOf("/api/v1"));
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(["pods", "replicationcontrollers", "services"]));
  });

  const kubectl = kubectlBinary();
  it.runIf(kubectl)("lets `kubectl get all` list a namespace's RCs, pods and services (needs test/cluster/build.sh's kubectl)", async () => {
    const ns = await cluster.createNamespace("all");
    await cluster.core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "web", replicas: 1 }) });
    await cluster.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } } });
    await eventually(async () => expect((await cluster.core.listNamespacedPod({ namespace: ns })).items).toHaveLength(1), { timeoutMs: 30_000 });
    const { stdout } = await promisify(execFile)(kubectl!, ["--kubeconfig", cluster.kubeconfigPath, "-n", ns, "get", "all", "-o", "name"]);
    const kinds = stdout.trim().split("\n").map((l) => l.split("/")[0]);
    expect(new Set(kinds)).toEqual(new Set(["pod", "replicationcontroller", "service"]));
  });
});
