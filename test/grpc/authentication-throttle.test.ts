import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { credentials, status as Code, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Account } from "../../src/core/accounts/account.js";
import { AccountRegistry } from "../../src/core/accounts/registry.js";
import { FailureThrottle } from "../../src/core/auth/failure-throttle.js";
import { TokenStore } from "../../src/core/auth/tokens.js";
import { NamespaceMonitor } from "../../src/core/health/monitor.js";
import { authenticator } from "../../src/grpc/authentication.js";
import { CallTracker } from "../../src/grpc/calls.js";
import { namespaceHealthHandlers, NamespaceHealthService } from "../../src/grpc/namespace-health.js";
import type { RunningGrpcServer } from "../../src/grpc/server.js";
import { Logger, silentLogger } from "../../src/observability/logger.js";
import { HealthClient } from "../../gen/kubedriver/v1/health.js";
import { serveAlone } from "../support/grpc-server.js";
import { bearer, call } from "../support/grpc.js";
import { aFakeCluster } from "../core/health/fake-cluster.js";

// Guessing bearer tokens through a real server: the throttle's documented
// delays on real time, only its summary interval shortened to keep the test short.
const validToken = "valid-token-0123456789abcdef";
const wrongToken = "guessed-token-0123456789abc";
const lines: string[] = [];
let dir: string;
let tokens: TokenStore;
let throttle: FailureThrottle;
let monitor: NamespaceMonitor;
let server: RunningGrpcServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubedriver-throttle-"));
  const file = path.join(dir, "tokens.yaml");
  fs.writeFileSync(file, `- {token: ${validToken}, name: dana, groups: [viewers]}\n`, { mode: 0o600 });
  tokens = new TokenStore(file);
  const log = new Logger({ write: (line) => lines.push(line) });
  throttle = new FailureThrottle({ log, summaryIntervalMs: 1_000 });
  const cluster = aFakeCluster({ prod: ["web"] }, 1);
  monitor = new NamespaceMonitor(cluster.accounts, { intervalMs: 3_600_000, timeoutMs: 5_000, concurrency: 4, log: silentLogger });
  const tracker = new CallTracker();
  const deps = { log: silentLogger, tracker, authenticate: authenticator({ tokens, clientCertificates: false, log, throttle }) };
  server = await serveAlone(
    {
      name: "kubedriver.v1.Health",
      definition: NamespaceHealthService,
      implementation: namespaceHealthHandlers(new AccountRegistry([{ name: "prod" } as Account]), monitor, deps),
    },
    { log: silentLogger, tracker },
  );
  monitor.start();
  await monitor.latestRound();
});

afterAll(async () => {
  monitor?.stop();
  throttle?.close();
  tokens?.close();
  await server?.shutdown(100);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A client on its own connection (its own port), as separate callers would be. */
function aClient(): HealthClient {
  return new HealthClient(server.address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
}

async function timed(token: string, client: HealthClient, deadline?: Date): Promise<{ code: Code; ms: number }> {
  const started = performance.now();
  try {
    await call(client.checkNamespaces, client, { accounts: [], namespaces: [], fresh: false }, { metadata: bearer(token), deadline });
    return { code: Code.OK, ms: performance.now() - started };
  } catch (err) {
    return { code: (err as ServiceError).code, ms: performance.now() - started };
  }
}

describe("guessing bearer tokens", () => {
  it("gets slower for the guessing address, in parallel too, while another caller's valid token answers at once", async () => {
    const guessers = Array.from({ length: 5 }, aClient);
    const other = aClient();
    expect((await timed(validToken, other)).code).toBe(Code.OK);
    const windowMs = 3_000;
    const started = performance.now();
    // Guesses still queued when the window closes end on their deadline.
    const deadline = new Date(Date.now() + windowMs);
    const answeredAt: number[] = [];
    const codes = new Set<Code>();
    // 50 guesses in flight at all times, from 5 connections (5 ports) of one address.
    const guessing = Array.from({ length: 50 }, async (_, i) => {
      while (performance.now() - started < windowMs) {
        const { code } = await timed(wrongToken, guessers[i % guessers.length]!, deadline);
        if (performance.now() - started > windowMs) break;
        codes.add(code);
        answeredAt.push(performance.now() - started);
      }
    });
    const valid: { code: Code; ms: number }[] = [];
    while (performance.now() - started < windowMs) {
      valid.push(await timed(validToken, other));
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const c of guessers) c.close();
    other.close();
    await Promise.all(guessing);

    const perSecond = answeredAt.length / (windowMs / 1000);
    console.log(`wrong tokens answered: ${answeredAt.length} in ${windowMs} ms (${perSecond.toFixed(1)}/s); valid: max ${Math.max(...valid.map((v) => v.ms)).toFixed(0)} ms`);
    expect(codes).toEqual(new Set([Code.UNAUTHENTICATED]));
    // Delays 5, 10, 20 … 640, 1000 ms, one after another: 9 answers in the first 3 s, whatever the parallelism.
    expect(answeredAt.length).toBeLessThanOrEqual(10);
    expect(answeredAt[0]).toBeLessThan(500);
    const gaps = answeredAt.slice(1).map((t, i) => t - answeredAt[i]!);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(900);
    expect(valid.length).toBeGreaterThanOrEqual(5);
    expect(valid.every((v) => v.code === Code.OK && v.ms < 250)).toBe(true);
  }, 20_000);

  it("logs a summary line with counts and the address, never the token", async () => {
    const summary = await until(() => lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "authentication failures"));
    expect(summary).toMatchObject({ level: "warn", peers: 1, top: [{ peer: "127.0.0.1", failures: expect.any(Number) }] });
    expect(summary.failures).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(wrongToken);
    expect(lines.join("\n")).not.toContain(validToken);
  });
});

async function until<T>(find: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error("not found in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
