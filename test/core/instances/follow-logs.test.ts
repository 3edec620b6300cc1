import { status as Code, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FollowInstanceLogsRequest, FollowInstanceLogsResponse } from "../../../gen/kubedriver/v1/instances.js";
import { eventually, onRealCluster, startTestCluster, type TestCluster } from "../../support/cluster.js";
import { call, detailsOf, grpcError } from "../../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../../support/kubedriver.js";
import { aContainer, aCreateRequest } from "../../support/server-groups.js";

let cluster: TestCluster;
let kd: KubedriverOn;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("follow");
  kd = await startKubedriverOn(cluster, { accounts: [{ name: "main", namespaces: [ns] }] });
});

afterAll(async () => {
  await kd?.close();
  await cluster?.close();
});

const sg = () => kd.clients.serverGroups;
const inst = () => kd.clients.instances;

/** One running pod of a new server group; its containers are named `web` unless given. */
async function aRunningPod(application: string, containers = [aContainer()]): Promise<string> {
  const name = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application, containers }))).serverGroup!.name;
  return eventually(async () => {
    const g = (await call(sg().getServerGroup, sg(), { account: "main", namespace: ns, name, consistency: 0 })).serverGroup!;
    const ready = g.instances.find((i) => i.ready);
    if (!ready) throw new Error("not ready yet");
    return ready.name;
  });
}

function aFollowRequest(overrides: Partial<FollowInstanceLogsRequest> = {}): FollowInstanceLogsRequest {
  return { account: "main", namespace: ns, name: "", container: "", tailLines: 0, since: undefined, ...overrides };
}

/** A follow stream's messages; `ended` resolves with its final status (OK included). */
function follow(req: FollowInstanceLogsRequest) {
  const stream: ClientReadableStream<FollowInstanceLogsResponse> = inst().followInstanceLogs(req);
  const messages: FollowInstanceLogsResponse[] = [];
  stream.on("data", (m: FollowInstanceLogsResponse) => messages.push(m));
  // OK is the end of the messages ("end", after the last "data"; "status" may come before the reader got them all).
  const ended = new Promise<{ code: Code; error?: ServiceError }>((resolve) => {
    stream.on("error", (error: ServiceError) => resolve({ code: error.code, error }));
    stream.on("end", () => resolve({ code: Code.OK }));
  });
  return { stream, messages, ended, text: () => messages.map((m) => m.content).join("") };
}

/** The request a follow stream fails with before any message. */
async function followError(req: FollowInstanceLogsRequest): Promise<ServiceError> {
  const f = follow(req);
  const { code, error } = await f.ended;
  expect(code).not.toBe(Code.OK);
  expect(f.messages).toEqual([]);
  return error!;
}

const podLogRequestsOpen = (pod: string) => cluster.emulator!.requests.inFlight({ resource: "pods", subresource: "log", name: pod });

