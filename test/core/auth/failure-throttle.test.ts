import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FailureThrottle, type FailureThrottleOptions } from "../../../src/core/auth/failure-throttle.js";
import { Logger } from "../../../src/observability/logger.js";

const lines: Record<string, unknown>[] = [];
const log = new Logger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
const throttles: FailureThrottle[] = [];

function aThrottle(options: Partial<FailureThrottleOptions> = {}): FailureThrottle {
  const throttle = new FailureThrottle({ log, now: Date.now, ...options });
  throttles.push(throttle);
  return throttle;
}

/** Fails `n` times from `peer`, each after the previous one was answered, and returns the delays. */
function failSequentially(throttle: FailureThrottle, peer: string, n: number): number[] {
  return Array.from({ length: n }, () => {
    const delay = throttle.failure(peer);
    vi.advanceTimersByTime(delay);
    return delay;
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  lines.length = 0;
});

afterEach(() => {
  throttles.splice(0).forEach((t) => t.close());
  vi.useRealTimers();
});

describe("the failed-credential throttle", () => {
  it("doubles a peer's delay with every failure, from a few milliseconds up to its cap", () => {
    expect(failSequentially(aThrottle(), "10.0.0.1", 11)).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
  });

  it("keeps each peer's delay apart", () => {
    const throttle = aThrottle();
    failSequentially(throttle, "10.0.0.1", 8);
    expect(throttle.failure("10.0.0.2")).toBe(5);
  });

  it("answers concurrent failures from one peer one after another, so guessing in parallel is no faster, and waits at most maxWaitMs", () => {
    const throttle = aThrottle({ maxWaitMs: 2_000 });
    const waits = Array.from({ length: 12 }, () => throttle.failure("10.0.0.1"));
    expect(waits.slice(0, 9)).toEqual([5, 15, 35, 75, 155, 315, 635, 1275, 2000]);
    expect(waits.slice(9)).toEqual([2000, 2000, 2000]);
  });

  it("lowers the delay one step per quiet period and forgets it after a long one", () => {
    const throttle = aThrottle({ decayMs: 5_000 });
    failSequentially(throttle, "10.0.0.1", 6);
    vi.advanceTimersByTime(10_000);
    expect(throttle.failure("10.0.0.1")).toBe(80);
    vi.advanceTimersByTime(60_000);
    expect(throttle.failure("10.0.0.1")).toBe(5);
  });

  it("remembers at most maxPeers peers, forgetting the one whose last failure is oldest", () => {
    const throttle = aThrottle({ maxPeers: 2 });
    failSequentially(throttle, "a", 4);
    failSequentially(throttle, "b", 4);
    failSequentially(throttle, "a", 1);
    failSequentially(throttle, "c", 1);
    expect(throttle.failure("a")).toBe(160);
    expect(throttle.failure("b")).toBe(5);
  });

  it("logs one summary per interval with failures, peers and the busiest peers, and nothing while quiet", () => {
    const throttle = aThrottle({ summaryIntervalMs: 10_000, summaryTopPeers: 2 });
    for (let i = 0; i < 30; i++) throttle.failure("10.0.0.1");
    for (let i = 0; i < 5; i++) throttle.failure("10.0.0.2");
    throttle.failure("10.0.0.3");
    vi.advanceTimersByTime(9_999);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        msg: "authentication failures",
        failures: 36,
        peers: 3,
        top: [
          { peer: "10.0.0.1", failures: 30 },
          { peer: "10.0.0.2", failures: 5 },
        ],
        intervalMs: 10_000,
      }),
    ]);
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(1);
    throttle.failure("10.0.0.2");
    vi.advanceTimersByTime(10_000);
    expect(lines[1]).toMatchObject({ failures: 1, peers: 1, top: [{ peer: "10.0.0.2", failures: 1 }] });
  });

  it("counts forgotten peers in the summary", () => {
    const throttle = aThrottle({ maxPeers: 10 });
    for (let i = 0; i < 25; i++) throttle.failure(`10.0.1.${i}`);
    vi.advanceTimersByTime(10_000);
    expect(lines[0]).toMatchObject({ failures: 25, peers: 10, forgottenPeers: 15 });
  });
});
