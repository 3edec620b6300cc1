import { KubeConfig, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aReplicationController, aSecret } from "../support/fixtures.js";
import { eventually, needsFaultInjection, onRealCluster, startTestCluster, type TestCluster } from "../support/cluster.js";

// Contract tests of watch as an informer uses it (LIST, then WATCH from the
// list's resourceVersion, with selectors, bookmarks and timeouts). They run on
// the emulator and unchanged on a real control plane.
let cluster: TestCluster;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  ns = await cluster.createNamespace("watch");
});
afterAll(() => cluster.close());

interface Seen {
  type: string;
  object: any;
}

/** A running watch: every event it delivered, how it ended, and a way to stop it. */
interface Watching {
  events: Seen[];
  ended: Promise<{ code?: number }>;
  until(check: (events: Seen[]) => boolean, what: string): Promise<Seen[]>;
  stop(): void;
}

async function watch(path: string, params: Record<string, string | number | boolean | undefined>, kc: KubeConfig = cluster.kubeConfig()): Promise<Watching> {
  const events: Seen[] = [];
  let finish!: (r: { code?: number }) => void;
  const ended = new Promise<{ code?: number }>((r) => (finish = r));
  const controller = await new Watch(kc).watch(
    path,
    params,
    (type, object) => events.push({ type, object }),
    (err: { statusCode?: number } | null) => finish({ code: err?.statusCode }),
  );
  return {
    events,
    ended,
    until: (check, what) =>
      eventually(() => {
        if (!check(events)) throw new Error(`watch ${path}: still waiting for ${what}; seen ${JSON.stringify(events.map((e) => [e.type, e.object?.metadata?.name]))}`);
        return events;
      }),
    stop: () => controller.abort(),
  };
}

const named = (name: string) => (e: Seen) => e.object?.metadata?.name === name;

describe("watch from a list's resourceVersion", () => {
  it("delivers the pods an RC creates, their progress to Running and their deletion, in resourceVersion order", async () => {
    const list = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: "app=watched" });
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector: "app=watched", resourceVersion: list.metadata!.resourceVersion, allowWatchBookmarks: true });
    try {
      await cluster.core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "watched", replicas: 2 }) });
      const running = (events: Seen[]) => new Set(events.filter((e) => e.type !== "BOOKMARK" && e.object.status?.phase === "Running").map((e) => e.object.metadata.name)).size;
      await w.until((events) => events.filter((e) => e.type === "ADDED").length === 2 && running(events) === 2, "2 pods ADDED and Running");
      const changes = w.events.filter((e) => e.type !== "BOOKMARK");
      expect(changes[0]!.type).toBe("ADDED");
      expect(changes[0]!.object).toMatchObject({ kind: "Pod", apiVersion: "v1", metadata: { namespace: ns, labels: { app: "watched" } } });
      const versions = changes.map((e) => Number(e.object.metadata.resourceVersion));
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(versions[0]).toBeGreaterThan(Number(list.metadata!.resourceVersion));

      await cluster.core.deleteNamespacedReplicationController({ name: "watched", namespace: ns, body: { propagationPolicy: "Background" } });
      await w.until((events) => events.filter((e) => e.type === "DELETED").length === 2, "2 pods DELETED");
    } finally {
      w.stop();
    }
  }, 90_000);

  it("delivers an RC's status updates as MODIFIED events, and services by label", async () => {
    const rcs = await cluster.core.listNamespacedReplicationController({ namespace: ns });
    const w = await watch(`/api/v1/namespaces/${ns}/replicationcontrollers`, { labelSelector: "app=rc-status", resourceVersion: rcs.metadata!.resourceVersion });
    const s = await watch(`/api/v1/namespaces/${ns}/services`, { labelSelector: "tier=front", resourceVersion: rcs.metadata!.resourceVersion });
    try {
      await cluster.core.createNamespacedReplicationController({ namespace: ns, body: aReplicationController({ name: "rc-status", replicas: 1 }) });
      await cluster.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "other" }, spec: { ports: [{ port: 80 }] } } });
      await cluster.core.createNamespacedService({ namespace: ns, body: { metadata: { name: "front", labels: { tier: "front" } }, spec: { ports: [{ port: 80 }] } } });
      await w.until((events) => events.some((e) => e.type === "MODIFIED" && e.object.status?.readyReplicas === 1), "the RC reporting 1 ready replica");
      expect(w.events[0]).toMatchObject({ type: "ADDED", object: { kind: "ReplicationController", metadata: { name: "rc-status" } } });
      await s.until((events) => events.some(named("front")), "the labelled service");
      expect(s.events.filter((e) => e.type !== "BOOKMARK").map((e) => e.object.metadata.name)).toEqual(["front"]);
      expect(s.events[0]!.object).toMatchObject({ kind: "Service", spec: { clusterIP: expect.any(String) } });
    } finally {
      w.stop();
      s.stop();
    }
  });

  it("replays the writes after an older resourceVersion", async () => {
    const created = await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "replayed", labels: { set: "replay" } }) });
    await cluster.core.patchNamespacedSecret({ name: "replayed", namespace: ns, body: [{ op: "add", path: "/metadata/annotations", value: { touched: "yes" } }] });
    const w = await watch(`/api/v1/namespaces/${ns}/secrets`, { labelSelector: "set=replay", resourceVersion: created.metadata!.resourceVersion });
    try {
      await w.until((events) => events.length >= 1, "the patch");
      expect(w.events[0]).toMatchObject({ type: "MODIFIED", object: { metadata: { name: "replayed", annotations: { touched: "yes" } } } });
    } finally {
      w.stop();
    }
  });
});

