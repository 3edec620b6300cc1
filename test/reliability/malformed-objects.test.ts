import { status as Code } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Consistency } from "../../gen/kubedriver/v1/server_groups.js";
import { metricsRegistry } from "../../src/observability/metrics.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { call, detailsOf, grpcError } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";
import { aCreateRequest } from "../support/server-groups.js";

// One object kubedriver cannot use (here an RC whose spec annotation was
// edited by hand) is left out and reported; it never turns every reader's
// answer into INTERNAL.
let cluster: TestCluster;
let kd: KubedriverOn;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("malformed");
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] });
}, 60_000);

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sg = () => kd.clients.serverGroups;
const list = (consistency: Consistency) =>
  call(sg().listServerGroups, sg(), { account: "main", namespaces: [ns], application: "", cluster: "", pageSize: 0, pageToken: "", consistency });
const get = (name: string, consistency: Consistency) => call(sg().getServerGroup, sg(), { account: "main", namespace: ns, name, consistency });

async function skipped(reason: string): Promise<number> {
  const text = await metricsRegistry.getSingleMetricAsString("kubedriver_kube_objects_skipped_total");
  const line = text.split("\n").find((l) => l.includes(`account="main"`) && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("an RC of kubedriver's whose spec annotation was edited by hand", () => {
  it("is left out of List and Get, from the view and live, and counted; the other groups are served", async () => {
    const good = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application: "good", targetSize: 0 }))).serverGroup!.name;
    const broken = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application: "broken", targetSize: 0 }))).serverGroup!.name;
    const before = await skipped("unreadable_spec");
    await cluster.core.patchNamespacedReplicationController({
      namespace: ns,
      name: broken,
      body: [{ op: "replace", path: "/metadata/annotations/kubedriver.io~1spec", value: "{not json" }],
    });

    for (const consistency of [Consistency.CONSISTENCY_UNSPECIFIED, Consistency.CONSISTENCY_STRONG]) {
      await eventually(async () => expect((await list(consistency)).serverGroups.map((g) => g.name)).toEqual([good]));
      expect((await get(good, consistency)).serverGroup!.name).toBe(good);
      const err = await grpcError(get(broken, consistency));
      expect(err.code).toBe(Code.NOT_FOUND);
      expect(detailsOf(err)!.errorInfo).toMatchObject({ reason: "SERVER_GROUP_NOT_FOUND", metadata: { account: "main", namespace: ns, name: broken } });
    }
    const live = await grpcError(get(broken, Consistency.CONSISTENCY_STRONG));
    expect(live.details).toContain("its kubedriver.io/spec annotation cannot be read");
    expect(await skipped("unreadable_spec")).toBeGreaterThan(before);
  });
});
