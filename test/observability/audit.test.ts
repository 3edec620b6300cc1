import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloneServerGroupRequest } from "../../gen/kubedriver/v1/server_groups.js";
import { Logger } from "../../src/observability/logger.js";
import { subjectOf } from "../../src/observability/rpc.js";
import { startTestCluster, type TestCluster } from "../support/cluster.js";
import { call, grpcError } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";
import { aContainer, aCreateRequest } from "../support/server-groups.js";

let cluster: TestCluster;
let kd: KubedriverOn;
let namespace: string;
const lines: Record<string, unknown>[] = [];
const rpcLine = (method: string) => lines.filter((l) => l.msg === "rpc" && l.method === method).at(-1);

beforeAll(async () => {
  cluster = await startTestCluster();
  namespace = await cluster.createNamespace("audit");
  kd = await startKubedriverOn(cluster, {
    accounts: [{ name: "main", namespaces: [namespace] }],
    kubernetes: "healthCheckIntervalSeconds: 3600",
    log: new Logger({ write: (line) => lines.push(JSON.parse(line)) }),
  });
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

describe("the rpc log line as an audit trail", () => {
  it("names the account, namespace, created object and request id of a create, never its spec", async () => {
    const container = aContainer({ env: [{ name: "DB_PASSWORD", value: "env-value-never-logged" }] });
    const { serverGroup } = await call(kd.clients.serverGroups.createServerGroup, kd.clients.serverGroups, {
      ...aCreateRequest({ account: "main", namespace, application: "audit", containers: [container], targetSize: 0 }),
      requestId: "create-audit-1",
    });
    const line = rpcLine("CreateServerGroup");
    expect(line).toMatchObject({ account: "main", namespace, name: serverGroup!.name, requestId: "create-audit-1", code: "OK" });
    expect(JSON.stringify(line)).not.toContain("env-value-never-logged");
    expect(JSON.stringify(line)).not.toContain(container.image);

    await call(kd.clients.serverGroups.resizeServerGroup, kd.clients.serverGroups, {
      account: "main", namespace, name: serverGroup!.name, targetSize: 2, requestId: "resize-audit-1",
    });
    expect(rpcLine("ResizeServerGroup")).toMatchObject({ account: "main", namespace, name: serverGroup!.name, requestId: "resize-audit-1", code: "OK" });

    const { serverGroup: clone } = await call(kd.clients.serverGroups.cloneServerGroup, kd.clients.serverGroups, {
      ...CloneServerGroupRequest.fromPartial({ account: "main", namespace, source: serverGroup!.name, targetSize: 0, requestId: "clone-audit-1" }),
    });
    expect(rpcLine("CloneServerGroup")).toMatchObject({ source: serverGroup!.name, name: clone!.name, requestId: "clone-audit-1", code: "OK" });
  });

  it("names the objects and the outcome of a mutation that fails", async () => {
    const err = await grpcError(
      call(kd.clients.serverGroups.destroyServerGroup, kd.clients.serverGroups, { account: "main", namespace, name: "audit-v999", requestId: "destroy-audit-1" }),
    );
    expect(rpcLine("DestroyServerGroup")).toMatchObject({ account: "main", namespace, name: "audit-v999", requestId: "destroy-audit-1", code: status[err.code] });

    // Whether it answers per pod or refuses, the line says which pods were asked for.
    await call(kd.clients.instances.terminateInstances, kd.clients.instances, { account: "main", namespace, names: ["pod-a", "pod-b"], requestId: "term-1" }).catch(
      () => undefined,
    );
    expect(rpcLine("TerminateInstances")).toMatchObject({ account: "main", namespace, names: ["pod-a", "pod-b"], requestId: "term-1" });
  });
});

describe("what a request names", () => {
  it("bounds every value and lists at most 20 names, with their count", () => {
    const subject = subjectOf({ account: "a".repeat(10_000), names: Array.from({ length: 500 }, (_, i) => `pod-${i}`), spec: { secret: "x" } });
    expect((subject.account as string).length).toBe(253);
    expect(subject.names).toHaveLength(20);
    expect(subject.namesCount).toBe(500);
    expect(Object.keys(subject).sort()).toEqual(["account", "names", "namesCount"]);
  });

  it("takes a created object's name from the answer only when the request names none", () => {
    expect(subjectOf({ account: "a" }, { serverGroup: { name: "web-v001", spec: {} } })).toEqual({ account: "a", name: "web-v001" });
    expect(subjectOf({ account: "a", serverGroup: "web-v001" }, { serverGroup: { name: "web-v001" } })).toEqual({ account: "a", serverGroup: "web-v001" });
  });
});
