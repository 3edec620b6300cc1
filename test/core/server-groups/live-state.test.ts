import { status as Code, type ClientReadableStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerGroup, TrafficState } from "../../../gen/kubedriver/v1/server_group.js";
import {
  ChangeType,
  Consistency,
  WaitCondition,
  type WatchServerGroupsRequest,
  type WatchServerGroupsResponse,
} from "../../../gen/kubedriver/v1/server_groups.js";
import { Status } from "../../../gen/google/rpc/status.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../../support/cluster.js";
import type { FaultyCluster } from "../../support/faults.js";
import { call, detailsOf, grpcError } from "../../support/grpc.js";
import { startKubedriverBehindFaults, type KubedriverOn } from "../../support/kubedriver.js";
import { aCreateRequest } from "../../support/server-groups.js";

// Reads, streams and waits served from one watch per namespace: counted at the
// API server's door (the emulator's request log, or the fault proxy on a real cluster).
let cluster: TestCluster;
let kd: KubedriverOn & { faulty: FaultyCluster };
let ns: string;
let other: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  [ns, other] = await Promise.all([cluster.createNamespace("live"), cluster.createNamespace("live-other")]);
  await cluster.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: "front" }, spec: { selector: { "load-balancer-front": "true" }, ports: [{ port: 80 }] } },
  });
  kd = await startKubedriverBehindFaults(cluster, {
    accounts: [{ name: "main", namespaces: [ns, other] }],
    options: { liveViews: { backoffMs: 50, maxBackoffMs: 500 } },
  });
}, 60_000);

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sg = () => kd.clients.serverGroups;
const ref = (name: string, namespace = ns) => ({ account: "main", namespace, name, requestId: "" });
const get = (name: string, consistency = Consistency.CONSISTENCY_UNSPECIFIED) => call(sg().getServerGroup, sg(), { ...ref(name), consistency });
const list = (consistency = Consistency.CONSISTENCY_UNSPECIFIED) =>
  call(sg().listServerGroups, sg(), { account: "main", namespaces: [ns], application: "", cluster: "", pageSize: 500, pageToken: "", consistency });
const create = (application: string, targetSize: number, extra = {}) =>
  call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application, targetSize, loadBalancers: ["front"], ...extra }));
const reads = () =>
  ["GET", "LIST"].reduce((n, verb) => n + kd.faulty.requestCount({ verb, resource: "replicationcontrollers" }) + kd.faulty.requestCount({ verb, resource: "pods" }), 0);
const watches = () => kd.faulty.requestCount({ verb: "WATCH", resource: "replicationcontrollers" }) + kd.faulty.requestCount({ verb: "WATCH", resource: "pods" });

/** Every request but watches that reached the API server's door about what server groups are made of (pull secrets are provisioning's). */
const requests = () =>
  ["GET", "LIST", "POST", "PUT", "PATCH", "DELETE"].reduce(
    (n, verb) => n + ["replicationcontrollers", "pods", "horizontalpodautoscalers", "services"].reduce((m, resource) => m + kd.faulty.requestCount({ verb, resource }), 0),
    0,
  );

/** Waits until reads are served from the view: a Get that costs the API server nothing. */
async function viewSynced(name: string) {
  await eventually(async () => {
    const before = reads();
    await get(name);
    expect(reads()).toBe(before);
  });
}

function watch(request: Partial<WatchServerGroupsRequest>) {
  const messages: WatchServerGroupsResponse[] = [];
  const stream: ClientReadableStream<WatchServerGroupsResponse> = sg().watchServerGroups({
    account: "",
    namespaces: [],
    application: "",
    cluster: "",
    name: "",
    ...request,
  });
  stream.on("data", (m: WatchServerGroupsResponse) => messages.push(m));
  const ended = new Promise<{ code: number }>((resolve) => stream.on("error", (e) => resolve(e as never)).on("end", () => resolve({ code: Code.OK })));
  return { stream, messages, ended };
}

/**
 * Replays a stream into the groups it describes, failing on any change that
 * contradicts what came before: an ADDED for a group already there, a
 * MODIFIED or DELETED for one that is not. That is what a lost or repeated
 * change looks like to a subscriber.
 */
function replay(messages: WatchServerGroupsResponse[]): Map<string, ServerGroup> {
  const groups = new Map<string, ServerGroup>();
  expect(messages[0]?.snapshot).toBe(true);
  for (const [i, m] of messages.entries()) {
    expect(m.snapshot).toBe(i === 0);
    for (const c of m.changes) {
      const name = c.serverGroup!.name;
      if (c.type === ChangeType.CHANGE_TYPE_ADDED) expect(groups.has(name), `ADDED ${name} twice`).toBe(false);
      else expect(groups.has(name), `${ChangeType[c.type]} of unknown ${name}`).toBe(true);
      if (c.type === ChangeType.CHANGE_TYPE_DELETED) groups.delete(name);
      else groups.set(name, c.serverGroup!);
    }
  }
  return groups;
}

