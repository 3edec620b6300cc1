import { status as Code, credentials, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { Account } from "../../../src/core/accounts/account.js";
import { AccountRegistry } from "../../../src/core/accounts/registry.js";
import { NamespaceMonitor } from "../../../src/core/health/monitor.js";
import { CallTracker } from "../../../src/grpc/calls.js";
import { namespaceHealthHandlers, NamespaceHealthService } from "../../../src/grpc/namespace-health.js";
import type { RunningGrpcServer } from "../../../src/grpc/server.js";
import { silentLogger } from "../../../src/observability/logger.js";
import { HealthClient, type WatchNamespacesResponse } from "../../../gen/kubedriver/v1/health.js";
import { serveAlone } from "../../support/grpc-server.js";
import { call, grpcError } from "../../support/grpc.js";
import { aFakeCluster, namespacesNamed } from "./fake-cluster.js";

/** A Health server over fake accounts; rounds run only at start and when asked (the interval is an hour). */
async function aHealthServer(
  accounts: Record<string, string[]> = { prod: ["web", "batch"], dev: ["a"] },
  { latencyMs = 1, concurrency = 16 } = {},
) {
  const cluster = aFakeCluster(accounts, latencyMs);
  const monitor = new NamespaceMonitor(cluster.accounts, { intervalMs: 3_600_000, timeoutMs: 5_000, concurrency, log: silentLogger });
  // The registry only answers "is this account configured, and which namespaces does it manage?" here.
  const registry = new AccountRegistry(Object.entries(accounts).map(([name, namespaces]) => ({ name, namespaces }) as Account));
  const tracker = new CallTracker();
  const server = await serveAlone(
    {
      name: "kubedriver.v1.Health",
      definition: NamespaceHealthService,
      implementation: namespaceHealthHandlers(registry, monitor, { log: silentLogger, tracker }),
    },
    { log: silentLogger, tracker },
  );
  monitor.start();
  const clients: HealthClient[] = [];
  const running = { server, monitor, cluster, clients };
  servers.push(running);
  return {
    ...running,
    /** A client on its own connection, as separate callers would be (grpc-js shares connections otherwise). */
    client() {
      const c = new HealthClient(server.address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
      clients.push(c);
      return c;
    },
  };
}

const servers: { server: RunningGrpcServer; monitor: NamespaceMonitor; clients: { close(): void }[] }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.clients.forEach((c) => c.close());
    s.monitor.stop();
    await s.server.shutdown(100);
  }
});

