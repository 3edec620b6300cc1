import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Logger } from "../../src/observability/logger.js";
import { exportFailureReporter, startTracing, tracer, type Tracing } from "../../src/observability/tracing.js";
import { eventually } from "../support/cluster.js";

// A collector that refuses every batch (400: not retried), and the real OTLP/HTTP exporter pointed at it.
let collector: http.Server;
let posts = 0;
let tracing: Tracing | undefined;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    posts++;
    req.resume();
    req.on("end", () => res.writeHead(400, { "content-type": "text/plain" }).end("refused"));
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  const { port } = collector.address() as { port: number };
  // The exporter and the batch processor read these from the process environment themselves.
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/v1/traces`;
  process.env.OTEL_BSP_SCHEDULE_DELAY = "10";
  process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = "1";
  tracing = await startTracing(process.env, new Logger({ write: (line) => lines.push(JSON.parse(line)) }));
});

afterAll(async () => {
  await tracing?.shutdown();
  await new Promise((resolve) => collector.close(resolve));
});

describe("a collector that fails every export", () => {
  it("is reported in one line without a stack, not one per batch", async () => {
    for (let i = 0; i < 5; i++) {
      tracer().startSpan(`span ${i}`).end();
      await eventually(async () => expect(posts).toBeGreaterThan(i));
    }
    // The last batch's failure has reached the handler.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reported = lines.filter((l) => String(l.msg).startsWith("OpenTelemetry"));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ level: "warn", failures: 1 });
    expect(JSON.stringify(reported[0])).not.toMatch(/stack|\bat .*\.js:\d+/);
  });
});

describe("the failure reporter", () => {
  it("says again once a minute, with the failures counted since its last line", () => {
    const out: Record<string, unknown>[] = [];
    let now = 0;
    const report = exportFailureReporter(new Logger({ write: (line) => out.push(JSON.parse(line)) }), 60_000, () => now);
    for (let i = 0; i < 10; i++) report(new Error(`connect ECONNREFUSED 127.0.0.1:4318\n    at stack line ${i}`));
    now = 59_999;
    report(new Error("again"));
    expect(out).toHaveLength(1);
    now = 60_000;
    report(new Error("connect ECONNREFUSED 127.0.0.1:4318"));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ failures: 1 });
    expect(out[1]).toMatchObject({ failures: 11, error: "connect ECONNREFUSED 127.0.0.1:4318" });
    expect(String(out[0]!.error)).not.toContain("\n");
  });
});