describe("watch without a resourceVersion", () => {
  it("sends the current state as ADDED events, then a bookmark marking their end", async () => {
    for (const name of ["initial-a", "initial-b"]) {
      await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name, labels: { set: "initial" } }) });
    }
    const before = await cluster.core.listNamespacedSecret({ namespace: ns });
    const w = await watch(`/api/v1/namespaces/${ns}/secrets`, { labelSelector: "set=initial", allowWatchBookmarks: true });
    try {
      await w.until((events) => events.some((e) => e.type === "BOOKMARK"), "the initial-events-end bookmark");
      expect(w.events.map((e) => [e.type, e.object.metadata.name])).toEqual([
        ["ADDED", "initial-a"],
        ["ADDED", "initial-b"],
        ["BOOKMARK", undefined],
      ]);
      const bookmark = w.events[2]!.object;
      expect(bookmark).toEqual({
        kind: "Secret",
        apiVersion: "v1",
        metadata: { resourceVersion: expect.any(String), annotations: { "k8s.io/initial-events-end": "true" } },
      });
      expect(Number(bookmark.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(before.metadata!.resourceVersion));
    } finally {
      w.stop();
    }
  });

  it("sends no initial events with sendInitialEvents=false and resourceVersion 0, only later writes", async () => {
    await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "old-news", labels: { set: "fresh" } }) });
    const w = await watch(`/api/v1/namespaces/${ns}/secrets`, { labelSelector: "set=fresh", resourceVersion: "0", sendInitialEvents: false, resourceVersionMatch: "NotOlderThan" });
    try {
      await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "news", labels: { set: "fresh" } }) });
      await w.until((events) => events.some(named("news")), "the new secret");
      expect(w.events.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "news"]]);
    } finally {
      w.stop();
    }
  });
});

describe("watch with selectors", () => {
  it("turns an object leaving the selector into DELETED with its previous content, and one entering it into ADDED", async () => {
    const list = await cluster.core.listNamespacedSecret({ namespace: ns, labelSelector: "mood=in" });
    const w = await watch(`/api/v1/namespaces/${ns}/secrets`, { labelSelector: "mood=in", resourceVersion: list.metadata!.resourceVersion });
    try {
      await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "mover", labels: { mood: "in" } }) });
      const out = await cluster.core.patchNamespacedSecret({ name: "mover", namespace: ns, body: [{ op: "replace", path: "/metadata/labels/mood", value: "out" }] });
      await cluster.core.patchNamespacedSecret({ name: "mover", namespace: ns, body: [{ op: "replace", path: "/metadata/labels/mood", value: "in" }] });
      await cluster.core.deleteNamespacedSecret({ name: "mover", namespace: ns });
      await w.until((events) => events.length === 4, "4 events");
      expect(w.events.map((e) => [e.type, e.object.metadata.labels.mood])).toEqual([
        ["ADDED", "in"],
        ["DELETED", "in"],
        ["ADDED", "in"],
        ["DELETED", "in"],
      ]);
      expect(w.events[1]!.object.metadata.resourceVersion).toBe(out.metadata!.resourceVersion);
    } finally {
      w.stop();
    }
  });

  it("watches one object by metadata.name", async () => {
    const list = await cluster.core.listNamespacedSecret({ namespace: ns });
    const w = await watch(`/api/v1/namespaces/${ns}/secrets`, { fieldSelector: "metadata.name=only-me", resourceVersion: list.metadata!.resourceVersion });
    try {
      await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "not-me" }) });
      await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "only-me" }) });
      await w.until((events) => events.length >= 1, "only-me");
      expect(w.events.map((e) => e.object.metadata.name)).toEqual(["only-me"]);
    } finally {
      w.stop();
    }
  });
});

describe("watch lifetime and errors", () => {
  it("ends the stream after timeoutSeconds", async () => {
    const started = Date.now();
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { timeoutSeconds: 1, resourceVersion: "0", sendInitialEvents: false, resourceVersionMatch: "NotOlderThan" });
    await expect(w.ended).resolves.toEqual({ code: undefined });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses sendInitialEvents without resourceVersionMatch=NotOlderThan with 422", async () => {
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { sendInitialEvents: true });
    await expect(w.ended).resolves.toEqual({ code: 422 });
  });

  it("lets the restricted user watch pods but not secrets", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.restrictedKubeconfigPath);
    const pods = await watch(`/api/v1/namespaces/${ns}/pods`, { timeoutSeconds: 1, allowWatchBookmarks: true }, kc);
    await expect(pods.ended).resolves.toEqual({ code: undefined });
    const secrets = await watch(`/api/v1/namespaces/${ns}/secrets`, { timeoutSeconds: 1 }, kc);
    await expect(secrets.ended).resolves.toEqual({ code: 403 });
  });

  it.skipIf(onRealCluster)(`answers a resourceVersion older than the history with one ERROR event, 410 Expired ${needsFaultInjection}`, async () => {
    const first = await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "forgotten" }) });
    await cluster.core.createNamespacedSecret({ namespace: ns, body: aSecret({ name: "remembered" }) });
    cluster.emulator!.compact();
    const w = await watch(`/api/v1/namespaces/${ns}/secrets`, { resourceVersion: first.metadata!.resourceVersion });
    await w.until((events) => events.length > 0, "the ERROR event");
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({
      type: "ERROR",
      object: { kind: "Status", status: "Failure", reason: "Expired", code: 410, message: expect.stringMatching(/^too old resource version: \d+ \(\d+\)$/) },
    });
  });
});
