import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, it } from "vitest";
import { replicationControllerFor } from "../../src/core/server-groups/manifest.js";
import { holds } from "../../src/core/server-groups/wait.js";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { Consistency, ListServerGroupsResponse, ServerGroupsService, WaitCondition, type WatchServerGroupsResponse } from "../../gen/kubedriver/v1/server_groups.js";
import { onRealCluster, startTestCluster, type TestCluster } from "../support/cluster.js";
import { startFaultyCluster, type FaultyCluster } from "../support/faults.js";
import { call } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";
import { aCreateRequest } from "../support/server-groups.js";
import { sampleGrpcHealth } from "../support/overload.js";

/**
 * The watch-fed view (issue "Live server-group state"): reads, streams and
 * waits, with Kubernetes requests counted at the API server's door (the
 * emulator's request log, or the fault proxy on a real cluster), side by side
 * with the raw client-node calls they replace, in one run.
 */
let cluster: TestCluster;
let faulty: FaultyCluster;
let kd: KubedriverOn;
let small: string;
let large: string;
const rows: string[] = [];

const spec = (application: string) =>
  ({
    application,
    stack: "",
    detail: "",
    targetSize: 0,
    containers: [{ name: "web", image: "web:1", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }],
    loadBalancers: [],
    volumes: [],
    labels: {},
    annotations: {},
    nodeSelector: {},
  }) as never;

beforeAll(async () => {
  cluster = await startTestCluster();
  [small, large] = await Promise.all([cluster.createNamespace("bench-live"), cluster.createNamespace("bench-live-1000")]);
  // 1,000 groups, created directly so that kubedriver's view starts from a full namespace.
  for (let a = 0; a < 10; a++) {
    const batch = Array.from({ length: 100 }, (_, v) => replicationControllerFor({ ...(spec(`big${a}`) as object) } as never, v, []));
    for (let i = 0; i < batch.length; i += 25) {
      await Promise.all(batch.slice(i, i + 25).map((body) => cluster.core.createNamespacedReplicationController({ namespace: large, body })));
    }
  }
  faulty = await startFaultyCluster(cluster);
  kd = await startKubedriverOn(cluster, {
    accounts: [{ name: "main", namespaces: [small, large], kubeconfigFile: faulty.kubeconfigPath }],
    server: `healthListen: "127.0.0.1:0"`,
  });
}, 600_000);

afterAll(async () => {
  console.log(`\nLive server-group state on ${onRealCluster ? "a real control plane" : "the emulator"}\n${rows.join("\n")}\n`);
  await kd?.close();
  await faulty?.close();
  await cluster?.close();
});

const sg = () => kd.clients.serverGroups;
const requests = () =>
  ["GET", "LIST", "WATCH"].reduce(
    (n, verb) => n + ["replicationcontrollers", "pods", "horizontalpodautoscalers"].reduce((m, resource) => m + faulty.requestCount({ verb, resource }), 0),
    0,
  );

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples;
}

const ms = (x: number) => `${x.toFixed(2)} ms`;

async function untilReady(namespace: string) {
  const view = kd.app.liveViews.view("main", namespace)!;
  while (!view.ready) await view.nextProgress(1_000);
  return view;
}

/** A caller of its own thread (list-caller.mjs) that lists a namespace through kubedriver, or straight from the API server with client-node. */
async function listCaller(side: "kubedriver" | "client-node", pageSize: number, namespace: string, address = kd.app.grpc.address) {
  const caller = new Worker(new URL("./list-caller.mjs", import.meta.url), {
    workerData: { side, pageSize, address, kubeconfigPath: cluster.kubeconfigPath, account: "main", namespace, warmup: 200, rounds: 50 },
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      caller.once("message", resolve);
      caller.once("error", reject);
    });
  await next<"warm">();
  return {
    /** One round of timed lists. */
    round: () => {
      const seen = next<{ items: number; samples: number[] }>();
      caller.postMessage("round");
      return seen;
    },
    close: () => caller.postMessage("close"),
  };
}

