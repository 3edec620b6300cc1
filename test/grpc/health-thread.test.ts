import { afterEach, describe, expect, it } from "vitest";
import { CallTracker } from "../../src/grpc/calls.js";
import { startGrpcServer, type RunningGrpcServer } from "../../src/grpc/server.js";
import { silentLogger } from "../../src/observability/logger.js";
import { sampleGrpcHealth } from "../support/overload.js";

// kubelet probes the health-only port from outside the process; here a
// prober thread plays kubelet, so that it keeps calling while this thread's
// event loop is blocked, as a burst of work would block it.

let server: RunningGrpcServer | undefined;

afterEach(async () => {
  await server?.shutdown(100);
  server = undefined;
});

async function serve(stallLimitMs?: number): Promise<RunningGrpcServer> {
  server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    log: silentLogger,
    tracker: new CallTracker(),
    services: [],
    health: { host: "127.0.0.1", port: 0, stallLimitMs },
  });
  return server;
}

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe("the health-only port", () => {
  it("answers SERVING promptly while the main event loop is blocked for 1.5 s", async () => {
    const { healthAddress } = await serve();
    const probes = sampleGrpcHealth(healthAddress!, 20, 1_000);
    await new Promise((r) => setTimeout(r, 300));
    blockEventLoop(1_500);
    await new Promise((r) => setTimeout(r, 300));
    const seen = await probes.stop();
    // Served on the main loop, a check sent during the block would wait for it, past its 1 s deadline.
    expect(seen.latenciesMs.length).toBeGreaterThan(20);
    expect(seen.failures).toEqual([]);
    expect(seen.max).toBeLessThan(500);
  });

  it("answers NOT_SERVING once the main loop has not run for the stall limit, and SERVING again when it runs", async () => {
    const { healthAddress } = await serve(300);
    const probes = sampleGrpcHealth(healthAddress!, 20, 1_000);
    await new Promise((r) => setTimeout(r, 300));
    blockEventLoop(1_500);
    await new Promise((r) => setTimeout(r, 300));
    const { outcomes } = await probes.stop();
    expect(outcomes).toContain("status 2");
    expect(outcomes.at(-1)).toBe("SERVING");
    expect(outcomes.filter((o) => o !== "SERVING" && o !== "status 2")).toEqual([]);
  });

  it("follows the status the server sets", async () => {
    const s = await serve();
    const outcomeNow = async () => {
      const probe = sampleGrpcHealth(s.healthAddress!, 20, 1_000);
      await new Promise((r) => setTimeout(r, 50));
      return (await probe.stop()).outcomes.at(-1);
    };
    s.setHealth("", "NOT_SERVING");
    await expect.poll(outcomeNow).toBe("status 2");
    s.setHealth("", "SERVING");
    await expect.poll(outcomeNow).toBe("SERVING");
  });
});
