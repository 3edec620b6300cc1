// The attacking clients of the overload scenarios, on a thread of their own:
// as in the real attack, their CPU is not kubedriver's, so grpc.health.v1
// latency measured on the main thread is the server's. Plain JavaScript, as
// worker threads do not go through the test transform; requests come
// pre-encoded and answers are only counted.
import http2 from "node:http2";
import { parentPort, workerData } from "node:worker_threads";
import grpc from "@grpc/grpc-js";

const { kind, address, path, request } = workerData;
const body = Buffer.from(request);

async function lists({ n, channels, deadlineMs }) {
  const clients = Array.from({ length: channels }, () => new grpc.Client(address, grpc.credentials.createInsecure()));
  const codes = {};
  const latencies = [];
  let refusedWithoutRetryInfo = 0;
  await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const started = performance.now();
      return new Promise((resolve) =>
        clients[i % channels].makeUnaryRequest(path, (b) => b, (b) => b.length, body, { deadline: new Date(Date.now() + deadlineMs) }, (err) => {
          const name = err ? (grpc.status[err.code] ?? "UNKNOWN") : "OK";
          codes[name] = (codes[name] ?? 0) + 1;
          if (err?.code === grpc.status.RESOURCE_EXHAUSTED && !hasRetryInfo(err)) refusedWithoutRetryInfo++;
          latencies.push(performance.now() - started);
          resolve();
        }),
      );
    }),
  );
  for (const c of clients) c.close();
  latencies.sort((a, b) => a - b);
  return { codes, p50: percentile(latencies, 50), p99: percentile(latencies, 99), refusedWithoutRetryInfo };
}

/** RetryInfo's type URL inside grpc-status-details-bin. */
function hasRetryInfo(err) {
  const raw = err.metadata?.get("grpc-status-details-bin")[0];
  return Buffer.isBuffer(raw) && raw.includes("google.rpc.RetryInfo");
}

async function resetBurst({ connections, perConnection }) {
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const session = http2.connect(`http://${address}`);
      session.on("error", () => {});
      await new Promise((resolve, reject) => session.once("connect", resolve).once("error", reject));
      const closed = [];
      for (let i = 0; i < perConnection; i++) {
        const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
        stream.on("error", () => {});
        closed.push(new Promise((resolve) => stream.once("close", resolve)));
        stream.end(frame);
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }
      await Promise.all(closed);
      await new Promise((resolve) => session.close(resolve));
    }),
  );
  return {};
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

parentPort.postMessage(await (kind === "lists" ? lists(workerData) : resetBurst(workerData)));
