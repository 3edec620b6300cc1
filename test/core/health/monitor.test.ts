import type { Subscription } from "rxjs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NamespaceMonitor, type LoopUtilization, type MonitorOptions } from "../../../src/core/health/monitor.js";
import type { ProbeRound } from "../../../src/core/health/round.js";
import { Logger } from "../../../src/observability/logger.js";
import { aFakeCluster, namespacesNamed } from "./fake-cluster.js";

const logLines: Record<string, unknown>[] = [];
const log = new Logger({ write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
const monitors: NamespaceMonitor[] = [];
const subscriptions: Subscription[] = [];

/**
 * Fake timers fake `performance` too, so the loop's measured utilization would
 * count virtual time as busy: these monitors see an idle loop unless a test
 * says otherwise.
 */
const idleLoop: LoopUtilization = () => ({ idle: 1_000, active: 0, utilization: 0 });

function aMonitor(cluster: ReturnType<typeof aFakeCluster>, options: Partial<MonitorOptions> = {}): NamespaceMonitor {
  const monitor = new NamespaceMonitor(cluster.accounts, { intervalMs: 30_000, timeoutMs: 5_000, concurrency: 16, log, loopUtilization: idleLoop, ...options });
  monitors.push(monitor);
  return monitor;
}

/** Subscribes to `watch()` and collects what arrives. */
function watcher(monitor: NamespaceMonitor): ProbeRound[] {
  const received: ProbeRound[] = [];
  subscriptions.push(monitor.watch().subscribe((round) => received.push(round)));
  return received;
}

beforeEach(() => {
  vi.useFakeTimers();
  logLines.length = 0;
});

afterEach(() => {
  subscriptions.splice(0).forEach((s) => s.unsubscribe());
  monitors.splice(0).forEach((m) => m.stop());
  vi.useRealTimers();
});

describe("the namespace monitor", () => {
  it("runs a round at start and then one per configured interval", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"] });
    const monitor = aMonitor(cluster, { intervalMs: 30_000 });
    const rounds = watcher(monitor);
    monitor.start();

    await vi.advanceTimersByTimeAsync(100);
    expect(rounds.map((r) => r.number)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(29_800);
    expect(rounds.map((r) => r.number)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(200);
    expect(rounds.map((r) => r.number)).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rounds.map((r) => r.number)).toEqual([1, 2, 3, 4]);
    expect(cluster.probeCount("prod", "web")).toBe(4);
  });

  it("honours a configured interval other than the default", async () => {
    const cluster = aFakeCluster();
    const monitor = aMonitor(cluster, { intervalMs: 5_000 });
    monitor.start();
    await vi.advanceTimersByTimeAsync(20_100);
    expect(cluster.probeCount("prod", "web")).toBe(5);
  });

  it("gives one result per namespace, ordered by account then namespace, numbered by round", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"], dev: ["a"] });
    const monitor = aMonitor(cluster);
    monitor.start();
    await vi.advanceTimersByTimeAsync(100);
    const round = await monitor.latestRound();
    expect(round.probes.map((p) => `${p.account}/${p.namespace}`)).toEqual(["dev/a", "prod/batch", "prod/web"]);
    expect(round.probes[0]).toEqual({
      account: "dev",
      namespace: "a",
      reachable: true,
      latencyMs: expect.any(Number),
      checkedAt: expect.any(Date),
      round: 1,
    });
    expect(round.endedAt.getTime()).toBeGreaterThanOrEqual(round.startedAt.getTime());
  });

  it("delivers the latest completed round at once to a subscriber that comes late, then every later round", async () => {
    const monitor = aMonitor(aFakeCluster());
    monitor.start();
    await vi.advanceTimersByTimeAsync(30_100);

    const late = watcher(monitor);
    expect(late.map((r) => r.number)).toEqual([2]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(late.map((r) => r.number)).toEqual([2, 3]);
  });

  it("delivers the first round as soon as it completes to a subscriber that comes before it", async () => {
    const cluster = aFakeCluster({ prod: ["web"] }, 2_000);
    const monitor = aMonitor(cluster);
    monitor.start();
    const early = watcher(monitor);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(early).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(early.map((r) => r.number)).toEqual([1]);
  });

  it("probes each namespace exactly once per round, however many subscribe", async () => {
    const namespaces = namespacesNamed(20);
    const cluster = aFakeCluster({ prod: namespaces });
    const monitor = aMonitor(cluster);
    const watchers = Array.from({ length: 50 }, () => watcher(monitor));
    monitor.start();
    await vi.advanceTimersByTimeAsync(60_100);

    expect(watchers.every((w) => w.length === 3)).toBe(true);
    expect(cluster.probeCount()).toBe(3 * namespaces.length);
    for (const ns of namespaces) expect(cluster.probeCount("prod", ns)).toBe(3);
  });

  it("keeps no more probes in flight than the configured concurrency", async () => {
    const cluster = aFakeCluster({ prod: namespacesNamed(40) }, 50);
    const monitor = aMonitor(cluster, { concurrency: 4 });
    monitor.start();
    await vi.advanceTimersByTimeAsync(50 * 10 - 1);
    expect(await Promise.race([monitor.latestRound().then(() => "done"), Promise.resolve("pending")])).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(cluster.maxInFlight).toBe(4);
    expect((await monitor.latestRound()).probes).toHaveLength(40);
  });

  it("reports a probe that outlasts the per-probe timeout as `timeout`, aborts it, and does not hold up the rest", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"] });
    cluster.slow("prod", "batch", 60_000);
    const monitor = aMonitor(cluster, { timeoutMs: 5_000 });
    const rounds = watcher(monitor);
    monitor.start();

    await vi.advanceTimersByTimeAsync(4_999);
    expect(rounds).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const [round] = rounds;
    expect(round!.probes.find((p) => p.namespace === "batch")).toMatchObject({
      reachable: false,
      latencyMs: 5_000,
      error: { reason: "timeout", detail: expect.stringContaining('namespace "batch"') },
    });
    expect(round!.probes.find((p) => p.namespace === "web")).toMatchObject({ reachable: true });
    expect(cluster.aborted).toEqual(["prod/batch"]);
  });

  it("shows injected failures on exactly the failing namespaces, and their recovery", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch", "jobs"], dev: ["a"] });
    cluster.fail("prod", "batch", "403 forbidden");
    cluster.fail("dev", "a", "connection refused");
    const monitor = aMonitor(cluster);
    const rounds = watcher(monitor);
    monitor.start();
    await vi.advanceTimersByTimeAsync(100);

    const unreachable = (r: ProbeRound) => r.probes.filter((p) => !p.reachable).map((p) => [p.account, p.namespace, p.error?.reason]);
    expect(unreachable(rounds[0]!)).toEqual([
      ["dev", "a", "connection refused"],
      ["prod", "batch", "403 forbidden"],
    ]);

    cluster.recover("prod", "batch");
    cluster.recover("dev", "a");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(unreachable(rounds[1]!)).toEqual([]);
  });

  it("logs each reachability change once, not on every tick", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"] });
    const monitor = aMonitor(cluster);
    cluster.fail("prod", "batch");
    monitor.start();
    await vi.advanceTimersByTimeAsync(90_100);
    cluster.recover("prod", "batch");
    await vi.advanceTimersByTimeAsync(60_000);

    const changes = logLines.filter((l) => /^namespace /.test(String(l.msg)));
    expect(changes).toEqual([
      expect.objectContaining({ msg: "namespace unreachable", account: "prod", namespace: "batch", reason: "connection refused", round: 1 }),
      expect.objectContaining({ msg: "namespace reachable again", account: "prod", namespace: "batch", round: 5 }),
    ]);
  });

  it("is not serving while an account is entirely unreachable, and serving again once any of its namespaces answers", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"], dev: ["a"] });
    const monitor = aMonitor(cluster);
    const serving: boolean[] = [];
    subscriptions.push(monitor.serving$.subscribe((s) => serving.push(s)));
    cluster.fail("prod", "web");
    monitor.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(serving).toEqual([true]);

    cluster.fail("prod", "batch");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(serving).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(serving).toEqual([true, false]);

    cluster.recover("prod", "batch");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(serving).toEqual([true, false, true]);
    expect(logLines.filter((l) => String(l.msg).startsWith("account "))).toEqual([
      expect.objectContaining({ msg: "account entirely unreachable", account: "prod" }),
      expect.objectContaining({ msg: "account reachable again", account: "prod" }),
    ]);
  });

  it("shares one round between concurrent fresh requests", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"] });
    const monitor = aMonitor(cluster);
    const both = Promise.all([monitor.runRound(), monitor.runRound(), monitor.runRound()]);
    await vi.advanceTimersByTimeAsync(100);
    const [a, b, c] = await both;
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(cluster.probeCount()).toBe(2);

    const next = monitor.runRound();
    await vi.advanceTimersByTimeAsync(100);
    expect((await next).number).toBe(2);
  });

  it("lets a tick that lands during a fresh round join it instead of probing twice", async () => {
    const cluster = aFakeCluster({ prod: ["web"] }, 1_000);
    const monitor = aMonitor(cluster, { intervalMs: 30_000 });
    monitor.start();
    await vi.advanceTimersByTimeAsync(29_500);
    const fresh = monitor.runRound();
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await fresh).number).toBe(2);
    expect(cluster.probeCount()).toBe(2);
  });

  it("starts at most one fresh round per 5 s however often it is asked, and gives the askers in between the latest round", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"], dev: ["a"] });
    const monitor = aMonitor(cluster, { intervalMs: 3_600_000 });
    monitor.start();
    await vi.advanceTimersByTimeAsync(100);
    const numbers: number[] = [];
    // 200 callers one after another, 100 ms apart: 20 s of asking.
    for (let i = 0; i < 200; i++) {
      const round = monitor.freshRound();
      await vi.advanceTimersByTimeAsync(100);
      numbers.push((await round).number);
    }
    expect([...new Set(numbers)]).toEqual([2, 3, 4, 5]);
    expect(numbers.filter((n) => n === 2)).toHaveLength(50);
    expect(cluster.probeCount()).toBe(3 * 5);
  });

  it("lets concurrent fresh askers join the round in flight", async () => {
    const cluster = aFakeCluster({ prod: ["web", "batch"] }, 1_000);
    const monitor = aMonitor(cluster);
    const rounds = Promise.all(Array.from({ length: 200 }, () => monitor.freshRound()));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(new Set((await rounds).map((r) => r.number))).toEqual(new Set([1]));
    expect(cluster.probeCount()).toBe(2);
  });

  it("honours a configured fresh-round interval", async () => {
    const cluster = aFakeCluster({ prod: ["web"] });
    const monitor = aMonitor(cluster, { freshIntervalMs: 1_000 });
    for (let i = 0; i < 30; i++) {
      const round = monitor.freshRound();
      await vi.advanceTimersByTimeAsync(100);
      await round;
    }
    expect(cluster.probeCount()).toBe(3);
  });

  it("completes rounds when there is nothing to probe", async () => {
    const monitor = aMonitor(aFakeCluster({}));
    expect((await monitor.runRound()).probes).toEqual([]);
    expect((await monitor.runRound()).number).toBe(2);
  });

  it("counts subscribers and releases them when they unsubscribe", async () => {
    const monitor = aMonitor(aFakeCluster());
    const a = monitor.watch().subscribe();
    const b = monitor.watch().subscribe();
    expect(monitor.subscriberCount).toBe(2);
    a.unsubscribe();
    b.unsubscribe();
    expect(monitor.subscriberCount).toBe(0);
  });

  it("stops ticking and aborts the probes in flight when stopped", async () => {
    const cluster = aFakeCluster({ prod: ["web"] }, 1_000);
    const monitor = aMonitor(cluster);
    monitor.start();
    await vi.advanceTimersByTimeAsync(500);
    monitor.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(cluster.aborted).toEqual(["prod/web"]);
    expect(cluster.probeCount()).toBe(1);
  });
});

