import { status as Code, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Logger } from "../../src/observability/logger.js";
import type { WatchNamespacesResponse } from "../../gen/kubedriver/v1/health.js";
import { Consistency } from "../../gen/kubedriver/v1/server_groups.js";
import { eventually, startTestCluster, type TestCluster } from "../support/cluster.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";
import { startFaultyCluster, type FaultyCluster } from "../support/faults.js";
import { call, grpcError } from "../support/grpc.js";
import { aCreateRequest } from "../support/server-groups.js";

// The API server slow, failing or gone, while unary calls and streams are in
// flight: on the emulator through its fault switches, on a real cluster
// through a fault-injecting proxy in front of kube-apiserver.
let cluster: TestCluster;
let faulty: FaultyCluster;
let kd: KubedriverOn;
let clients: KubedriverOn["clients"];
let a: string;
let b: string;
const lines: string[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  [a, b] = await Promise.all([cluster.createNamespace("fault-a"), cluster.createNamespace("fault-b")]);
  faulty = await startFaultyCluster(cluster);
  kd = await startKubedriverOn(cluster, {
    accounts: [{ name: "flaky", namespaces: [a, b], kubeconfigFile: faulty.kubeconfigPath }],
    kubernetes: "healthCheckIntervalSeconds: 1\n  healthCheckTimeoutSeconds: 1",
    log: new Logger({ level: "debug", write: (line) => lines.push(line) }),
  });
  clients = kd.clients;
}, 60_000);

afterEach(async () => {
  faulty.faults.clear();
  await faulty.refuseConnections(false);
});

afterAll(async () => {
  await kd?.close();
  await faulty?.close();
  await cluster?.close();
});

const sg = () => clients.serverGroups;
// STRONG: these tests are about live calls meeting a failing API server, not about the watch-fed view.
const list = (namespaces: string[] = []) =>
  call(sg().listServerGroups, sg(), { account: "flaky", namespaces, application: "", cluster: "", pageSize: 0, pageToken: "", consistency: Consistency.CONSISTENCY_STRONG });
const rcNames = async (namespace: string) =>
  (await cluster.core.listNamespacedReplicationController({ namespace })).items.map((rc) => rc.metadata!.name!).sort();

/** Collects a WatchNamespaces stream's rounds until cancelled. */
function watch() {
  const rounds: WatchNamespacesResponse[] = [];
  const errors: ServiceError[] = [];
  const stream: ClientReadableStream<WatchNamespacesResponse> = clients.health.watchNamespaces({ accounts: [], namespaces: [] });
  stream.on("data", (r: WatchNamespacesResponse) => rounds.push(r));
  stream.on("error", (e: ServiceError) => e.code !== Code.CANCELLED && errors.push(e));
  const probe = (r: WatchNamespacesResponse, ns: string) => r.round!.probes.find((p) => p.namespace === ns)!;
  return {
    rounds,
    errors,
    /** Waits for a round after the ones seen so far that satisfies `check`. */
    async next(check: (probeOf: (ns: string) => ReturnType<typeof probe>) => boolean, timeoutMs = 20_000) {
      const seen = rounds.length;
      return eventually(
        () => {
          const found = rounds.slice(seen).find((r) => check((ns) => probe(r, ns)));
          if (!found) throw new Error(`no matching round among ${rounds.length - seen} new rounds`);
          return found;
        },
        { timeoutMs, intervalMs: 50 },
      );
    },
    cancel: () => stream.cancel(),
  };
}

/** Times a call that must fail, returning the error and how long it took. */
async function timed(p: Promise<unknown>): Promise<{ err: ServiceError; ms: number }> {
  const started = Date.now();
  const err = await grpcError(p);
  return { err, ms: Date.now() - started };
}

describe("API server failing with 5xx", () => {
  it("fails unary reads fast with UNAVAILABLE naming the account, and recovers without restart", async () => {
    faulty.faults.add({ errorRate: 1, errorCode: 503 });
    const { err, ms } = await timed(list());
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.details).toMatch(/account "flaky".*\(503\)/);
    expect(ms).toBeLessThan(5_000);

    faulty.faults.clear();
    await expect(list()).resolves.toMatchObject({ serverGroups: [] });
  });

  it("absorbs a few failed reads with retries", async () => {
    faulty.faults.add({ errorRate: 1, errorCode: 500, verbs: ["LIST"], times: 2 });
    await expect(list([a])).resolves.toMatchObject({ serverGroups: [] });
  });

  it("reports the failures of one namespace on that namespace only, in unary calls and on the open stream", async () => {
    const stream = watch();
    try {
      await stream.next((p) => p(a).reachable);
      faulty.faults.add({ namespace: a, errorRate: 1, errorCode: 500 });
      const round = await stream.next((p) => !p(a).reachable);
      expect(round.round!.probes.find((p) => p.namespace === a)!.error!.reason).toBe("500 internal server error");
      expect(round.round!.probes.find((p) => p.namespace === b)!.reachable).toBe(true);

      const err = await grpcError(list([a]));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.details).toContain(`account "flaky"`);
      expect(err.details).toContain(`namespace "${a}"`);
      await expect(list([b])).resolves.toMatchObject({ serverGroups: [] });

      faulty.faults.clear();
      await stream.next((p) => p(a).reachable && p(b).reachable);
      expect(stream.errors).toEqual([]);
    } finally {
      stream.cancel();
    }
  }, 40_000);
});