// KWOK's fake kubelet serves no logs: for pods/log of a KWOK pod the real API server answers 404
// NotFound ("the server could not find the requested resource"), follow or not. What a container
// writes and how a follow streams it is therefore checked on the emulator's fake kubelet only;
// the refusals below come before any log request and hold on both targets.
describe.skipIf(onRealCluster)("FollowInstanceLogs on the emulator's fake kubelet (KWOK pods have no kubelet to serve logs)", () => {
  it("sends the selected tail, then each write as it comes, and ends OK when the pod is deleted", async () => {
    const pod = await aRunningPod("tail");
    cluster.emulator!.writeLog(ns, pod, "web", "one\ntwo\nthree\n");
    const f = follow(aFollowRequest({ name: pod, tailLines: 2 }));
    await eventually(() => expect(f.text()).toBe("two\nthree\n"));

    cluster.emulator!.writeLog(ns, pod, "web", "four\n");
    await eventually(() => expect(f.text()).toBe("two\nthree\nfour\n"));

    await cluster.core.deleteNamespacedPod({ namespace: ns, name: pod });
    expect((await f.ended).code).toBe(Code.OK);
    expect(f.messages.every((m) => m.droppedBytes === 0)).toBe(true);
    await eventually(() => expect(podLogRequestsOpen(pod)).toBe(0));
  });

  it("starts from the container's first line when tail_lines is 0", async () => {
    const pod = await aRunningPod("whole");
    cluster.emulator!.writeLog(ns, pod, "web", "later\n");
    const f = follow(aFollowRequest({ name: pod }));
    await eventually(() => expect(f.text()).toMatch(/^\S+ container web started \(image [^)]+\)\nlater\n$/));
    f.stream.cancel();
  });

  it("keeps characters whole that the log's chunks split", async () => {
    const pod = await aRunningPod("utf8");
    const f = follow(aFollowRequest({ name: pod, tailLines: 1 }));
    await eventually(() => expect(f.messages.length).toBeGreaterThan(0));
    const before = f.text();
    // Three-byte characters: some chunk of a megabyte must end inside one.
    const written = "€uro ✓ ünïcödé 日本語\n".repeat(40_000);
    cluster.emulator!.writeLog(ns, pod, "web", written);
    await cluster.core.deleteNamespacedPod({ namespace: ns, name: pod });
    expect((await f.ended).code).toBe(Code.OK);
    expect(f.text().includes("\uFFFD")).toBe(false);
    // What a burst this size does not fit in one message may be dropped, but it is counted.
    const dropped = f.messages.reduce((n, m) => n + m.droppedBytes, 0);
    expect(Buffer.byteLength(f.text()) - Buffer.byteLength(before) + dropped).toBe(Buffer.byteLength(written));
    expect(f.text().endsWith(written.slice(-1000))).toBe(true);
  });

  it("stops the Kubernetes log request when the caller cancels", async () => {
    const pod = await aRunningPod("cancel");
    const f = follow(aFollowRequest({ name: pod }));
    await eventually(() => expect(f.messages.length).toBeGreaterThan(0));
    expect(podLogRequestsOpen(pod)).toBe(1);
    f.stream.cancel();
    expect((await f.ended).code).toBe(Code.CANCELLED);
    await eventually(() => expect(podLogRequestsOpen(pod)).toBe(0));
    await eventually(() => expect(kd.app.grpc.activeStreams).toBe(0));
  });

  it("stops the Kubernetes log request when the caller cancels before Kubernetes answered it", async () => {
    const pod = await aRunningPod("hang");
    const undo = cluster.emulator!.faults.add({ namespace: ns, resources: ["pods"], subresources: ["log"], hang: true });
    try {
      const f = follow(aFollowRequest({ name: pod }));
      await eventually(() => expect(podLogRequestsOpen(pod)).toBe(1));
      f.stream.cancel();
      expect((await f.ended).code).toBe(Code.CANCELLED);
      await eventually(() => expect(podLogRequestsOpen(pod)).toBe(0));
      await eventually(() => expect(kd.app.grpc.activeStreams).toBe(0));
    } finally {
      undo();
    }
  });

  it("gives a reader that stops reading the newest text and how much it missed, in messages of at most 64 KiB", async () => {
    const pod = await aRunningPod("slow");
    const f = follow(aFollowRequest({ name: pod, tailLines: 1 }));
    await eventually(() => expect(f.messages.length).toBeGreaterThan(0));
    const first = Buffer.byteLength(f.text());
    f.stream.pause();

    // 4 MiB, far more than the reader's buffer (16 messages) and HTTP/2 window hold, so the server must drop some.
    // Three-byte characters, so that cutting a message to 64 KiB must mind where characters end.
    const line = (i: number) => `${String(i).padStart(8, "0")} ${"€".repeat(339)}\n`;
    const lines = 4 * 1024;
    for (let i = 0; i < lines; i++) cluster.emulator!.writeLog(ns, pod, "web", line(i));
    await cluster.core.deleteNamespacedPod({ namespace: ns, name: pod });
    // The server is done once it has handed its last message to grpc-js: whatever it held is in these messages.
    await eventually(() => expect(kd.app.grpc.activeStreams).toBe(0));
    f.stream.resume();
    expect((await f.ended).code).toBe(Code.OK);

    const dropped = f.messages.reduce((n, m) => n + m.droppedBytes, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(f.messages.every((m) => Buffer.byteLength(m.content) <= 64 * 1024)).toBe(true);
    // Every byte is either received or counted as dropped, and the newest is received.
    expect(f.text().includes("\uFFFD")).toBe(false);
    expect(Buffer.byteLength(f.text()) - first + dropped).toBe(lines * Buffer.byteLength(line(0)));
    expect(f.text().endsWith(line(lines - 1))).toBe(true);
  });
});

describe("FollowInstanceLogs refusals, before any message", () => {
  it("answers NOT_FOUND naming an unknown pod", async () => {
    const err = await followError(aFollowRequest({ name: "nope" }));
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(err.details).toContain('instance "nope"');
    expect(detailsOf(err)?.resourceInfo).toMatchObject({ resourceType: "instance", resourceName: "nope" });
  });

  it("refuses a pod that is not part of a kubedriver server group, as GetInstanceLogs does", async () => {
    await cluster.core.createNamespacedPod({ namespace: ns, body: { metadata: { name: "stranger" }, spec: { containers: [{ name: "c", image: "busybox" }] } } });
    const followed = await followError(aFollowRequest({ name: "stranger" }));
    const read = await grpcError(
      call(inst().getInstanceLogs, inst(), { account: "main", namespace: ns, name: "stranger", container: "", tailLines: 0, since: undefined, limitBytes: 0 }),
    );
    expect(followed.code).toBe(Code.NOT_FOUND);
    expect(followed.details).toContain("not part of a kubedriver server group");
    expect({ code: followed.code, details: followed.details }).toEqual({ code: read.code, details: read.details });
  });

  it("answers NOT_FOUND naming an unknown container", async () => {
    const pod = await aRunningPod("nocontainer");
    const err = await followError(aFollowRequest({ name: pod, container: "nope" }));
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(err.details).toContain('container "nope"');
    expect(detailsOf(err)?.resourceInfo).toMatchObject({ resourceType: "container", resourceName: "nope" });
  });

  it("asks for the container of a pod that has several", async () => {
    const pod = await aRunningPod("two", [aContainer({ name: "web" }), aContainer({ name: "sidecar" })]);
    const err = await followError(aFollowRequest({ name: pod }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)?.fieldViolations).toEqual([expect.objectContaining({ field: "container" })]);
  });

  it("refuses out-of-range tail_lines and a fractional since with field paths", async () => {
    const err = await followError(aFollowRequest({ name: "any", tailLines: -1, since: { seconds: 1, nanos: 5 } }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)?.fieldViolations.map((v) => v.field).sort()).toEqual(["since", "tail_lines"]);
  });
});
