import { status as Code } from "@grpc/grpc-js";
import { AutoscalingV2Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, detailsOf, grpcError } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { aCreateRequest } from "../../support/server-groups.js";

let cluster: TestCluster;
let kd: KubedriverOn;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("hpa");
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] });
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sg = () => kd.clients.serverGroups;
const as = () => kd.clients.autoscalers;
const create = async (application: string) =>
  (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application, targetSize: 1 }))).serverGroup!.name;
const readHpa = (name: string) => cluster.kubeConfig().makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace: ns, name });

describe("Autoscalers", () => {
  it("keeps an HPA targeting the RC, shown by the server group, moved by resize, copied by clone, removed by destroy", async () => {
    const name = await create("scaled");
    const policy = { minSize: 1, maxSize: 4, targetCpuUtilizationPercent: 60 };
    const upserted = await call(as().upsertAutoscaler, as(), { account: "main", namespace: ns, serverGroup: name, policy, requestId: "hpa-1" });
    expect(upserted.serverGroup!.autoscaler).toEqual(policy);
    const hpa = await readHpa(name);
    expect(hpa.spec).toMatchObject({ scaleTargetRef: { kind: "ReplicationController", name, apiVersion: "v1" }, minReplicas: 1, maxReplicas: 4 });

    const resized = await call(sg().resizeServerGroup, sg(), { account: "main", namespace: ns, name, targetSize: 6, requestId: "" });
    expect(resized.serverGroup!.autoscaler).toEqual({ minSize: 6, maxSize: 6, targetCpuUtilizationPercent: 60 });
    expect(resized.serverGroup!.targetSize).toBe(6);

    const clone = (await call(sg().cloneServerGroup, sg(), { account: "main", namespace: ns, source: name, requestId: "", containers: undefined, loadBalancers: undefined, volumes: undefined, labels: undefined, annotations: undefined, nodeSelector: undefined })).serverGroup!;
    expect(clone.autoscaler).toEqual({ minSize: 6, maxSize: 6, targetCpuUtilizationPercent: 60 });
    expect((await readHpa(clone.name)).spec?.scaleTargetRef.name).toBe(clone.name);

    const listed = await call(sg().listServerGroups, sg(), { account: "main", namespaces: [ns], application: "scaled", cluster: "", pageSize: 0, pageToken: "", consistency: 0 });
    expect(listed.serverGroups.map((g) => g.autoscaler?.maxSize)).toEqual([6, 6]);

    await call(sg().destroyServerGroup, sg(), { account: "main", namespace: ns, name, requestId: "" });
    const gone = await readHpa(name).then(
      () => "present",
      (err: { code?: number }) => err.code,
    );
    expect(gone).toBe(404);

    const removed = await call(as().deleteAutoscaler, as(), { account: "main", namespace: ns, serverGroup: clone.name, requestId: "" });
    expect(removed.serverGroup!.autoscaler).toBeUndefined();
    const again = await grpcError(call(as().deleteAutoscaler, as(), { account: "main", namespace: ns, serverGroup: clone.name, requestId: "" }));
    expect(again.code).toBe(Code.NOT_FOUND);
  });

  it("names every problem of a policy", async () => {
    const err = await grpcError(
      call(as().upsertAutoscaler, as(), { account: "main", namespace: ns, serverGroup: "x-v000", policy: { minSize: 0, maxSize: 20_000, targetCpuUtilizationPercent: 0 }, requestId: "" }),
    );
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field)).toEqual(["policy.min_size", "policy.max_size", "policy.target_cpu_utilization_percent"]);
  });
});