const summary = (groups: Iterable<ServerGroup>) =>
  [...groups].map((g) => `${g.name} size=${g.targetSize} instances=${g.instances.length} traffic=${TrafficState[g.traffic]}`).sort();

describe("reads from the view", () => {
  it("answers Get and List from memory once synced: no Kubernetes request", async () => {
    await create("mem", 1);
    await viewSynced("mem-v000");
    const before = reads();
    for (let i = 0; i < 20; i++) expect((await get("mem-v000")).serverGroup!.name).toBe("mem-v000");
    for (let i = 0; i < 5; i++) expect((await list()).serverGroups.map((g) => g.name)).toContain("mem-v000");
    expect(reads()).toBe(before);
  });

  it("resizes a group the view holds with one Kubernetes request, the scale itself, and answers from the view", async () => {
    await create("rsz", 1);
    await viewSynced("rsz-v000");
    const before = requests();
    const resized = await call(sg().resizeServerGroup, sg(), { ...ref("rsz-v000"), targetSize: 2 });
    expect(resized.serverGroup!.targetSize).toBe(2);
    expect(requests() - before).toBe(1);
    expect((await get("rsz-v000", Consistency.CONSISTENCY_STRONG)).serverGroup!.targetSize).toBe(2);
  });

  it("reflects this replica's own writes at once (read-your-writes)", async () => {
    await create("ryw", 1);
    await viewSynced("ryw-v000");
    await call(sg().resizeServerGroup, sg(), { ...ref("ryw-v000"), targetSize: 3 });
    expect((await get("ryw-v000")).serverGroup!.targetSize).toBe(3);
    const created = await create("ryw", 0);
    expect((await get(created.serverGroup!.name)).serverGroup!.name).toBe("ryw-v001");
    expect((await list()).serverGroups.map((g) => g.name)).toContain("ryw-v001");
  });

  it("goes to the API server for a STRONG read", async () => {
    await create("strong", 0);
    const before = reads();
    expect((await get("strong-v000", Consistency.CONSISTENCY_STRONG)).serverGroup!.name).toBe("strong-v000");
    expect(reads()).toBeGreaterThan(before);
  });

  it("sees what other tools change, through the watch", async () => {
    await create("outside", 1);
    await viewSynced("outside-v000");
    await cluster.core.patchNamespacedReplicationController({ namespace: ns, name: "outside-v000", body: [{ op: "replace", path: "/spec/replicas", value: 2 }] });
    await eventually(async () => expect((await get("outside-v000")).serverGroup!.targetSize).toBe(2));
  });

  it("answers NOT_FOUND from the view for a group that does not exist", async () => {
    await viewSynced("mem-v000");
    expect((await grpcError(get("absent-v000"))).code).toBe(Code.NOT_FOUND);
  });
});