/** Collects a stream's messages; `next(n)` resolves once `n` have arrived. */
function collect(stream: ClientReadableStream<WatchNamespacesResponse>) {
  const messages: WatchNamespacesResponse[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const ended = new Promise<ServiceError>((resolve) => stream.on("error", resolve));
  stream.on("data", (m: WatchNamespacesResponse) => {
    messages.push(m);
    for (const w of waiters.filter((w) => messages.length >= w.n)) w.resolve();
  });
  return {
    messages,
    ended,
    next: (n: number) => new Promise<void>((resolve) => (messages.length >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("WatchNamespaces", () => {
  it("sends the latest round at once, then every later round, filtered by account and namespace", async () => {
    const h = await aHealthServer();
    await h.monitor.latestRound();
    const all = collect(h.client().watchNamespaces({ accounts: [], namespaces: [] }));
    const prodWeb = collect(h.client().watchNamespaces({ accounts: ["prod"], namespaces: ["web"] }));
    await Promise.all([all.next(1), prodWeb.next(1)]);
    expect(all.messages[0]!.round!.probes.map((p) => `${p.account}/${p.namespace}`)).toEqual(["dev/a", "prod/batch", "prod/web"]);
    expect(prodWeb.messages[0]!.round!.probes.map((p) => `${p.account}/${p.namespace}`)).toEqual(["prod/web"]);

    await h.monitor.runRound();
    await Promise.all([all.next(2), prodWeb.next(2)]);
    expect(all.messages.map((m) => m.round!.number)).toEqual([1, 2]);
    expect(prodWeb.messages[1]).toMatchObject({ round: { number: 2, probes: [{ reachable: true, round: 2 }] }, skippedRounds: 0 });
  });

  it("answers NOT_FOUND for an unknown account before any message", async () => {
    const h = await aHealthServer();
    const stream = collect(h.client().watchNamespaces({ accounts: ["prod", "ghost"], namespaces: [] }));
    const err = await stream.ended;
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(err.details).toContain('account "ghost"');
    expect(stream.messages).toEqual([]);
    expect(h.monitor.subscriberCount).toBe(0);
  });

  it("makes one probe per namespace per round, however many streams watch", async () => {
    const namespaces = namespacesNamed(20);
    const h = await aHealthServer({ prod: namespaces });
    const streams = Array.from({ length: 100 }, (_, i) => collect(h.client().watchNamespaces({ accounts: [], namespaces: i % 2 ? [] : ["ns-001"] })));
    await Promise.all(streams.map((s) => s.next(1)));
    await h.monitor.runRound();
    await h.monitor.runRound();
    await Promise.all(streams.map((s) => s.next(3)));
    expect(h.cluster.probeCount()).toBe(3 * namespaces.length);
  });

  it("releases a cancelled stream", async () => {
    const h = await aHealthServer();
    const streams = [h.client().watchNamespaces({ accounts: [], namespaces: [] }), h.client().watchNamespaces({ accounts: [], namespaces: [] })];
    await Promise.all(streams.map((s) => collect(s).next(1)));
    expect(h.monitor.subscriberCount).toBe(2);
    for (const s of streams) {
      s.on("error", () => {});
      s.cancel();
    }
    await until(() => h.monitor.subscriberCount === 0);
  });

  it("ends every stream with UNAVAILABLE when the server shuts down", async () => {
    const h = await aHealthServer();
    const stream = collect(h.client().watchNamespaces({ accounts: [], namespaces: [] }));
    await stream.next(1);
    await h.server.shutdown(1_000);
    const err = await stream.ended;
    expect(err.code).toBe(Code.UNAVAILABLE);
    expect(h.monitor.subscriberCount).toBe(0);
  });

  it("does not let a slow reader hold back a fast one; the slow one gets the newest round and how many it skipped", async () => {
    // ~8 KB rounds: a reader that stops reading fills its 16-message buffer and its
    // HTTP/2 window within a few dozen rounds, after which the server must conflate.
    const h = await aHealthServer({ prod: namespacesNamed(100, "a-rather-long-namespace-name-to-make-big-messages") }, { latencyMs: 0 });
    await h.monitor.latestRound();
    const slowStream = h.client().watchNamespaces({ accounts: [], namespaces: [] });
    const slow = collect(slowStream);
    const fast = collect(h.client().watchNamespaces({ accounts: [], namespaces: [] }));
    await Promise.all([slow.next(1), fast.next(1)]);
    slowStream.pause();

    const rounds = 60;
    for (let i = 2; i <= rounds; i++) {
      await h.monitor.runRound();
      await fast.next(i);
    }
    expect(fast.messages.map((m) => m.round!.number)).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
    expect(fast.messages.every((m) => m.skippedRounds === 0)).toBe(true);
    expect(slow.messages.length).toBeLessThan(rounds);

    slowStream.resume();
    await until(() => slow.messages.at(-1)?.round?.number === rounds);
    expect(slow.messages.length).toBeLessThan(rounds);
    expect(slow.messages.some((m) => m.skippedRounds > 0)).toBe(true);
    // Every round is either received or counted as skipped, in order.
    const numbers = slow.messages.map((m) => m.round!.number);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(slow.messages.reduce((n, m) => n + 1 + m.skippedRounds, 0)).toBe(rounds);
  });
});

describe("CheckNamespaces", () => {
  it("returns the latest round, filtered, without probing again", async () => {
    const h = await aHealthServer();
    await h.monitor.latestRound();
    const health = h.client();
    const res = await call(health.checkNamespaces, health, { accounts: ["dev"], namespaces: [], fresh: false });
    expect(res.round).toMatchObject({ number: 1, probes: [{ account: "dev", namespace: "a", reachable: true }] });
    expect(h.cluster.probeCount()).toBe(3);
  });

  it("runs one round now for concurrent fresh requests", async () => {
    const h = await aHealthServer();
    await h.monitor.latestRound();
    const health = h.client();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => call(health.checkNamespaces, health, { accounts: [], namespaces: [], fresh: true })),
    );
    expect(new Set(answers.map((a) => a.round!.number))).toEqual(new Set([2]));
    expect(h.cluster.probeCount()).toBe(6);
  });

  it("probes once for 200 fresh requests in a row: fresh rounds are shared and start at most once per 5 s", async () => {
    const h = await aHealthServer();
    await h.monitor.latestRound();
    const health = h.client();
    const numbers = new Set<number>();
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      numbers.add((await call(health.checkNamespaces, health, { accounts: ["prod"], namespaces: [], fresh: true })).round!.number);
    }
    // One fresh round, unless this machine took more than 5 s for the 200 calls.
    const windows = 1 + Math.floor((Date.now() - started) / 5_000);
    expect(numbers.size).toBeLessThanOrEqual(windows);
    expect(h.cluster.probeCount()).toBe(3 * (1 + numbers.size));
  });

  it("answers DEADLINE_EXCEEDED when no round completes before the caller's deadline", async () => {
    const h = await aHealthServer({ prod: ["web"] }, { latencyMs: 3_000 });
    const health = h.client();
    const err = await grpcError(
      call(health.checkNamespaces, health, { accounts: [], namespaces: [], fresh: false }, { deadline: new Date(Date.now() + 200) }),
    );
    expect(err.code).toBe(Code.DEADLINE_EXCEEDED);
  });

  it("answers NOT_FOUND for an unknown account", async () => {
    const h = await aHealthServer();
    const health = h.client();
    const err = await grpcError(call(health.checkNamespaces, health, { accounts: ["ghost"], namespaces: [], fresh: true }));
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(h.cluster.probeCount()).toBe(3);
  });
});