describe("the live view", () => {
  it("GetServerGroup warm", async () => {
    const name = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: small, application: "get", targetSize: 0 }))).serverGroup!.name;
    await untilReady(small);
    const get = () => call(sg().getServerGroup, sg(), { account: "main", namespace: small, name, consistency: Consistency.CONSISTENCY_UNSPECIFIED });
    await time(500, get);
    const before = requests();
    const ours = await time(2_000, get);
    const perCall = (requests() - before) / 2_000;
    const strong = await time(100, () => call(sg().getServerGroup, sg(), { account: "main", namespace: small, name, consistency: Consistency.CONSISTENCY_STRONG }));
    rows.push(`GetServerGroup warm                 view p50 ${ms(percentile(ours, 50))} p99 ${ms(percentile(ours, 99))} | STRONG p50 ${ms(percentile(strong, 50))} | k8s requests/RPC ${perCall}`);
  });

  it("ListServerGroups over 1,000 groups vs the raw labelled list it replaces", async () => {
    await untilReady(large);
    // Counted here, where nothing else calls the API server: the caller threads below also list it directly.
    const before = requests();
    for (let i = 0; i < 20; i++) {
      let token = "";
      do {
        const page = await call(sg().listServerGroups, sg(), {
          account: "main", namespaces: [large], application: "", cluster: "", pageSize: 500, pageToken: token, consistency: Consistency.CONSISTENCY_UNSPECIFIED,
        });
        token = page.nextPageToken;
      } while (token);
    }
    const perCall = (requests() - before) / 40;
    // The floor: a bare grpc-js server answering every List with the same bytes kubedriver sends for the one page.
    const answer = Buffer.from(
      ListServerGroupsResponse.encode(
        await call(sg().listServerGroups, sg(), { account: "main", namespaces: [large], application: "", cluster: "", pageSize: 1_000, pageToken: "", consistency: Consistency.CONSISTENCY_UNSPECIFIED }),
      ).finish(),
    );
    const bare = new Server();
    bare.addService({ list: { ...ServerGroupsService.listServerGroups, responseSerialize: (b: Buffer) => b } }, { list: (_call: unknown, done: (err: null, b: Buffer) => void) => done(null, answer) });
    const barePort = await new Promise<number>((resolve, reject) => bare.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
    const sides = {
      "one page": { caller: await listCaller("kubedriver", 1_000, large), samples: [] as number[] },
      "pages of 500": { caller: await listCaller("kubedriver", 500, large), samples: [] as number[] },
      "client-node": { caller: await listCaller("client-node", 0, large), samples: [] as number[] },
      "bare server": { caller: await listCaller("kubedriver", 1_000, large, `127.0.0.1:${barePort}`), samples: [] as number[] },
    };
    // Rounds alternated, so that no side gets a quieter machine than the
    // others; each starts from a collected heap (the emulator serves from this one).
    for (let round = 0; round < 4; round++) {
      for (const [side, { caller, samples }] of Object.entries(sides)) {
        (globalThis as { gc?: () => void }).gc?.();
        const seen = await caller.round();
        if (seen.items !== 1_000) throw new Error(`${side} listed ${seen.items} of 1,000`);
        samples.push(...seen.samples);
      }
    }
    for (const { caller } of Object.values(sides)) caller.close();
    bare.forceShutdown();
    const [one, paged, direct, floor] = Object.values(sides).map((s) => percentile(s.samples, 50));
    rows.push(
      `ListServerGroups, 1,000 groups      view p50 ${ms(one!)} (one page), ${ms(paged!)} (pages of 500) | raw client-node list p50 ${ms(direct!)} | ratio ${(one! / direct!).toFixed(3)}, ${(paged! / direct!).toFixed(3)} | k8s requests/RPC ${perCall} (callers on threads of their own, ${sides["one page"].samples.length} lists each) | floor, the same bytes from a bare grpc-js server, p50 ${ms(floor!)}`,
    );
  });

  it("1,000 concurrent Lists over 100 groups: grpc.health.v1 meanwhile", async () => {
    await untilReady(large);
    // Sampled where kubelet probes it, the health-only port (a thread of its own), and, for the record, on the API port.
    const health = sampleGrpcHealth(kd.app.grpc.healthAddress!, 20);
    const onApiPort = sampleGrpcHealth(kd.app.grpc.address, 20);
    const list = () => call(sg().listServerGroups, sg(), {
      account: "main", namespaces: [large], application: "big0", cluster: "", pageSize: 500, pageToken: "", consistency: Consistency.CONSISTENCY_UNSPECIFIED,
    });
    const t = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 1_000 }, list));
    const wall = performance.now() - t;
    const [samples, api] = await Promise.all([health.stop(), onApiPort.stop()]);
    const ok = results.filter((r) => r.status === "fulfilled").length;
    rows.push(
      `1,000 concurrent Lists (100 groups) ${ok} OK, ${1_000 - ok} refused, all in ${ms(wall)} | grpc.health.v1 on the probe port p50 ${ms(samples.p50)} p99 ${ms(samples.p99)} max ${ms(samples.max)} (${samples.latenciesMs.length} samples, ${samples.failures.length} failed); on the API port p99 ${ms(api.p99)}`,
    );
  });

  it("WatchServerGroups: 1,000 subscribers from one watch per namespace", async () => {
    const view = await untilReady(small);
    const watchesBefore = faulty.requestCount({ verb: "WATCH", resource: "replicationcontrollers" }) + faulty.requestCount({ verb: "WATCH", resource: "pods" });
    const delays: number[] = [];
    let emittedAt = 0;
    const sub = view.changes.subscribe((c) => {
      if (c.group.spec.application === "fan") emittedAt = performance.now();
    });
    let pending = 0;
    let allSeen: () => void = () => {};
    const streams = Array.from({ length: 1_000 }, () => {
      const s = sg().watchServerGroups({ account: "main", namespaces: [small], application: "fan", cluster: "", name: "" });
      s.on("data", (m: WatchServerGroupsResponse) => {
        if (m.snapshot || m.changes.length === 0) return;
        delays.push(performance.now() - emittedAt);
        if (--pending === 0) allSeen();
      });
      s.on("error", () => {});
      return s;
    });
    await new Promise((r) => setTimeout(r, 3_000));
    for (let round = 0; round < 5; round++) {
      pending = streams.length;
      const seen = new Promise<void>((r) => (allSeen = r));
      await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: small, application: "fan", targetSize: 0 }));
      await Promise.race([seen, new Promise((r) => setTimeout(r, 10_000))]);
    }
    const watchesAfter = faulty.requestCount({ verb: "WATCH", resource: "replicationcontrollers" }) + faulty.requestCount({ verb: "WATCH", resource: "pods" });
    for (const s of streams) s.cancel();
    sub.unsubscribe();
    rows.push(
      `WatchServerGroups, 1,000 streams    delivery after our watch event p50 ${ms(percentile(delays, 50))} p99 ${ms(percentile(delays, 99))} (${delays.length} deliveries) | Kubernetes watches opened meanwhile ${watchesAfter - watchesBefore}`,
    );
  });

  it("WaitForServerGroup UP after the last pod becomes ready", async () => {
    const view = await untilReady(small);
    const lags: number[] = [];
    for (let i = 0; i < 10; i++) {
      const name = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: small, application: "up", targetSize: 3 }))).serverGroup!.name;
      let upAt = 0;
      const sub = view.changes.subscribe((c) => {
        if (c.group.name === name && !upAt && holds("up", c.group)) upAt = performance.now();
      });
      await call(sg().waitForServerGroup, sg(), { account: "main", namespace: small, name, condition: WaitCondition.WAIT_CONDITION_UP, upPercent: 0, timeout: { seconds: 60, nanos: 0 } });
      const answeredAt = performance.now();
      sub.unsubscribe();
      if (upAt) lags.push(answeredAt - upAt);
    }
    rows.push(`WaitForServerGroup UP               answer after the view saw the last pod ready p50 ${ms(percentile(lags, 50))} p99 ${ms(percentile(lags, 99))} (${lags.length} groups of 3)`);
  });

  it("heap per 1,000 cached groups with 3 pods each", async () => {
    const ns = await cluster.createNamespace("bench-heap");
    for (let i = 0; i < 1_000; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, j) =>
          cluster.core.createNamespacedReplicationController({ namespace: ns, body: replicationControllerFor({ ...(spec(`heap${Math.floor((i + j) / 100)}`) as object), targetSize: 3 } as never, (i + j) % 100, []) }),
        ),
      );
    }
    // The emulator runs in this process: its store must be done growing (3,000 pods made and running) before the heap is read.
    const settled = Date.now() + 300_000;
    const running = async () => (await cluster.core.listNamespacedPod({ namespace: ns })).items.filter((p) => p.status?.phase === "Running").length;
    while (Date.now() < settled && (await running()) < 3_000) await new Promise((r) => setTimeout(r, 500));
    const { NamespaceView } = await import("../../src/core/server-groups/live-view.js");
    const account = { ...kd.app.liveViews.view("main", small)!.account, namespaces: [ns] };
    const gc = (globalThis as { gc?: () => void }).gc;
    let view: InstanceType<typeof NamespaceView> | undefined = new NamespaceView(account, ns);
    view.start();
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline && !(view.ready && view.list().length === 1_000 && view.list().every((g) => g.instances.length === 3))) await view.nextProgress(1_000);
    const [groups, pods] = [view.list().length, view.list().reduce((n, g) => n + g.instances.length, 0)];
    gc?.();
    const held = process.memoryUsage().heapUsed;
    // What the view holds is what its release frees: measured that way, the heap the emulator (in this process) or earlier rows hold does not count.
    await view.close();
    view = undefined;
    gc?.();
    const released = held - process.memoryUsage().heapUsed;
    rows.push(`heap, 1,000 groups x 3 pods         ${(released / 1024 / 1024).toFixed(1)} MiB freed by releasing the view (${groups} groups, ${pods} pods${gc ? "" : "; no --expose-gc, so garbage included"})`);
  });
});