describe("WatchServerGroups", () => {
  it("sends the current groups, then every change with instances, to every subscriber from one watch per namespace", async () => {
    await create("stream", 1);
    await viewSynced("stream-v000");
    const watchesBefore = watches();
    const subscribers = Array.from({ length: 5 }, () => watch({ account: "main", namespaces: [ns], application: "stream" }));
    await eventually(() => subscribers.forEach((s) => expect(s.messages.length).toBeGreaterThan(0)));
    for (const s of subscribers) expect(summary(replay(s.messages).values())).toEqual([expect.stringMatching(/^stream-v000 size=1/)]);

    await create("stream", 2);
    await call(sg().disableServerGroup, sg(), ref("stream-v000"));
    await call(sg().destroyServerGroup, sg(), ref("stream-v000"));
    const expected = async () => summary((await list(Consistency.CONSISTENCY_STRONG)).serverGroups.filter((g) => g.application === "stream"));
    await eventually(async () => {
      const want = await expected();
      for (const s of subscribers) expect(summary(replay(s.messages).values())).toEqual(want);
      expect(want).toEqual([expect.stringMatching(/^stream-v001 size=2 instances=2/)]);
    }, { timeoutMs: onRealCluster ? 60_000 : 10_000 });
    // Ready instances arrive as changes, too.
    await eventually(async () => {
      for (const s of subscribers) expect(replay(s.messages).get("stream-v001")!.instances.filter((i) => i.ready)).toHaveLength(2);
    }, { timeoutMs: onRealCluster ? 60_000 : 10_000 });
    expect(watches()).toBe(watchesBefore);
    for (const s of subscribers) s.stream.cancel();
  });

  it("filters by one name, and refuses filters that name nothing it can watch", async () => {
    await create("only", 0);
    await create("only", 0);
    const one = watch({ account: "main", namespaces: [ns], name: "only-v001" });
    await eventually(() => expect(one.messages.length).toBeGreaterThan(0));
    expect([...replay(one.messages).keys()]).toEqual(["only-v001"]);
    one.stream.cancel();

    const refused: [Partial<WatchServerGroupsRequest>, Code][] = [
      [{ account: "ghost" }, Code.NOT_FOUND],
      [{ account: "main", namespaces: ["not-managed"] }, Code.FAILED_PRECONDITION],
      [{ namespaces: [ns] }, Code.INVALID_ARGUMENT],
      [{ account: "main", name: "only-v001" }, Code.INVALID_ARGUMENT],
      [{ account: "main", cluster: "Bad_Cluster" }, Code.INVALID_ARGUMENT],
    ];
    for (const [request, code] of refused) {
      const s = watch(request);
      expect((await s.ended).code, JSON.stringify(request)).toBe(code);
      expect(s.messages).toEqual([]);
    }
  });

  it("loses and repeats nothing across dropped connections and API-server failures", async () => {
    const s = watch({ account: "main", namespaces: [ns], application: "faulted" });
    await eventually(() => expect(s.messages.length).toBeGreaterThan(0));
    const names: string[] = [];
    for (let round = 0; round < 3; round++) {
      names.push((await create("faulted", 1)).serverGroup!.name);
      // kubedriver's watches drop and cannot come back for a while (new watches and lists are cut);
      // meanwhile the cluster changes through other connections.
      const cut = kd.faulty.faults.add({ verbs: ["WATCH", "LIST"], reset: true });
      await kd.faulty.refuseConnections(true);
      await kd.faulty.refuseConnections(false);
      await cluster.core.patchNamespacedReplicationController({ namespace: ns, name: names[round]!, body: [{ op: "replace", path: "/spec/replicas", value: 2 }] });
      if (round > 0) await cluster.core.deleteNamespacedReplicationController({ namespace: ns, name: names[round - 1]! });
      // On the emulator, the history is compacted too: the watches resume with 410 Gone and list again.
      if (round === 1) cluster.emulator?.compact();
      await new Promise((r) => setTimeout(r, 300));
      cut();
      const failing = kd.faulty.faults.add({ verbs: ["WATCH", "LIST"], errorRate: 0.5, errorCode: 503 });
      await new Promise((r) => setTimeout(r, 300));
      failing();
    }
    await eventually(async () => {
      const want = summary((await list(Consistency.CONSISTENCY_STRONG)).serverGroups.filter((g) => g.application === "faulted"));
      expect(summary(replay(s.messages).values())).toEqual(want);
      expect(want.map((w) => w.split(" ")[0])).toEqual([names[2]]);
    }, { timeoutMs: onRealCluster ? 60_000 : 15_000 });
    s.stream.cancel();
  });
});

describe("WaitForServerGroup", () => {
  const wait = (name: string, condition: WaitCondition, extra: { upPercent?: number; timeoutMs?: number } = {}) =>
    call(sg().waitForServerGroup, sg(), {
      ...ref(name),
      condition,
      upPercent: extra.upPercent ?? 0,
      timeout: extra.timeoutMs === undefined ? undefined : { seconds: Math.floor(extra.timeoutMs / 1000), nanos: (extra.timeoutMs % 1000) * 1e6 },
    });

  it("returns once the group is UP, then DOWN after a disable, then DESTROYED", async () => {
    const name = (await create("waited", 2)).serverGroup!.name;
    const up = await wait(name, WaitCondition.WAIT_CONDITION_UP);
    expect(up.serverGroup!.instances.filter((i) => i.ready)).toHaveLength(2);
    expect(up.serverGroup!.instances.every((i) => i.serving)).toBe(true);

    const down = wait(name, WaitCondition.WAIT_CONDITION_DOWN);
    await call(sg().disableServerGroup, sg(), ref(name));
    expect((await down).serverGroup!.instances.some((i) => i.serving)).toBe(false);

    const destroyed = wait(name, WaitCondition.WAIT_CONDITION_DESTROYED);
    await call(sg().destroyServerGroup, sg(), ref(name));
    expect((await destroyed).serverGroup).toBeUndefined();
  });

  it("answers DEADLINE_EXCEEDED with the group's last state when the condition does not hold in time", async () => {
    const name = (await create("never", 1)).serverGroup!.name;
    // Nobody destroys it.
    const err = await grpcError(wait(name, WaitCondition.WAIT_CONDITION_DESTROYED, { timeoutMs: 500 }));
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
    expect(detailsOf(err)!.errorInfo!.reason).toBe("CONDITION_NOT_MET");
    const raw = err.metadata!.get("grpc-status-details-bin")[0] as Buffer;
    const last = Status.decode(raw).details.find((d) => d.typeUrl === "type.googleapis.com/kubedriver.v1.ServerGroup");
    expect(ServerGroup.decode(last!.value).name).toBe(name);
  });

  it("refuses a wait without a condition, and a group that does not exist", async () => {
    expect((await grpcError(wait("mem-v000", WaitCondition.WAIT_CONDITION_UNSPECIFIED))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await grpcError(wait("absent-v000", WaitCondition.WAIT_CONDITION_UP, { timeoutMs: 1_000 }))).code).toBe(Code.NOT_FOUND);
  });
});