describe("a stalled event loop", () => {
  it("is not taken for a slow API server: an answer waiting when the late timer fires still counts", async () => {
    let answer: (outcome: { reachable: true }) => void = () => {};
    const monitor = new NamespaceMonitor(
      [{ name: "prod", namespaces: ["web"], probe: () => new Promise((resolve) => (answer = resolve)) }],
      { intervalMs: 30_000, timeoutMs: 1_000, concurrency: 1, log, loopUtilization: idleLoop },
    );
    monitors.push(monitor);
    const rounds = watcher(monitor);
    monitor.start();
    await vi.advanceTimersByTimeAsync(10);
    // The loop is blocked for 2 s (a burst of callers): the clock moves on, no timer runs.
    vi.setSystemTime(Date.now() + 2_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rounds).toEqual([]);
    // What arrived in the socket meanwhile is read once the loop turns.
    answer({ reachable: true });
    await vi.advanceTimersByTimeAsync(10);
    expect(rounds.map((r) => r.probes.map((p) => p.reachable))).toEqual([[true]]);
  });

  it("survives a burst that stalls the loop in bouts: each window whose timer fires late gives the answer another", async () => {
    let answer: (outcome: { reachable: true }) => void = () => {};
    let requestTimeoutMs = 0;
    const monitor = new NamespaceMonitor(
      [
        {
          name: "prod",
          namespaces: ["web"],
          probe: (_ns, opts) => {
            requestTimeoutMs = opts.timeoutMs;
            return new Promise((resolve) => (answer = resolve));
          },
        },
      ],
      { intervalMs: 30_000, timeoutMs: 1_000, concurrency: 1, log, loopUtilization: idleLoop },
    );
    monitors.push(monitor);
    const rounds = watcher(monitor);
    monitor.start();
    await vi.advanceTimersByTimeAsync(10);
    for (let bout = 0; bout < 3; bout++) {
      vi.setSystemTime(Date.now() + 2_000);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(rounds).toEqual([]);
    // The request's own timer must not end it first: a stall fires it before its socket is read.
    expect(requestTimeoutMs).toBeGreaterThan(3 * 3_000);
    answer({ reachable: true });
    await vi.advanceTimersByTimeAsync(10);
    expect(rounds.map((r) => r.probes.map((p) => p.reachable))).toEqual([[true]]);
  });

  it("gives an answer more windows while the loop is busy running (not stalled), and times out after the last", async () => {
    let busy = 0.95;
    const monitor = new NamespaceMonitor([{ name: "prod", namespaces: ["web"], probe: () => new Promise(() => {}) }], {
      intervalMs: 30_000,
      timeoutMs: 1_000,
      concurrency: 1,
      log,
      loopUtilization: () => ({ idle: (1 - busy) * 1_000, active: busy * 1_000, utilization: busy }),
    });
    monitors.push(monitor);
    const rounds = watcher(monitor);
    monitor.start();
    await vi.advanceTimersByTimeAsync(3_100);
    expect(rounds).toEqual([]);
    busy = 0.2;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rounds.map((r) => r.probes.map((p) => p.error?.reason))).toEqual([["timeout"]]);
  });

  it("bounds the windows a busy loop gives: five, then a timeout", async () => {
    const monitor = new NamespaceMonitor([{ name: "prod", namespaces: ["web"], probe: () => new Promise(() => {}) }], {
      intervalMs: 30_000,
      timeoutMs: 1_000,
      concurrency: 1,
      log,
      loopUtilization: () => ({ idle: 0, active: 1_000, utilization: 1 }),
    });
    monitors.push(monitor);
    const rounds = watcher(monitor);
    monitor.start();
    await vi.advanceTimersByTimeAsync(4_900);
    expect(rounds).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(rounds.map((r) => r.probes.map((p) => p.error?.reason))).toEqual([["timeout"]]);
  });

  it("still times out a probe that gets no answer", async () => {
    const monitor = new NamespaceMonitor([{ name: "prod", namespaces: ["web"], probe: () => new Promise(() => {}) }], {
      intervalMs: 30_000,
      timeoutMs: 1_000,
      concurrency: 1,
      log,
      loopUtilization: idleLoop,
    });
    monitors.push(monitor);
    const rounds = watcher(monitor);
    monitor.start();
    vi.setSystemTime(Date.now() + 2_000);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(rounds.map((r) => r.probes.map((p) => p.error?.reason))).toEqual([["timeout"]]);
  });
});