describe("API server slow", () => {
  it("ends a call at its caller's deadline, naming the account, and the stream keeps ticking", async () => {
    const stream = watch();
    try {
      await stream.next((p) => p(a).reachable);
      faulty.faults.add({ namespace: a, latencyMs: 3_000 });
      const { err, ms } = await timed(call(sg().listServerGroups, sg(), { account: "flaky", namespaces: [a], application: "", cluster: "", pageSize: 0, pageToken: "", consistency: Consistency.CONSISTENCY_STRONG }, { deadline: new Date(Date.now() + 500) }));
      expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
      expect(ms).toBeLessThan(2_000);
      // The server side gave up too, instead of outliving its caller.
      await eventually(() => {
        const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.method === "ListServerGroups" && l.code === "DEADLINE_EXCEEDED");
        expect(logged.at(-1)?.durationMs).toBeLessThan(2_000);
        expect(logged.at(-1)?.error).toContain('account "flaky"');
      });

      // Probes time out after healthCheckTimeoutSeconds; rounds go on meanwhile.
      const slow = await stream.next((p) => !p(a).reachable);
      expect(slow.round!.probes.find((p) => p.namespace === a)!.error!.reason).toBe("timeout");
      expect(slow.round!.probes.find((p) => p.namespace === b)!.reachable).toBe(true);
      const later = await stream.next(() => true);
      expect(later.round!.number).toBeGreaterThan(slow.round!.number);
    } finally {
      stream.cancel();
    }
  }, 40_000);
});

describe("API server refusing connections", () => {
  it("fails unary calls with UNAVAILABLE naming the account, the stream reports it, and all recover once it is back", async () => {
    const stream = watch();
    try {
      await stream.next((p) => p(a).reachable);
      await faulty.refuseConnections(true);
      const { err, ms } = await timed(list());
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(err.details).toMatch(/account "flaky".*unreachable \(ECONNREFUSED\)/);
      expect(ms).toBeLessThan(5_000);
      const down = await stream.next((p) => !p(a).reachable && !p(b).reachable);
      expect(down.round!.probes.map((p) => p.error!.reason)).toEqual(["connection refused", "connection refused"]);

      await faulty.refuseConnections(false);
      await stream.next((p) => p(a).reachable && p(b).reachable);
      await expect(list()).resolves.toMatchObject({ serverGroups: [] });
      expect(stream.errors).toEqual([]);
    } finally {
      stream.cancel();
    }
  }, 40_000);
});

describe("mutations interrupted by a fault", () => {
  it("returns the group when a create took effect but its answer was lost", async () => {
    const before = await rcNames(b);
    faulty.faults.add({ namespace: b, verbs: ["POST"], loseResponse: true, times: 1 });
    const res = await call(sg().createServerGroup, sg(), aCreateRequest({ account: "flaky", namespace: b, application: "lost", targetSize: 0 }));
    expect(res.serverGroup!.name).toBe("lost-v000");
    expect(await rcNames(b)).toEqual([...before, "lost-v000"].sort());
  });

  it("says nothing was created when the API server refused the create", async () => {
    const before = await rcNames(b);
    faulty.faults.add({ namespace: b, verbs: ["POST"], errorRate: 1, errorCode: 500, times: 1 });
    const err = await grpcError(call(sg().createServerGroup, sg(), aCreateRequest({ account: "flaky", namespace: b, application: "refused", targetSize: 0 })));
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.details).toContain('account "flaky"');
    expect(err.details).toContain('server group "refused-v000" was not created');
    expect(await rcNames(b)).toEqual(before);
  });

  it("says the outcome is unknown, and how to learn it, when it cannot check", async () => {
    const rcs = ["replicationcontrollers"];
    faulty.faults.add({ namespace: b, verbs: ["POST"], resources: rcs, loseResponse: true, times: 1 });
    faulty.faults.add({ namespace: b, verbs: ["GET"], resources: rcs, errorRate: 1, errorCode: 503 });
    const err = await grpcError(call(sg().createServerGroup, sg(), aCreateRequest({ account: "flaky", namespace: b, application: "unknown", targetSize: 0, requestId: "deploy-42" })));
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(err.details).toContain('server group "unknown-v000" may or may not have been created');

    faulty.faults.clear();
    // As the message says: a retry with the same request_id returns the group, without a second one.
    const retried = await call(sg().createServerGroup, sg(), aCreateRequest({ account: "flaky", namespace: b, application: "unknown", targetSize: 0, requestId: "deploy-42" }));
    expect(retried.serverGroup!.name).toBe("unknown-v000");
    expect((await rcNames(b)).filter((n) => n.startsWith("unknown-"))).toEqual(["unknown-v000"]);
  });
});

describe("after the faults", () => {
  it("never answered INTERNAL or UNKNOWN, and the server still serves", async () => {
    const codes = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "rpc").map((l) => l.code);
    expect(codes).not.toContain("INTERNAL");
    expect(codes).not.toContain("UNKNOWN");
    await expect(list()).resolves.toBeDefined();
  });
});
