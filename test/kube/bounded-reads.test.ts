import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { findKubedriverError } from "../../src/common/errors.js";
import { KubeClient } from "../../src/kube/client.js";
import { listAt } from "../../src/kube/kinds.js";
import { readPodLog } from "../../src/kube/pod-logs.js";
import { podKind } from "../../src/kube/pods.js";
import { Reflector } from "../../src/kube/reflector.js";
import { metricsRegistry } from "../../src/observability/metrics.js";

// A hostile API server: answers without end, lines without end, watches that
// stay open and silent. What kubedriver reads of it stays bounded, and the
// bytes it sent before kubedriver cut the connection say so.

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler;
let server: http.Server;
let url: string;
/** Bytes the server wrote on the current test's response before its connection closed. */
let written = { bytes: 0 };

beforeAll(async () => {
  server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  server.closeAllConnections();
  vi.useRealTimers();
});

afterAll(() => server.close());

const limits = { maxResponseBytes: 1024 * 1024, maxWatchLineBytes: 64 * 1024 };

function client(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient("hostile", kc, { requestTimeoutMs: 10_000, readRetries: 0, readLimits: limits });
}

/** Writes `chunk` again and again until the client goes away (or `max` bytes), counting what was written. */
function flood(res: http.ServerResponse, first: string, chunk: string, max = 512 * 1024 * 1024): void {
  const mine = (written = { bytes: 0 });
  const pump = () => {
    while (!res.destroyed && mine.bytes < max) {
      const piece = mine.bytes === 0 ? first : chunk;
      mine.bytes += Buffer.byteLength(piece);
      if (!res.write(piece)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

/** Resolves once the server's response has been cut by the client, with what it had sent by then. */
async function sentBeforeTheCut(): Promise<number> {
  const before = written.bytes;
  await new Promise((r) => setTimeout(r, 50));
  // A response that still grows was not cut.
  expect(written.bytes).toBe(before);
  return written.bytes;
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    return findKubedriverError(err);
  }
  throw new Error("expected the call to fail");
}

async function counted(name: string, labels: Record<string, string>): Promise<number> {
  const text = await metricsRegistry.getSingleMetricAsString(name);
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.split(" ").pop()) : 0;
}

const filler = `{"metadata":{"name":"${"x".repeat(200)}"}},`;

describe("answers of a hostile API server", () => {
  it("fail a list past the bound, UNAVAILABLE naming the account, and are not read further", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      flood(res, `{"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[`, filler.repeat(50));
    };
    const before = await counted("kubedriver_kube_oversized_reads_total", { account: "hostile", resource: "pods", what: "answer" });
    const err = await failure(listAt(client(), podKind, "web", undefined));
    expect(err).toMatchObject({ kind: "Unavailable", reason: "RESPONSE_TOO_LARGE", metadata: { account: "hostile", namespace: "web" } });
    expect(err!.message).toContain(`account "hostile"`);
    // What was sent before the cut: the bound and what the sockets buffered, not the 512 MiB on offer.
    expect(await sentBeforeTheCut()).toBeLessThan(limits.maxResponseBytes + 8 * 1024 * 1024);
    expect(await counted("kubedriver_kube_oversized_reads_total", { account: "hostile", resource: "pods", what: "answer" })).toBe(before + 1);
  });

  it("refuse an answer whose Content-Length is past the bound before reading its body", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(300 * 1024 * 1024) });
      flood(res, `{"kind":"PodList","items":[`, filler.repeat(50), 300 * 1024 * 1024);
    };
    const err = await failure(listAt(client(), podKind, "web", undefined));
    expect(err).toMatchObject({ kind: "Unavailable", reason: "RESPONSE_TOO_LARGE" });
    expect(await sentBeforeTheCut()).toBeLessThan(8 * 1024 * 1024);
  });

  it("give the head of a log that ignores limitBytes, and read no further", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      flood(res, "line 0\n", "another line of a log without end\n".repeat(100));
    };
    const text = await readPodLog(client(), "web", "web-v000-abcde", { container: "web", limitBytes: 1001 }, { readAtMost: 1001 });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1001 + 2);
    expect(text.startsWith("line 0\nanother line")).toBe(true);
    expect(await sentBeforeTheCut()).toBeLessThan(8 * 1024 * 1024);
  });
});

describe("watches of a hostile API server", () => {
  const watch = (kube: KubeClient, onEvent: (type: string, object: unknown) => void = () => {}) =>
    kube.watch({ verb: "watch", kind: "pods", namespace: "web" }, "/api/v1/namespaces/web/pods", {}, onEvent, new AbortController().signal);

  it("end a watch whose line runs past the bound, keeping none of it", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      flood(res, `{"type":"ADDED","object":{"metadata":{"name":"`, "y".repeat(16 * 1024));
    };
    const before = await counted("kubedriver_kube_oversized_reads_total", { account: "hostile", resource: "pods", what: "watch_event" });
    const err = await failure(watch(client()));
    expect(err).toMatchObject({ kind: "Unavailable", reason: "RESPONSE_TOO_LARGE" });
    expect(await sentBeforeTheCut()).toBeLessThan(limits.maxWatchLineBytes + 8 * 1024 * 1024);
    expect(await counted("kubedriver_kube_oversized_reads_total", { account: "hostile", resource: "pods", what: "watch_event" })).toBe(before + 1);
  });

  it("skip and count a line that is not an event, and go on with the next", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("<html>not an event</html>\n");
      res.end(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: "p", resourceVersion: "2" } } })}\n`);
    };
    const before = await counted("kubedriver_kube_objects_skipped_total", { account: "hostile", resource: "pods", reason: "unreadable_watch_line" });
    const events: string[] = [];
    expect(await watch(client(), (type, object) => events.push(`${type} ${(object as { metadata: { name: string } }).metadata.name}`))).toBe("ended");
    expect(events).toEqual(["ADDED p"]);
    expect(await counted("kubedriver_kube_objects_skipped_total", { account: "hostile", resource: "pods", reason: "unreadable_watch_line" })).toBe(before + 1);
  });

  it("are taken for broken when they send nothing, not an event nor a bookmark, for the silence bound: the view lists again", async () => {
    const requests: string[] = [];
    handler = (req, res) => {
      const watching = req.url?.includes("watch=true") ?? false;
      requests.push(watching ? "WATCH" : "LIST");
      res.writeHead(200, { "content-type": "application/json" });
      // The watch answers 200 and then holds the connection open without a word.
      if (watching) return res.flushHeaders();
      res.end(JSON.stringify({ kind: "PodList", metadata: { resourceVersion: String(requests.length) }, items: [] }));
    };
    const seen: string[] = [];
    const reflector = new Reflector(
      { client: client(), kind: podKind, namespace: "web", labelSelector: "" },
      {
        replace: (_items, version) => seen.push(`replace ${version}`),
        change: () => seen.push("change"),
        progress: () => seen.push("progress"),
        connected: (up) => seen.push(up ? "up" : "down"),
      },
      { maxSilenceMs: 200, backoffMs: 1, maxBackoffMs: 1 },
    );
    reflector.start();
    try {
      await vi.waitFor(() => expect(seen.filter((s) => s.startsWith("replace")).length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
      expect(seen.slice(0, 4)).toEqual(["replace 1", "up", "down", "replace 3"]);
      expect(requests.slice(0, 4)).toEqual(["LIST", "WATCH", "LIST", "WATCH"]);
    } finally {
      await reflector.close();
    }
  });
});