describe("an account being provisioned", () => {
  it("is probed once its provisioning is over, or after one probe timeout if it is not", async () => {
    let provisioned: () => void = () => {};
    const probed: [string, number][] = [];
    const start = Date.now();
    const account = (name: string, done: Promise<void>) => ({
      name,
      namespaces: ["web"],
      probe: () => (probed.push([name, Date.now() - start]), Promise.resolve({ reachable: true as const })),
      provisioned: () => done,
    });
    const monitor = new NamespaceMonitor(
      [account("fresh", new Promise<void>((resolve) => (provisioned = resolve))), account("stuck", new Promise<void>(() => {}))],
      { intervalMs: 30_000, timeoutMs: 1_000, concurrency: 4, log },
    );
    monitors.push(monitor);
    const rounds = watcher(monitor);
    monitor.start();
    await vi.advanceTimersByTimeAsync(300);
    expect(probed).toEqual([]);
    provisioned();
    await vi.advanceTimersByTimeAsync(10);
    expect(probed).toEqual([["fresh", 300]]);
    expect(rounds).toEqual([]);
    await vi.advanceTimersByTimeAsync(700);
    expect(probed).toEqual([["fresh", 300], ["stuck", 1_000]]);
    expect(rounds.map((r) => r.probes.map((p) => [p.account, p.reachable]))).toEqual([[["fresh", true], ["stuck", true]]]);
  });
});
